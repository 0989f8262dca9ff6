"""What each split is for, checked on a real run: early stopping watches the validation rows
only, the selection rows are scored and never trained on or watched, and the test fold is in
none of the model's inner splits."""

import numpy as np
import pytest

import src.job.runner as runner
from src.job.metrics import score
from tests.conftest import make_spec, runs_of


def _spy(monkeypatch):
    seen = {}
    real_prepare, real_build = runner.prepare, runner.build_estimator

    def prepare(dataset, split, *args, **kwargs):
        data = real_prepare(dataset, split, *args, **kwargs)
        seen.update(split=split, data=data)
        return data

    def build_estimator(*args, **kwargs):
        estimator = real_build(*args, **kwargs)
        fit = estimator.fit

        def watched_fit(X, y, *rest, **named):
            eval_set = named.get("eval_set") or (tuple(rest[:2]) if rest else None)
            seen.update(fit_X=X, eval_set=eval_set)
            return fit(X, y, *rest, **named)

        estimator.fit = watched_fit
        seen["estimator"] = estimator
        return estimator

    monkeypatch.setattr(runner, "prepare", prepare)
    monkeypatch.setattr(runner, "build_estimator", build_estimator)
    return seen


@pytest.mark.parametrize("seed", [0, 3])
def test_early_stopping_never_sees_the_selection_rows_and_the_test_fold_is_in_no_inner_split(
    seed, monkeypatch, mlflow_client
):
    seen = _spy(monkeypatch)
    runner.run(
        make_spec(
            "model=lightgbm", "dataset=breast_cancer", "dataset.cv_folds=5", "dataset.select_size=0.2", f"seed={seed}"
        )
    )
    split, data, estimator = seen["split"], seen["data"], seen["estimator"]
    test = set(split.test)
    assert not test & (set(split.train) | set(split.val) | set(split.select))
    assert not set(split.select) & (set(split.train) | set(split.val))
    # What the estimator trained on and what its early stopping watched: exactly the train and validation rows.
    assert np.array_equal(seen["fit_X"], data.X_train)
    X_watched, _ = seen["eval_set"]
    assert np.array_equal(X_watched, data.X_val) and len(data.X_select) == len(split.select) > 0
    # The selection metrics are the model's scores on the selection rows, and they are logged.
    (record,) = runs_of(mlflow_client)
    proba = estimator.predict_proba(data.X_select)
    expected = score("binary", data.y_select, estimator.predict(data.X_select), "select", proba)
    for name in ("select_roc_auc", "select_log_loss", "select_brier", "select_accuracy"):
        assert record.data.metrics[name] == pytest.approx(expected[name])
    params = record.data.params
    assert (
        params["test_set"] == "cv" and params["cv_fold"] == str(seed) and params["n_select"] == str(len(split.select))
    )
    for name in ("test_roc_auc", "test_log_loss", "test_brier", "final_val_roc_auc"):
        assert name in record.data.metrics
