"""The value a run returns to a sweeper: `optimized_metric`, or the main metric.

A hyperparameter search (`hparams_search=<name>`, Optuna) minimizes or
maximizes what the training function returns. `optimized_metric` names one of
the run's final metrics -- e.g. `final_val_accuracy`, scored on the validation
split, so that the search never selects on the test split it is judged by. A
name the run did not log is a configuration error, raised loudly, never a
silent None (which Optuna would count as a failed trial and go on).
"""

from __future__ import annotations

from typing import Any

from src.config.spec import RunSpec
from src.errors import ConfigError


def objective_value(cfg: RunSpec, result: Any) -> float:
    """The metric `optimized_metric` names (the main metric when null) from a RunResult."""
    name = cfg.optimized_metric
    if not name:
        return result.value
    if name not in result.metrics:
        known = ", ".join(sorted(k for k in result.metrics if not k.startswith(("weight_", "bias"))))
        raise ConfigError(f"optimized_metric={name} is not a metric of run {result.run_name}; its metrics: {known}")
    return float(result.metrics[name])
