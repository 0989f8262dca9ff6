"""Classical baselines: scikit-learn estimators behind the same interface as the MLP.

Each scikit-learn `model=` option wraps a classifier and/or a regressor
(src/models/registry.py); the dataset's task picks which. The hyperparameters
are scikit-learn's own names, copied from the typed config
(src/config/models.py) with `random_state` set from `seed` wherever the
estimator has one.

The estimator receives exactly what the MLP receives -- the preprocessed
float32 features of the shared split and, for regression, the standardized
target (the runner maps predictions back) -- so it does no preprocessing of
its own. It is fit on the training split only; the validation split is used
only where the model stops early on it (gradient_boosting.early_stopping, and
the gradient-boosting libraries of src/models/boosting.py), and the model kept
is the one of the best validation round, not the last.

Categorical columns arrive one-hot (or ordinal) encoded, except for an option
the registry marks `native_categorical` (here: gradient_boosting): it gets
them as integer codes and hands their indices to scikit-learn's
`categorical_features`.

Nothing here imports torch; the libraries' estimator modules are imported
when a model is built.
"""

from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import ClassifierTags, RegressorTags, Tags, get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from src.data.types import Task
from src.errors import DataError
from src.models.contract import EvalSet, split_eval_set, task_score
from src.models.registry import arguments_by_name, spec_of

if TYPE_CHECKING:
    from src.config.spec import RunSpec

log = logging.getLogger(__name__)


def from_config(
    cfg: RunSpec, task: str, n_classes: int, categorical_features: tuple[int, ...] = ()
) -> ClassicalEstimator:
    """The registry's builder for scikit-learn options: the classifier or the
    regressor of the option's pair (unfitted), with the schema's fields that
    its constructor takes and `random_state` from `seed` where it has one;
    `categorical_features`: the columns of native categorical codes."""
    spec = spec_of(str(cfg.model.name))
    cls = spec.estimator_class(task)
    accepted = inspect.signature(cls).parameters
    kwargs = arguments_by_name(cls, cfg.model)
    if "batch_size" in kwargs and kwargs["batch_size"] is None:
        kwargs["batch_size"] = "auto"
    if "random_state" in accepted:
        kwargs["random_state"] = cfg.seed
    return ClassicalEstimator(spec.name, cls(**kwargs), task, categorical_features)


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
    - the constant baseline (dummy): the class frequencies, or the one mean;
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
    if hasattr(model, "class_prior_"):  # DummyClassifier
        return int(np.size(model.class_prior_))
    if hasattr(model, "constant_"):  # DummyRegressor
        return int(np.size(model.constant_))
    return None


class TrainingDataError(DataError, ValueError):
    """The training rows cannot train this model (too few rows, one class):
    a DataError to the command line (one line, exit 2), and the ValueError
    scikit-learn's conventions expect from `fit`."""


def _has_learned(method: str) -> Callable[[ClassicalEstimator], bool]:
    """For `available_if`: whether the wrapped model (fitted, else unfitted) has `method`."""

    def check(self: ClassicalEstimator) -> bool:
        return hasattr(getattr(self, "estimator_", self.estimator), method)

    return check


