"""A run's own artifacts: config.yaml; the evaluated split's predictions
(predictions.parquet, and its first rows as predictions_preview.csv, which
the UI shows) and their errors as data (confusion_matrix.csv and the
classification report, or residuals.csv); with tracking.plots the per-run
pictures (loss curves, confusion matrix, fitted curve, decision regions); with
tracking.log_importance the feature importance."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np

from src.config.spec import RunSpec
from src.data import Dataset, PreparedData, Split
from src.data.types import Task
from src.tracking.record import Artifact


class _NoPlots:
    """Stands in for src.job.pictures when tracking.plots=false: draws nothing."""

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: None


@dataclass
class Evaluated:
    """The evaluated split's predictions (test, or train for a fit-only dataset),
    in the target's units; class indices for classification."""

    split: str
    row_ids: np.ndarray  # the rows' positions in the dataset: the same rows for every model with that seed
    y_true: np.ndarray
    y_pred: np.ndarray
    proba: Optional[np.ndarray] = None  # (rows, classes), for classifiers that give probabilities


def class_probabilities(estimator: Any, X: np.ndarray, n_classes: int) -> Optional[np.ndarray]:
    """(rows, n_classes) probabilities, column k for class k (0 for a class the
    training rows lacked), or None for a model that gives none."""
    if not hasattr(estimator, "predict_proba"):
        return None
    proba = np.asarray(estimator.predict_proba(X), dtype=np.float64)
    if proba.shape[1] == n_classes:
        return proba
    classes = getattr(estimator, "classes_", getattr(getattr(estimator, "estimator_", None), "classes_", None))
    if classes is None:
        return None
    full = np.zeros((len(proba), n_classes))
    full[:, np.asarray(classes, dtype=np.int64)] = proba
    return full


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
    cfg: RunSpec,
    config_yaml: str,
    title: str,
    dataset: Dataset,
    split: Split,
    data: PreparedData,
    estimator: Any,
    history: list[dict[str, float]],
    evaluated: Evaluated,
) -> None:
    from sklearn import metrics as skm

    from src.job import pictures as plots

    (out / Artifact.CONFIG).write_text(config_yaml)
    write_predictions(out / Artifact.PREDICTIONS, dataset, evaluated)
    y_true, y_pred, evaluated_split = evaluated.y_true, evaluated.y_pred, evaluated.split

    def save(fig: Optional[Any], filename: str) -> None:
        if fig is not None:
            fig.savefig(out / filename, dpi=80, pil_kwargs={"compress_level": 1})

    if not cfg.tracking.plots:
        plots = _NoPlots()  # the text artifacts are still written

    save(plots.loss_curves(history, title), Artifact.LOSS_CURVES)
    if cfg.tracking.log_importance:  # the interpretability study
        from src.job.importance import write_importance

        write_importance(out, estimator, dataset, split, data, title, seed=cfg.seed)
    if dataset.task == Task.regression:
        residual_summary(y_true, y_pred).to_csv(out / Artifact.RESIDUALS, index=False)
        save(plots.predicted_vs_true(y_true, y_pred, title, evaluated_split), Artifact.PREDICTED_VS_TRUE)
    else:
        labels = np.arange(dataset.n_classes)
        cm = skm.confusion_matrix(y_true, y_pred, labels=labels)
        _confusion_frame(cm, dataset.class_names).to_csv(out / Artifact.CONFUSION_MATRIX_CSV)
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


def _labels(dataset: Dataset, y: np.ndarray) -> np.ndarray:
    """Class indices as the dataset's own labels; regression values as they are."""
    if dataset.class_names is None:
        return np.asarray(y, dtype=np.float64)
    return np.asarray(dataset.class_names, dtype=object)[np.asarray(y).astype(np.int64)]


def file_rows(dataset: Dataset, positions: np.ndarray) -> np.ndarray:
    """The rows' numbers in the dataset's source (a user's file: its 0-based data
    rows as read, counting rows dropped for a missing target), from their
    positions in the dataset; the positions themselves where the index is no row number."""
    positions = np.asarray(positions, dtype=np.int64)
    import pandas as pd

    index = dataset.X.index
    if pd.api.types.is_integer_dtype(index) and index.is_unique:
        return np.asarray(index, dtype=np.int64)[positions]
    return positions


def predictions_frame(dataset: Dataset, evaluated: Evaluated):
    """One row per evaluated row: row_id, y_true, y_pred in the original labels
    or units, and a proba_<label> column per class where the model gives
    probabilities."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "row_id": file_rows(dataset, evaluated.row_ids),
            "y_true": _labels(dataset, evaluated.y_true),
            "y_pred": _labels(dataset, evaluated.y_pred),
        }
    )
    if evaluated.proba is not None and dataset.class_names is not None:
        for k, label in enumerate(dataset.class_names):
            frame[f"proba_{label}"] = np.asarray(evaluated.proba[:, k], dtype=np.float64)
    return frame


# The UI shows CSV but not Parquet: a preview of the first rows, logged next to predictions.parquet.
PREDICTIONS_PREVIEW = "predictions_preview.csv"
N_PREVIEW_ROWS = 100


def write_predictions(path: Path, dataset: Dataset, evaluated: Evaluated) -> None:
    frame = predictions_frame(dataset, evaluated)
    frame.to_parquet(path, index=False)
    frame.head(N_PREVIEW_ROWS).to_csv(path.with_name(PREDICTIONS_PREVIEW), index=False)


def _confusion_frame(cm: np.ndarray, class_names: list[str]):
    """Rows: the true label; columns: the predicted label."""
    import pandas as pd

    names = [str(name) for name in class_names]
    return pd.DataFrame(cm, index=pd.Index(names, name="true / predicted"), columns=names)


def residual_summary(y_true: np.ndarray, y_pred: np.ndarray):
    """The residuals (prediction - truth, in the target's units) in one row:
    count, mean, std, mean absolute, root mean square, and quantiles."""
    import pandas as pd

    residuals = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
    if len(residuals) == 0:
        return pd.DataFrame([{"n": 0}])
    quantiles = np.quantile(residuals, [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0])
    row = {
        "n": len(residuals),
        "mean": residuals.mean(),
        "std": residuals.std(),
        "mean_abs": np.abs(residuals).mean(),
        "rmse": float(np.sqrt(np.mean(residuals**2))),
    }
    row.update(zip(["min", "p05", "p25", "median", "p75", "p95", "max"], quantiles))
    return pd.DataFrame([row])
