"""Schema of the `tracking` group: where and what a run records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass
class TrackingConfig:
    # null: $MLFLOW_TRACKING_URI, else sqlite:///<repository root>/mlflow.db
    uri: Optional[str] = None
    experiment: str = "mlvsdl"
    # null: model-dataset-n<n_train>-s<seed>, named once the split is made.
    run_name: Optional[str] = None
    # Appended to the generated name; a sweep's job sets it to its values of the
    # other swept keys (lr=0.01), so that names stay unique within the sweep.
    run_name_suffix: Optional[str] = None
    # The fitted pipeline (preprocessing, model, label decoding) as one MLflow model that predicts on raw rows.
    log_model: bool = False
    # With log_model: also register it in MLflow's model registry under this name (a new version each run).
    register_as: Optional[str] = None
    # Per-run pictures (loss curves, confusion matrix, decision regions, ...), opt-in:
    # drawing them costs 0.2-0.4 s, more than the rest of a small run's fixed cost, and
    # MLflow's UI already charts every logged metric. The report draws cross-run figures.
    plots: bool = False
    # Permutation importance on the test split (every model, through its predict)
    # and tree importances where they exist: feature_importance.csv and .png per run.
    log_importance: bool = False