class ClassicalEstimator(BaseEstimator):
    """A library's estimator behind the runner's contract (src/models/contract.py).

    A scikit-learn estimator itself: the parameters are stored unchanged, the
    library's model (`estimator`) is cloned by `fit` and the fitted copy is
    `estimator_`. A classifier encodes its labels (`classes_`) before the
    library sees them, as scikit-learn's own classifiers do, since XGBoost
    takes only 0..k-1; on the runner's targets, already 0..k-1, the encoding
    is the identity."""

    # Packages beyond scikit-learn that loading the pickled model needs.
    requirements: tuple[str, ...] = ()

    def __init__(self, name: str, estimator: Any, task: str, categorical_features: Sequence[int] = ()):
        self.name = name
        self.estimator = estimator
        self.task = task
        self.categorical_features = categorical_features

    def _classifies(self) -> bool:
        return self.task != Task.regression

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self._allows_nan()
        # poor_score: the constant baseline's score is no better than chance, by design.
        inner = get_tags(self.estimator) if hasattr(self.estimator, "__sklearn_tags__") else None
        if self._classifies():
            poor = bool(inner and inner.classifier_tags and inner.classifier_tags.poor_score)
            tags.estimator_type, tags.classifier_tags = "classifier", ClassifierTags(poor_score=poor)
        else:
            poor = bool(inner and inner.regressor_tags and inner.regressor_tags.poor_score)
            tags.estimator_type, tags.regressor_tags = "regressor", RegressorTags(poor_score=poor)
        tags.target_tags.required = True
        return tags

    def _allows_nan(self) -> bool:
        """Whether the library's model takes NaN (a native categorical column
        has NaN for a category not seen in training); the others are refused
        NaN here, in scikit-learn's words."""
        return get_tags(self.estimator).input_tags.allow_nan

    def fit(self, X: Any, y: Any, *, eval_set: EvalSet = None) -> ClassicalEstimator:
        """Fit a clone of `estimator` on (X, y); `eval_set` (X_val, y_val) is
        used only by a model that stops early on it."""
        from sklearn.base import clone

        self.history_: list[dict[str, float]] = []  # no epochs
        self.best_iteration_: Optional[int] = None
        self.best_epoch_: Optional[int] = None
        self.epochs_trained_: Optional[int] = None
        self.train_device_ = "cpu"
        X, y = validate_data(self, X, y, ensure_all_finite=not self._allows_nan())
        X_val, y_val = split_eval_set(eval_set)
        if X_val is not None:
            X_val = validate_data(self, X_val, ensure_all_finite=not self._allows_nan(), reset=False)
        if self._classifies():
            check_classification_targets(y)
            self.classes_, y = np.unique(y, return_inverse=True)
            if y_val is not None:
                # A small training subset may lack a class the validation rows hold: early stopping
                # cannot score a class the model does not know, so those rows sit it out.
                known = np.isin(np.asarray(y_val), self.classes_)
                X_val, y_val = X_val[known], self._codes(np.asarray(y_val)[known])
        model = clone(self.estimator)
        n_neighbors = getattr(model, "n_neighbors", None)
        if n_neighbors is not None and n_neighbors > len(X):
            raise TrainingDataError(
                f"model={self.name} with n_neighbors={n_neighbors} needs at least that many training rows; "
                f"the training split has n_samples = {len(X)}: lower model.n_neighbors"
            )
        self.estimator_ = self._fit(model, X, y, X_val, y_val)
        self.n_params_ = self._count_parameters(self.estimator_)
        return self

    def _codes(self, y: Any) -> np.ndarray:
        """Labels as indices into `classes_`; ValueError for a label not among them."""
        y = np.asarray(y)
        codes = np.searchsorted(self.classes_, y).clip(0, len(self.classes_) - 1)
        if not np.array_equal(self.classes_[codes], y):
            raise ValueError(f"y holds labels outside classes {list(self.classes_)}")
        return codes

    def _fit(self, model: Any, X: np.ndarray, y: np.ndarray, X_val, y_val) -> Any:
        """Fit `model` (a fresh clone); where it stops early on the validation
        split, keep the best round and set `best_iteration_` (rounds kept)."""
        from sklearn.base import clone

        if len(self.categorical_features):
            model.set_params(categorical_features=self._histogram_categorical_mask(X, model.max_bins))
        if not (getattr(model, "early_stopping", None) is True and "X_val" in inspect.signature(model.fit).parameters):
            return model.fit(X, y)
        self._require_validation(X_val, "model.early_stopping=false")
        model.fit(X, y, X_val=X_val, y_val=y_val)
        # HistGradientBoosting stops n_iter_no_change rounds after the best and
        # keeps them all; validation_score_[0] is the score before any tree.
        best = max(1, int(np.argmax(model.validation_score_)))
        if best < model.n_iter_:
            # Refit with exactly the best number of rounds: on the same data and
            # seed the first rounds are the same trees (a test checks this).
            model = clone(model).set_params(max_iter=best, early_stopping=False).fit(X, y)
        self.best_iteration_ = int(model.n_iter_)
        return model

    def _histogram_categorical_mask(self, X: np.ndarray, max_bins: int) -> np.ndarray:
        """HistGradientBoosting's `categorical_features`: the code columns, but
        for those with more categories than its bins, which stay ordinal codes."""
        mask = np.zeros(X.shape[1], dtype=bool)
        for j in tuple(self.categorical_features):
            n_categories = int(np.nanmax(X[:, j], initial=-1)) + 1
            if n_categories <= max_bins:
                mask[j] = True
            else:
                log.warning(
                    "model=%s: categorical column %d has %d categories, more than max_bins=%d; it is split "
                    "on as ordinal codes (dataset.max_categories=%d would keep it categorical)",
                    self.name, j, n_categories, max_bins, max_bins,
                )  # fmt: skip
        return mask

    def _require_validation(self, X_val, turn_off: str) -> None:
        if X_val is None or len(X_val) == 0:
            raise DataError(
                f"model={self.name} stops early on the validation split, and this run has none: "
                f"set dataset.val_size > 0, or {turn_off} to train every round"
            )

    def _count_parameters(self, fitted: Any) -> Optional[int]:
        return count_parameters(fitted)

    def _rows(self, X: Any) -> Any:
        check_is_fitted(self, "estimator_")
        return validate_data(self, X, ensure_all_finite=not self._allows_nan(), reset=False)

    def predict(self, X: Any) -> np.ndarray:
        # np.ravel: CatBoost's multiclass classifier answers one column, (n, 1).
        rows = self._rows(X)  # first: NotFittedError before estimator_ is read
        predicted = np.ravel(self.estimator_.predict(rows))
        return self.classes_[predicted.astype(np.intp)] if self._classifies() else predicted

    # Present only where the library's model has them (as scikit-learn's
    # available_if does), so hasattr(estimator, "predict_proba") tells.
    @available_if(_has_learned("predict_proba"))
    def predict_proba(self, X: Any) -> np.ndarray:
        rows = self._rows(X)
        return self.estimator_.predict_proba(rows)

    @available_if(_has_learned("decision_function"))
    def decision_function(self, X: Any) -> np.ndarray:
        rows = self._rows(X)
        return self.estimator_.decision_function(rows)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        return task_score(self._classifies(), y, self.predict(X), sample_weight)

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
