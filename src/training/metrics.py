"""The metric code every model family is scored with."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

MAIN_METRIC = {"regression": "mse", "binary": "accuracy", "multiclass": "accuracy"}


def score(task: str, y_true: np.ndarray, y_pred: np.ndarray, prefix: str) -> dict[str, float]:
    """Metrics of one split, named `<prefix>_<metric>` (e.g. test_accuracy)."""
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
    return {f"{prefix}_{name}": float(value) for name, value in values.items()}


def main_metric_name(task: str, fit_only: bool) -> str:
    return f"{'train' if fit_only else 'test'}_{MAIN_METRIC[task]}"
