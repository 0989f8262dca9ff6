"""The search's settings, checked before any job runs: each problem is one
ConfigError line (exit 2) instead of a failure after the first trial, or a
search that runs to the end optimising the wrong way."""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any, Mapping, Optional

from src.errors import ConfigError

# Error metrics: the last word of the metric's name (final_val_log_loss -> loss).
_LOWER_IS_BETTER = ("mse", "rmse", "mae", "loss", "brier")


def metric_direction(metric: str) -> str:
    """'minimize' for an error metric (mse, rmse, mae, log_loss, brier), else 'maximize'."""
    return "minimize" if metric.rsplit("_", 1)[-1] in _LOWER_IS_BETTER else "maximize"


def optimized_metric(metric: Any) -> str:
    """The metric a search selects on: a validation metric of the final model.
    `val_*` is refused too: it is a per-epoch metric that only the MLP logs."""
    if not metric or not str(metric).startswith("final_val_"):
        raise ConfigError(
            f"optimized_metric={metric}: a search selects on a final validation metric "
            "(e.g. final_val_accuracy, final_val_mse), never on the test split the report judges by"
        )
    return str(metric)


def direction(configured: Optional[str], metric: str) -> str:
    """The study's direction: the metric's own, unless set explicitly (and then it must agree)."""
    wanted = metric_direction(metric)
    if configured is None:
        return wanted
    if configured not in ("minimize", "maximize"):
        raise ConfigError(
            f"hydra.sweeper.direction={configured}: expected minimize or maximize (or null: the metric's)"
        )
    if configured != wanted:
        raise ConfigError(
            f"hydra.sweeper.direction={configured} contradicts optimized_metric={metric}, which is better "
            f"{'lower' if wanted == 'minimize' else 'higher'}: drop the direction (it follows the metric)"
        )
    return configured


def budget(settings: Mapping[str, Any]) -> None:
    n_trials, timeout = settings.get("n_trials"), settings.get("timeout")
    if not isinstance(n_trials, int) or isinstance(n_trials, bool) or n_trials <= 0:
        raise ConfigError(f"hydra.sweeper.n_trials={n_trials}: expected a whole number of trials above 0")
    if timeout is not None and (not isinstance(timeout, (int, float)) or timeout < 0):
        raise ConfigError(f"hydra.sweeper.timeout={timeout}: expected seconds (0 or more) or null")


def sampler_keywords(keywords: Mapping[str, Any]) -> None:
    import optuna

    known = set(inspect.signature(optuna.samplers.TPESampler).parameters)
    unknown = sorted(set(keywords) - known)
    if unknown:
        raise ConfigError(f"hydra.sweeper.sampler.{unknown[0]}: not a keyword of optuna.samplers.TPESampler")


def pruner_keywords(keywords: Optional[Mapping[str, Any]]) -> None:
    """The MedianPruner's settings travel to the jobs as whole numbers (src/search/pruning.py)."""
    import optuna

    known = set(inspect.signature(optuna.pruners.MedianPruner).parameters)
    for key, value in (keywords or {}).items():
        if key not in known:
            raise ConfigError(f"hydra.sweeper.pruner.{key}: not a keyword of optuna.pruners.MedianPruner")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"hydra.sweeper.pruner.{key}={value}: expected a whole number, 0 or more")


def storage(directory: Path) -> None:
    """The study's directory must be writable, and its path free of an apostrophe:
    it reaches the jobs quoted inside a Hydra override (hydra.job.env_set)."""
    if "'" in str(directory):
        raise ConfigError(f"the search's storage {directory} contains an apostrophe: choose another directory")
    existing = next((p for p in (directory, *directory.parents) if p.exists()), None)
    if existing is None or not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"the search's storage {directory} is not writable (hydra.sweeper.storage names another)")
