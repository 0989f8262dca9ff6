"""Classical baselines: scikit-learn estimators behind the same interface as the MLP.

Each `model=` option names one family, with a classifier and/or a regressor;
the dataset's task picks which. The hyperparameters are scikit-learn's own
names, copied from the typed config (src/config.py) with `random_state` set
from `seed` wherever the estimator has one.

The estimator receives exactly what the MLP receives -- the preprocessed
float32 features of the shared split and, for regression, the standardized
target (the runner maps predictions back) -- so it does no preprocessing of
its own. It is fit on the training split only; the validation split is used
only where the model stops early on it (gradient_boosting.early_stopping).

Validating a config needs only the task table below: scikit-learn's estimator
modules are imported when a model is built, and nothing here imports torch.
"""

from __future__ import annotations

import importlib
import inspect
from enum import Enum
from typing import Any, Optional

import numpy as np

from src.errors import ConfigError, DataError

REGRESSION, BINARY, MULTICLASS = "regression", "binary", "multiclass"

# option -> (classifier, regressor) as "module:Class"; None where scikit-learn has none.
ESTIMATORS: dict[str, tuple[Optional[str], Optional[str]]] = {
    "linear_regression": (None, "sklearn.linear_model:LinearRegression"),
    "ridge": ("sklearn.linear_model:RidgeClassifier", "sklearn.linear_model:Ridge"),
    "logistic_regression": ("sklearn.linear_model:LogisticRegression", None),
    "svm": ("sklearn.svm:SVC", "sklearn.svm:SVR"),
    "linear_svm": ("sklearn.svm:LinearSVC", "sklearn.svm:LinearSVR"),
    "decision_tree": ("sklearn.tree:DecisionTreeClassifier", "sklearn.tree:DecisionTreeRegressor"),
    "random_forest": ("sklearn.ensemble:RandomForestClassifier", "sklearn.ensemble:RandomForestRegressor"),
    "gradient_boosting": (
        "sklearn.ensemble:HistGradientBoostingClassifier",
        "sklearn.ensemble:HistGradientBoostingRegressor",
    ),
    "knn": ("sklearn.neighbors:KNeighborsClassifier", "sklearn.neighbors:KNeighborsRegressor"),
    "naive_bayes": ("sklearn.naive_bayes:GaussianNB", None),
    "perceptron": ("sklearn.linear_model:Perceptron", None),
    "sklearn_mlp": ("sklearn.neural_network:MLPClassifier", "sklearn.neural_network:MLPRegressor"),
}
CLASSICAL_MODELS = tuple(ESTIMATORS)
DEEP_MODELS = ("mlp",)  # the deep family does every task


def tasks_of(model: str) -> tuple[str, ...]:
    """The tasks a model option can do."""
    if model in DEEP_MODELS:
        return (REGRESSION, BINARY, MULTICLASS)
    classifier, regressor = ESTIMATORS[model]
    return ((REGRESSION,) if regressor else ()) + ((BINARY, MULTICLASS) if classifier else ())


def models_for(task: str) -> list[str]:
    return [m for m in DEEP_MODELS + CLASSICAL_MODELS if task in tasks_of(m)]


def check_task(model: str, task: str) -> None:
    """ConfigError naming the models that can, if `model` cannot do `task`.

    A task not known yet ('auto': inferred from a table's target) passes; the
    runner checks again with the loaded dataset's task before fitting."""
    if task not in (REGRESSION, BINARY, MULTICLASS) or model not in DEEP_MODELS + CLASSICAL_MODELS:
        return
    if task not in tasks_of(model):
        raise ConfigError(f"model={model} cannot do a {task} task; models that can: {', '.join(models_for(task))}")


def _load(path: str) -> type:
    module, cls = path.split(":")
    return getattr(importlib.import_module(module), cls)


