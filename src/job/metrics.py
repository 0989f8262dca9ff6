"""The metric code every model family is scored with.

Classification runs are scored on their labels (accuracy, macro F1) and, where the
model gives probabilities, on those too: ROC AUC (binary; one-vs-rest macro average
for multiclass), log loss and the Brier score (scikit-learn's: for multiclass the
mean over rows of the squared distance between the probability vector and the
one-hot truth). Accuracy alone hides differences near the majority rate: a model
that predicts the majority class everywhere can still rank rows well (AUC 0.8).
Regression runs are scored by RMSE, MAE and R² (and MSE).
"""

from __future__ import annotations

import warnings
from typing import Optional

import numpy as np
from sklearn import metrics as skm

MAIN_METRIC = {"regression": "mse", "binary": "accuracy", "multiclass": "accuracy"}
# What the report's verdict compares by default (report --verdict-metric): probabilities
# for classification (TabArena's choice for binary tasks), RMSE for regression.
VERDICT_METRIC = {"regression": "rmse", "binary": "roc_auc", "multiclass": "roc_auc"}
PROBABILITY_METRICS = ("roc_auc", "log_loss", "brier")
# Near-0/1 probabilities are clipped to this before the log loss, so one confident miss is finite.
_EPS = 1e-15


def score(
    task: str,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    prefix: str,
    proba: Optional[np.ndarray] = None,
) -> dict[str, float]:
    """Metrics of one split, named `<prefix>_<metric>` (e.g. test_accuracy, test_roc_auc).

    `proba` is (rows, n_classes) with column k for class k, or None for a model without
    probabilities: its probability metrics are then absent, not zero."""
    if len(y_true) == 0:
        return {}
    if task == "regression":
        mse = skm.mean_squared_error(y_true, y_pred)
        values = {"mse": mse, "rmse": float(np.sqrt(mse)), "mae": skm.mean_absolute_error(y_true, y_pred)}
        if len(y_true) >= 2:
            values["r2"] = skm.r2_score(y_true, y_pred)
    else:
        values = {
            "accuracy": skm.accuracy_score(y_true, y_pred),
            "f1_macro": skm.f1_score(y_true, y_pred, average="macro", zero_division=0),
        }
        if proba is not None:
            values.update(probability_scores(np.asarray(y_true, dtype=np.int64), np.asarray(proba, dtype=float)))
    return {f"{prefix}_{name}": float(value) for name, value in values.items()}


def probability_scores(y_true: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """ROC AUC, log loss and Brier score of class probabilities (column k = class k).

    ROC AUC needs both outcomes among the rows: with a single class present it is left
    out. For multiclass it is the macro average over the classes present, one against
    the rest (a class absent from the rows has no AUC)."""
    n_classes = proba.shape[1]
    labels = np.arange(n_classes)
    clipped = np.clip(proba, _EPS, 1.0)
    clipped /= clipped.sum(axis=1, keepdims=True)
    values = {"log_loss": skm.log_loss(y_true, clipped, labels=labels)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn's notice that the probabilities were renormalised
        values["brier"] = skm.brier_score_loss(y_true, proba[:, 1] if n_classes == 2 else proba, labels=labels)
    present = np.unique(y_true)
    if len(present) >= 2:
        if n_classes == 2:
            values["roc_auc"] = skm.roc_auc_score(y_true, proba[:, 1])
        else:
            per_class = [skm.roc_auc_score(y_true == k, proba[:, k]) for k in present]
            values["roc_auc"] = float(np.mean(per_class))
    return values


def main_metric_name(task: str, fit_only: bool) -> str:
    return f"{'train' if fit_only else 'test'}_{MAIN_METRIC[task]}"
