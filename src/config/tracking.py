"""Schema of the `tracking` group: where and what a run records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass
class TrackingConfig:
    # null: $MLFLOW_TRACKING_URI, else sqlite:///<repository root>/mlflow.db
    uri: Optional[str] = None
    experiment: str = "mlvsdl"
    run_name: Optional[str] = None
    log_model: bool = False
    # Per-run pictures (loss curves, confusion matrix, decision regions, ...), opt-in:
    # drawing them costs 0.2-0.4 s, more than the rest of a small run's fixed cost, and
    # MLflow's UI already charts every logged metric. The report draws cross-run figures.
    plots: bool = False
    # Permutation importance on the test split (every model, through its predict)
    # and tree importances where they exist: feature_importance.csv and .png per run.
    log_importance: bool = False
