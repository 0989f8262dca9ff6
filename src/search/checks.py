"""A search's settings checked before any job runs: each mistake is one line and exit 2
(ConfigError), not a failure after the first trial or a search that optimises the wrong way."""

from __future__ import annotations

import inspect
from typing import Any, Mapping

from src.errors import ConfigError

# Metrics a search minimises (an error or a loss); every other one is a score, maximised.
_ERRORS = ("mse", "rmse", "mae", "loss", "brier")


def direction_of(metric: str) -> str:
    """final_val_rmse, final_val_log_loss -> minimize; final_val_accuracy, final_val_roc_auc -> maximize."""
    return "minimize" if metric.rsplit("_", 1)[-1] in _ERRORS else "maximize"


def check_settings(settings: Mapping[str, Any], metric: str) -> str:
    """Refuse settings that cannot run as meant; the study's direction (the metric's)."""
    import optuna

    expected = direction_of(metric)
    given = settings.get("direction")
    if given is not None and given not in ("maximize", "minimize"):
        raise ConfigError(
            f"hydra.sweeper.direction={given}: use maximize or minimize, or leave it out (it follows optimized_metric)"
        )
    if given is not None and given != expected:
        kind = "an error, lower is better" if expected == "minimize" else "a score, higher is better"
        raise ConfigError(
            f"hydra.sweeper.direction={given} contradicts optimized_metric={metric} ({kind}: {expected}); "
            "leave hydra.sweeper.direction out"
        )
    n_trials = settings.get("n_trials")
    if not isinstance(n_trials, int) or isinstance(n_trials, bool) or n_trials <= 0:
        raise ConfigError(f"hydra.sweeper.n_trials={n_trials}: use a whole number of trials >= 1")
    timeout = settings.get("timeout")
    if timeout is not None and not float(timeout) > 0:
        raise ConfigError(f"hydra.sweeper.timeout={timeout}: use a number of seconds > 0, or null for none")
    sampler = dict(settings.get("sampler") or {})
    _check_keywords("hydra.sweeper.sampler", sampler, optuna.samplers.TPESampler)
    pruner = settings.get("pruner")
    if pruner:
        _check_keywords("hydra.sweeper.pruner", dict(pruner), optuna.pruners.MedianPruner)
        for key in ("n_startup_trials", "n_warmup_steps", "interval_steps"):
            value = pruner.get(key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise ConfigError(f"hydra.sweeper.pruner.{key}={value}: use a whole number >= 0")
    return expected


def _check_keywords(where: str, keywords: Mapping[str, Any], target: Any) -> None:
    known = set(inspect.signature(target).parameters)
    unknown = sorted(set(keywords) - known)
    if unknown:
        raise ConfigError(
            f"{where} has no keyword {', '.join(unknown)}; {target.__name__} takes {', '.join(sorted(known))}"
        )
