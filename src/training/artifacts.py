"""A run's own artifacts: config.yaml, the classification report, and with
tracking.plots the per-run pictures (loss curves, confusion matrix, fitted
curve, decision regions), with tracking.log_importance the feature importance."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import numpy as np
from omegaconf import DictConfig

from src.data import Dataset, PreparedData, Split
from src.data.types import Task
from src.tracking.record import Artifact


class _NoPlots:
    """Stands in for src.training.pictures when tracking.plots=false: draws nothing."""

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: None


def to_target_units(data: PreparedData, y: np.ndarray) -> np.ndarray:
    """Predictions or targets back in the target's own units (regression targets are scaled)."""
    return data.target_scaler.inverse_transform(y) if data.target_scaler is not None else y


def _raw_predictor(data: PreparedData, dataset: Dataset, estimator: Any):
    """Predictions from raw feature values, in the target's units (for plots)."""
    import pandas as pd

    def predict(X_raw: np.ndarray) -> np.ndarray:
        frame = pd.DataFrame(X_raw, columns=dataset.X.columns)
        X = data.preprocessor.transform(frame).astype(np.float32)
        return to_target_units(data, estimator.predict(X))

    return predict


def write_artifacts(
    out: Path,
    cfg: DictConfig,
    config_yaml: str,
    title: str,
    dataset: Dataset,
    split: Split,
    data: PreparedData,
    estimator: Any,
    history: list[dict[str, float]],
    y_true: np.ndarray,
    y_pred: np.ndarray,
    evaluated_split: str,
) -> None:
    from sklearn import metrics as skm

    from src.training import pictures as plots

    (out / Artifact.CONFIG).write_text(config_yaml)

    def save(fig: Optional[Any], filename: str) -> None:
        if fig is not None:
            fig.savefig(out / filename, dpi=80, pil_kwargs={"compress_level": 1})

    if not cfg.tracking.plots:
        plots = _NoPlots()  # the text artifacts are still written

    save(plots.loss_curves(history, title), Artifact.LOSS_CURVES)
    if cfg.tracking.get("log_importance"):  # the interpretability study
        from src.training.importance import write_importance

        write_importance(out, estimator, dataset, split, data, title, seed=cfg.seed)
    if dataset.task == Task.regression:
        save(plots.predicted_vs_true(y_true, y_pred, title, evaluated_split), Artifact.PREDICTED_VS_TRUE)
    else:
        labels = np.arange(dataset.n_classes)
        cm = skm.confusion_matrix(y_true, y_pred, labels=labels)
        save(plots.confusion_matrix_figure(cm, dataset.class_names, title), Artifact.CONFUSION_MATRIX)
        report = skm.classification_report(
            y_true, y_pred, labels=labels, target_names=dataset.class_names, zero_division=0
        )
        (out / Artifact.CLASSIFICATION_REPORT).write_text(report)

    numeric = dataset.X.select_dtypes("number")
    if numeric.shape[1] != dataset.X.shape[1] or dataset.X.shape[1] not in (1, 2):
        return
    X_raw, y_raw = dataset.X.to_numpy(dtype=np.float64), dataset.y
    panels = [("train", X_raw[split.train], y_raw[split.train])]
    if len(split.test):
        panels.append(("test", X_raw[split.test], y_raw[split.test]))
    predict = _raw_predictor(data, dataset, estimator)
    if dataset.X.shape[1] == 1 and dataset.task == Task.regression:
        save(plots.fitted_curve(predict, [(s, x[:, 0], y) for s, x, y in panels], title), Artifact.FITTED_CURVE)
    elif dataset.X.shape[1] == 2 and dataset.task != Task.regression:
        save(plots.decision_regions(predict, panels, dataset.class_names, title), Artifact.DECISION_REGIONS)
