"""Tracking: MLflow runs, the default store, and sweep-level parent runs."""

from src.tracking.mlflow_run import TrackedRun, flatten, resolve_tracking_uri

__all__ = ["TrackedRun", "flatten", "resolve_tracking_uri"]
