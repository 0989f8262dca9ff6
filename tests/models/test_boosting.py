"""The gradient-boosting libraries and the constant baseline: through the
runner on a real table, early stopping that keeps the best round, the seed,
the thread budget, and imports limited to the model that runs."""

import subprocess
import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from src.data import load_dataset, make_split, prepare
from src.errors import DataError
from src.job.runner import run
from src.models import build_estimator
from tests.conftest import ROOT, make_spec, runs_of

HAPPINESS = ("dataset=happiness", "dataset.train_size=2048")
GBDTS = ("xgboost", "lightgbm", "catboost")
_prepared: list = []


def _happiness():
    """The runner's data path for the first seed: 2,048 training rows."""
    if not _prepared:
        cfg = make_spec(*HAPPINESS)
        dataset = load_dataset(cfg.dataset)
        split = make_split(
            dataset, seed=0, test_size=cfg.dataset.test_size, val_size=cfg.dataset.val_size, train_size=2048
        )
        _prepared.append((dataset, prepare(dataset, split, standardize=True)))
    return _prepared[0]


def _fit(name, *overrides):
    dataset, data = _happiness()
    estimator = build_estimator(make_spec(f"model={name}", *HAPPINESS, *overrides), dataset.task, dataset.n_classes)
    with threadpool_limits(1):
        return estimator.fit(data.X_train, data.y_train, eval_set=(data.X_val, data.y_val))


def test_each_gbdt_runs_on_happiness_and_is_at_least_as_accurate_as_the_constant(mlflow_client):
    results = {name: run(make_spec(f"model={name}", *HAPPINESS)) for name in (*GBDTS, "dummy")}
    records = {r.data.tags["model"]: r for r in runs_of(mlflow_client)}
    assert set(records) == set(results) and all(r.info.status == "FINISHED" for r in records.values())
    assert len({r.data.params["split_digest"] for r in records.values()}) == 1  # one split for all four
    assert {r.data.tags["model_family"] for r in records.values()} == {"classical"}
    accuracy = {name: result.metrics["test_accuracy"] for name, result in results.items()}
    majority = accuracy["dummy"]
    assert 0.6 < majority < 0.8  # about 0.69 of the answers are "pretty happy"
    # Within noise: two standard errors of an accuracy on this test split.
    noise = 2 * np.sqrt(majority * (1 - majority) / int(records["dummy"].data.params["n_test"]))
    for name in GBDTS:
        assert accuracy[name] >= majority - noise, (name, accuracy)


@pytest.mark.parametrize("name", GBDTS)
def test_early_stopping_keeps_the_best_round_not_the_last(name):
    dataset, data = _happiness()
    most = 300
    rounds = "model.iterations" if name == "catboost" else "model.n_estimators"
    # A fast learning rate overfits 2,048 noisy rows within a few rounds.
    stopped = _fit(name, f"{rounds}={most}", "model.learning_rate=0.3", "model.early_stopping_rounds=20")
    best = stopped.best_iteration_
    assert 1 <= best < most - 20
    model = stopped.estimator_
    if name == "xgboost":
        kept = model.predict_proba(data.X_test, iteration_range=(0, best))
        last = model.predict_proba(data.X_test, iteration_range=(0, model.get_booster().num_boosted_rounds()))
    elif name == "lightgbm":  # its booster is cut back to the best round
        assert model.booster_.current_iteration() == best
        kept = last = None
    else:  # use_best_model drops the rounds after the best
        assert model.tree_count_ == best
        kept = last = None
    if kept is not None:
        np.testing.assert_array_equal(stopped.predict_proba(data.X_test), kept)
        assert not np.array_equal(kept, last)  # the rounds after the best were trained, and are not used


def test_histogram_gradient_boosting_keeps_its_best_round_too():
    dataset, data = _happiness()
    stopped = _fit("gradient_boosting", "model.early_stopping=true", "model.max_iter=300", "model.learning_rate=0.3")
    from sklearn.ensemble import HistGradientBoostingClassifier

    reference = HistGradientBoostingClassifier(early_stopping=True, max_iter=300, learning_rate=0.3, random_state=0)
    reference.fit(data.X_train, data.y_train, X_val=data.X_val, y_val=data.y_val)
    best = stopped.best_iteration_
    assert best == np.argmax(reference.validation_score_) < reference.n_iter_  # it ran past the best
    assert stopped.estimator_.n_iter_ == best
    staged = list(reference.staged_predict_proba(data.X_test))
    np.testing.assert_array_equal(stopped.predict_proba(data.X_test), staged[best - 1])


@pytest.mark.parametrize("name", GBDTS)
def test_the_seed_decides_the_model(name):
    dataset, data = _happiness()
    # Row and column subsampling, so that the seed matters.
    sampled = {
        "xgboost": ("model.subsample=0.7", "model.colsample_bytree=0.7"),
        "lightgbm": ("model.subsample=0.7", "model.subsample_freq=1", "model.colsample_bytree=0.7"),
        "catboost": ("model.bagging_temperature=1.0", "model.random_strength=2.0"),
    }[name]

    def probabilities(seed):
        return _fit(name, f"seed={seed}", *sampled).predict_proba(data.X_test)

    np.testing.assert_array_equal(probabilities(0), probabilities(0))
    assert not np.array_equal(probabilities(0), probabilities(1))


def test_threads_come_from_the_trainer_budget():
    def threads(name, budget):
        estimator = build_estimator(make_spec(f"model={name}", f"trainer.cpu_threads={budget}"), "binary", 2)
        params = estimator.estimator.get_params()
        # CatBoost leaves out parameters at its default (thread_count=-1: every core).
        return params.get("thread_count", -1) if name == "catboost" else params["n_jobs"]

    assert [threads(name, 3) for name in GBDTS] == [3, 3, 3]
    assert [threads(name, "null") for name in GBDTS] == [None, None, -1]  # every core


def test_early_stopping_without_a_validation_split_says_how_to_go_on():
    dataset, data = _happiness()
    estimator = build_estimator(make_spec("model=lightgbm"), dataset.task, dataset.n_classes)
    with pytest.raises(DataError, match="model.early_stopping_rounds=null"):
        estimator.fit(data.X_train, data.y_train, eval_set=(data.X_val[:0], data.y_val[:0]))
    off = build_estimator(make_spec("model=lightgbm", "model.early_stopping_rounds=null", "model.n_estimators=5"),
                          dataset.task, dataset.n_classes)  # fmt: skip
    assert off.fit(data.X_train, data.y_train).best_iteration_ is None


def test_a_lightgbm_run_imports_neither_torch_lightning_nor_the_other_libraries(tmp_path):
    code = (
        "import sys\n"
        "from tests.conftest import make_spec\n"
        "from src.job.runner import run\n"
        "run(make_spec('model=lightgbm', 'dataset=happiness', 'dataset.train_size=512'))\n"
        "loaded = {'torch', 'pytorch_lightning', 'lightning', 'xgboost', 'catboost', 'lightgbm'} & set(sys.modules)\n"
        "print(sorted(loaded))\n"
    )
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "['lightgbm']"