def _value(value: Any) -> Any:
    """A config value as scikit-learn takes it (enums -> str, lists -> tuples)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple)) or type(value).__name__ == "ListConfig":
        return tuple(_value(v) for v in value)
    return value


def build_classical(model_cfg: Any, task: str, seed: int) -> ClassicalEstimator:
    """The scikit-learn estimator (unfitted) for this option and task."""
    name = str(model_cfg.name)
    if name not in ESTIMATORS:
        raise ValueError(f"unknown classical model '{name}'")
    check_task(name, task)
    classifier, regressor = ESTIMATORS[name]
    cls = _load(regressor if task == REGRESSION else classifier)
    accepted = inspect.signature(cls).parameters
    kwargs = {k: _value(v) for k, v in model_cfg.items() if k in accepted and k not in ("name", "family")}
    if "batch_size" in kwargs and kwargs["batch_size"] is None:
        kwargs["batch_size"] = "auto"
    if "random_state" in accepted:
        kwargs["random_state"] = seed
    return ClassicalEstimator(name, cls(**kwargs), task)


def count_parameters(model: Any) -> Optional[int]:
    """What `n_params` counts for a fitted scikit-learn model (None: undefined).

    - linear models (linear/ridge/logistic regression, linear SVM, perceptron):
      coefficients + intercepts;
    - kernel SVM: support vectors x features + dual coefficients + intercepts,
      the numbers its decision function is computed from;
    - decision tree: its nodes; random forest and gradient boosting: the
      nodes of all their trees;
    - Gaussian naive Bayes: class means + variances + priors;
    - scikit-learn's MLP: weights + biases, as for model=mlp;
    - k nearest neighbours: undefined -- it keeps the training set and
      learns no parameters.
    """
    if hasattr(model, "tree_"):
        return int(model.tree_.node_count)
    trees = list(getattr(model, "estimators_", []))  # random forest
    if trees and all(hasattr(t, "tree_") for t in trees):
        return int(sum(t.tree_.node_count for t in trees))
    predictors = getattr(model, "_predictors", None)  # HistGradientBoosting: [round][class] -> tree
    if predictors is not None:
        return int(sum(len(tree.nodes) for round_ in predictors for tree in round_))
    if hasattr(model, "coefs_"):
        return int(sum(w.size for w in model.coefs_) + sum(b.size for b in model.intercepts_))
    if hasattr(model, "support_vectors_"):
        return int(model.support_vectors_.size + model.dual_coef_.size + np.size(model.intercept_))
    if hasattr(model, "theta_"):
        return int(model.theta_.size + model.var_.size + model.class_prior_.size)
    coef = getattr(model, "coef_", None)
    if coef is not None:
        return int(np.size(coef) + np.size(getattr(model, "intercept_", 0)))
    return None


class ClassicalEstimator:
    """A scikit-learn estimator with the runner's fit(X, y, X_val, y_val) interface."""

    family = "classical"

    def __init__(self, name: str, estimator: Any, task: str):
        self.name = name
        self.estimator = estimator
        self.task = task

    def fit(self, X: np.ndarray, y: np.ndarray, X_val=None, y_val=None) -> ClassicalEstimator:
        from sklearn.base import clone

        model = clone(self.estimator)
        n_neighbors = getattr(model, "n_neighbors", None)
        if n_neighbors is not None and n_neighbors > len(X):
            raise DataError(
                f"model={self.name} with n_neighbors={n_neighbors} needs at least that many training rows; "
                f"the training split has {len(X)}: lower model.n_neighbors"
            )
        fit_params = {}
        has_val = X_val is not None and len(X_val) > 0
        if getattr(model, "early_stopping", None) is True and "X_val" in inspect.signature(model.fit).parameters:
            if not has_val:
                raise DataError(f"model={self.name} early_stopping needs a validation split; set dataset.val_size > 0")
            fit_params = {"X_val": X_val, "y_val": y_val}
        self.estimator_ = model.fit(X, y, **fit_params)
        self.n_features_in_ = X.shape[1]
        self.n_params_ = count_parameters(self.estimator_)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.estimator_.predict(X)

    # Present only when the fitted model has them (AttributeError otherwise, as
    # scikit-learn does), so hasattr(estimator, "predict_proba") tells.
    @property
    def predict_proba(self):
        return self.estimator_.predict_proba

    @property
    def decision_function(self):
        return self.estimator_.decision_function

    def learned_weights(self) -> Optional[dict[str, float]]:
        """w_1..w_n and b of a single-output linear model, named as model=mlp's
        single neuron logs them (on the preprocessed features' scale)."""
        coef = getattr(self.estimator_, "coef_", None)
        intercept = getattr(self.estimator_, "intercept_", None)
        if coef is None or intercept is None:  # (a kernel SVM has coef_ only with kernel=linear)
            return None
        coef = np.asarray(coef, dtype=np.float64)
        if coef.ndim == 2 and coef.shape[0] != 1:
            return None
        weights = {f"weight_{i + 1}": float(w) for i, w in enumerate(coef.ravel())}
        weights["bias"] = float(np.ravel(intercept)[0])
        return weights
