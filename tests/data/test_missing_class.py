"""XGBoost on a training subset that lacks one of the dataset's classes
(issue 23, item 11): it fits, predicts in the dataset's class indices and
gives a probability column per class of the dataset."""

import numpy as np

from src.job.artifacts import class_probabilities
from src.models import build_estimator
from tests.conftest import make_spec


def test_xgboost_fits_when_a_middle_class_is_missing_from_the_training_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3)).astype(np.float32)
    y = np.repeat([0, 2, 3], 30)  # the dataset has classes 0..3; 1 is not among these rows
    X[:, 0] += y
    X_val, y_val = X[::3] + 0.01, y[::3].copy()
    y_val[:2] = 1  # a class the training rows lack, in the validation rows early stopping scores
    cfg = make_spec("model=xgboost", "model.n_estimators=20", "trainer.cpu_threads=1")
    estimator = build_estimator(cfg, "multiclass", 4).fit(X, y, eval_set=(X_val, y_val))

    predicted = estimator.predict(X)
    assert set(np.unique(predicted)) <= {0, 2, 3} and (predicted == y).mean() > 0.9
    proba = class_probabilities(estimator, X, 4)
    assert proba.shape == (90, 4) and np.allclose(proba[:, 1], 0) and np.allclose(proba.sum(axis=1), 1)


def test_xgboost_on_training_rows_of_a_single_class_fails_in_one_line_saying_why():
    import pytest

    from src.errors import DataError, one_line

    X = np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32)
    cfg = make_spec("model=xgboost", "model.early_stopping_rounds=null", "trainer.cpu_threads=1")
    with pytest.raises(DataError) as caught:
        build_estimator(cfg, "binary", 2).fit(X, np.ones(20, dtype=np.int64))
    assert "single class" in one_line(caught.value) and "dataset.train_size" in one_line(caught.value)
