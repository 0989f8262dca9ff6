"""The estimator contract: what the runner (src/job/runner.py) needs of a model.

Every registered option builds an estimator of this shape, deep or classical,
and every one is a scikit-learn estimator besides (tests/models/
test_estimator_checks.py runs scikit-learn's own checks on each): `fit`
returns self, what is learned ends in `_`, the constructor stores its
parameters unchanged, so `clone`, `get_params` and `set_params` work.

A classifier that has class probabilities has `predict_proba`; one that has
none (a margin SVM, the perceptron) has no such attribute at all, so that
`hasattr(estimator, "predict_proba")` tells, before and after fitting.
"""

from __future__ import annotations

from typing import Any, Optional, Protocol, Sequence, runtime_checkable

import numpy as np

EvalSet = Optional[tuple[Any, Any]]  # (X_val, y_val): the run's validation split


@runtime_checkable
class Estimator(Protocol):
    """A model as the runner fits, scores and records it."""

    # Set by every fit (before anything in it can fail, so that the epochs of
    # a failed fit are still recorded):
    history_: Sequence[dict[str, float]]  # per-epoch metrics; empty for a model without epochs
    # Set by every successful fit:
    n_params_: Optional[int]  # learned numbers; None where undefined (k nearest neighbours)
    best_iteration_: Optional[int]  # boosting rounds kept after early stopping; None: no early stop
    best_epoch_: Optional[int]  # the epoch restore-best kept; None: the last, or no epochs
    epochs_trained_: Optional[int]  # epochs run; None for a model without epochs
    train_device_: Any  # where it trained: a torch.device for a deep model, "cpu" for a classical one

    def fit(self, X: Any, y: Any, *, eval_set: EvalSet = None) -> Estimator:
        """Train on (X, y); `eval_set` is the validation split, for the models
        that watch it (early stopping, restore-best) and ignored by the others."""
        ...

    def predict(self, X: Any) -> np.ndarray: ...

    def learned_weights(self) -> Optional[dict[str, float]]:
        """w_1..w_n and b of a single-output linear model; None for any other."""
        ...


def split_eval_set(eval_set: EvalSet) -> tuple[Any, Any]:
    """(X_val, y_val) of `eval_set`, (None, None) without one; an empty
    validation split counts as none."""
    if eval_set is None:
        return None, None
    X_val, y_val = eval_set
    if X_val is None or len(X_val) == 0:
        return None, None
    return X_val, y_val


def task_score(classifies: bool, y: Any, predicted: Any, sample_weight: Any = None) -> float:
    """`score` as scikit-learn's mixins define it: accuracy for a classifier, R^2 for a regressor."""
    from sklearn.metrics import accuracy_score, r2_score

    metric = accuracy_score if classifies else r2_score
    return float(metric(y, predicted, sample_weight=sample_weight))
