"""Models: one estimator interface (fit / predict, learned attributes end in `_`)
for the deep and the classical families.

Imports are lazy so that a classical-only run never loads torch or Lightning.
"""

from __future__ import annotations

from typing import Any


def model_family(model_cfg: Any) -> str:
    return str(model_cfg.get("family", "deep"))


def check_model_task(model_cfg: Any, task: str) -> None:
    """ConfigError, naming the models that can, if the model cannot do the task."""
    from src.models.classical import check_task

    check_task(str(model_cfg.name), task)


def build_estimator(cfg: Any, task: str, n_classes: int) -> Any:
    """The estimator the config's `model` group names, for this task."""
    if model_family(cfg.model) == "classical":
        from src.models.classical import build_classical

        return build_classical(cfg.model, task, seed=cfg.seed)
    if cfg.model.name == "mlp":
        from src.models.deep import mlp_from_config

        return mlp_from_config(cfg, task, n_classes)
    raise ValueError(f"unknown model '{cfg.model.name}'")
