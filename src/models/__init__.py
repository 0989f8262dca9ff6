"""Models: one estimator interface (fit / predict, learned attributes end in `_`)
for the deep and the classical families.

Imports are lazy so that a classical-only run never loads torch or Lightning.
"""

from __future__ import annotations

from typing import Any

from src.config import option
from src.models.heads import resolve_loss


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
        from src.models.deep import MLPEstimator

        return MLPEstimator(
            task=task,
            loss=resolve_loss(option(cfg.loss.name), task),
            hidden_sizes=list(cfg.model.hidden_sizes),
            activation=cfg.activation,
            optimizer=cfg.optimizer,
            trainer=cfg.trainer,
            seed=cfg.seed,
            n_classes=n_classes,
            dropout=cfg.model.dropout,
            batch_norm=cfg.model.batch_norm,
            init=option(cfg.model.init),
            huber_delta=cfg.loss.huber_delta,
        )
    raise ValueError(f"unknown model '{cfg.model.name}'")
