"""`model=mlp` and `model=mlp_plus`: the MLPEstimator a composed config describes."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from src.config import option
from src.data.types import Task
from src.models.deep import MLPEstimator
from src.models.heads import resolve_loss
from src.models.registry import arguments_by_name

if TYPE_CHECKING:
    from src.config.spec import RunSpec


def mlp_from_config(cfg: RunSpec, task: str, n_classes: int) -> MLPEstimator:
    """The MLP that a composed config describes (model, activation, loss,
    optimizer, trainer groups and the seed), for a dataset's task and classes."""
    task = Task(option(task))
    model, activation, optimizer, trainer = cfg.model, cfg.activation, cfg.optimizer, cfg.trainer
    devices = trainer.devices
    estimator = MLPEstimator(
        task=task.value,
        # The model group by parameter name, as for every family (src/models/registry.py).
        **arguments_by_name(MLPEstimator, model),
        activation=option(activation.name),
        negative_slope=activation.negative_slope,
        elu_alpha=activation.alpha,
        loss=resolve_loss(option(cfg.loss.name), task),
        huber_delta=cfg.loss.huber_delta,
        label_smoothing=cfg.loss.label_smoothing,
        optimizer=option(optimizer.name),
        lr=optimizer.lr,
        batch_size=optimizer.batch_size,
        weight_decay=optimizer.weight_decay,
        momentum=optimizer.momentum,
        nesterov=optimizer.nesterov,
        lr_decay=optimizer.lr_decay,
        schedule=option(optimizer.schedule),
        warmup_fraction=optimizer.warmup_fraction,
        max_epochs=trainer.max_epochs,
        early_stopping_patience=trainer.early_stopping_patience,
        keep_epoch=option(trainer.keep_epoch),
        seed=cfg.seed,
        # The dataset's classes, not only those in the training split: the output layer has one unit each.
        classes=tuple(range(n_classes)) if task.is_classification else None,
        accelerator=trainer.accelerator,
        devices=devices if isinstance(devices, (int, str)) else list(devices),
        strategy=trainer.strategy,
        num_nodes=trainer.num_nodes,
        precision=trainer.precision,
        deterministic=trainer.deterministic,
        cpu_threads=trainer.cpu_threads,
        progress_bar=trainer.progress_bar,
        log_grad_norms=trainer.log_grad_norms,
        checkpoint_every_n_epochs=trainer.checkpoint_every_n_epochs,
    )
    if "MLVSDL_SEARCH_TRIAL" in os.environ:  # a search's trial (hparams_search=...): report epochs, maybe be pruned
        from src.search.pruning import trial_pruning

        estimator.epoch_callbacks = tuple(filter(None, [trial_pruning()]))
    return estimator
