"""MLPEstimator is a scikit-learn estimator: clone, cross_val_score, Pipeline,
permutation_importance, any labels; and early stopping on the validation loss."""

import numpy as np
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.datasets import load_iris
from sklearn.exceptions import NotFittedError
from sklearn.inspection import permutation_importance
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from src.models.deep import MLPEstimator
from src.models.deep_config import mlp_from_config
from tests.conftest import make_spec

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
NAMES = np.array(["setosa", "versicolor", "virginica"])


def test_clone_of_the_defaults_and_cross_val_score_on_iris():
    default = MLPEstimator()
    assert clone(default).get_params() == default.get_params()
    assert is_classifier(default)  # stratified folds: iris is sorted by class
    scores = cross_val_score(default, X_IRIS, Y_IRIS, cv=3)
    assert scores.mean() >= 0.8


def test_parameters_are_stored_unchanged_and_learned_attributes_end_in_underscore():
    hidden = [8, 4]
    estimator = MLPEstimator(hidden_sizes=hidden, lr=0.01, max_epochs=3)
    assert estimator.hidden_sizes is hidden and estimator.get_params()["lr"] == 0.01
    with pytest.raises(NotFittedError):
        estimator.predict(X_IRIS)
    assert estimator.fit(X_IRIS, Y_IRIS) is estimator
    assert estimator.n_features_in_ == 4 and len(estimator.history_) == estimator.epochs_trained_ == 3
    assert estimator.hidden_sizes is hidden  # fit changes no parameter
    assert clone(estimator).set_params(seed=1).seed == 1 and not hasattr(clone(estimator), "net_")


def test_pipeline_and_permutation_importance():
    pipe = make_pipeline(StandardScaler(), MLPEstimator(max_epochs=40, lr=0.01))
    pipe.fit(X_IRIS, Y_IRIS)
    assert pipe.score(X_IRIS, Y_IRIS) > 0.9
    result = permutation_importance(pipe, X_IRIS, Y_IRIS, n_repeats=3, random_state=0)
    assert result.importances_mean.shape == (4,)
    # The petals separate the species; the sepal width hardly matters.
    assert max(result.importances_mean[2:]) > 0.1 > result.importances_mean[1]


def test_classifiers_take_any_labels():
    y = NAMES[Y_IRIS]
    estimator = MLPEstimator(max_epochs=40, lr=0.01).fit(X_IRIS, y)
    assert list(estimator.classes_) == list(NAMES)
    assert set(estimator.predict(X_IRIS)) <= set(NAMES) and estimator.score(X_IRIS, y) > 0.8
    proba = estimator.predict_proba(X_IRIS)
    assert proba.shape == (150, 3) and np.allclose(proba.sum(1), 1)

    binary = np.where(Y_IRIS == 0, -1, 1)  # setosa or not: one sigmoid unit
    estimator = MLPEstimator(max_epochs=20, lr=0.01).fit(X_IRIS, binary)
    assert estimator.task_ == "binary" and estimator.loss_ == "bce" and estimator.net_[-1].out_features == 1
    assert set(estimator.predict(X_IRIS)) <= {-1, 1} and estimator.score(X_IRIS, binary) > 0.9
    with pytest.raises(ValueError, match="outside classes"):
        MLPEstimator(max_epochs=1).fit(X_IRIS, binary, eval_set=(X_IRIS[:5], np.array([-1, 1, 2, 1, 1])))


def test_regression_is_told_or_read_from_continuous_targets():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=300)
    told = MLPEstimator(task="regression", max_epochs=40, lr=0.01)
    assert is_regressor(told) and not hasattr(told, "predict_proba")
    assert told.fit(X, y).score(X, y) > 0.9
    read = MLPEstimator(max_epochs=2).fit(X, y)
    assert read.task_ == "regression" and read.loss_ == "mse" and read.predict(X).dtype == np.float64


def test_mlp_from_config_maps_the_config_groups_to_parameters():
    cfg = make_spec(
        "model.hidden_sizes=[16,8]",
        "activation=leaky_relu",
        "optimizer=momentum",
        "optimizer.lr=0.05",
        "trainer=cpu",
        "trainer.max_epochs=7",
        "seed=3",
    )
    params = mlp_from_config(cfg, "multiclass", 4).get_params()
    expected = {
        "task": "multiclass",
        "hidden_sizes": (16, 8),
        "activation": "leaky_relu",
        "loss": "cross_entropy",
        "optimizer": "momentum",
        "lr": 0.05,
        "momentum": 0.9,
        "max_epochs": 7,
        "seed": 3,
        "classes": (0, 1, 2, 3),
        "accelerator": "cpu",
    }
    assert {k: params[k] for k in expected} == expected
    assert clone(mlp_from_config(cfg, "regression", 0)).get_params()["classes"] is None


def _noise(n, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 5)).astype(np.float32), rng.integers(0, 2, size=n)


def test_early_stopping_stops_patience_epochs_after_the_best_validation_loss():
    (X, y), (X_val, y_val) = _noise(200, 0), _noise(100, 1)  # nothing to learn: the val loss soon rises
    patience, max_epochs = 3, 200
    estimator = MLPEstimator(lr=0.01, max_epochs=max_epochs, early_stopping_patience=patience)
    estimator.fit(X, y, eval_set=(X_val, y_val))
    val_losses = [row["val_loss"] for row in estimator.history_]
    assert estimator.epochs_trained_ == len(val_losses) < max_epochs
    assert len(val_losses) - 1 == int(np.argmin(val_losses)) + patience
    with pytest.raises(ValueError, match="validation split"):
        MLPEstimator(early_stopping_patience=2).fit(X, y)


# scikit-learn's checks test these too, but for the MLP within checks that are
# expected to fail on their score (test_estimator_checks.py): tested here alone.
@pytest.mark.parametrize(
    "task, X, y, message",
    [
        ("auto", X_IRIS, Y_IRIS[:-1], "inconsistent numbers of samples"),
        ("regression", X_IRIS, Y_IRIS[:-1], "inconsistent numbers of samples"),
        ("auto", X_IRIS, np.zeros(len(X_IRIS), dtype=int), "at least 2 classes"),
        ("multiclass", X_IRIS, np.linspace(0, 1, len(X_IRIS)), "Unknown label type"),
    ],
    ids=["lengths", "lengths-regression", "one-class", "continuous-target-to-a-classifier"],
)
def test_bad_training_targets_are_refused_before_training(task, X, y, message):
    with pytest.raises(ValueError, match=message):
        MLPEstimator(task=task, max_epochs=1).fit(X, y)
