"""Schemas of the deep-training groups: `activation`, `loss`, `optimizer`, `trainer`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Optional

from omegaconf import MISSING

from src.config.ranges import (
    ACCELERATORS,
    DEVICES,
    PRECISIONS,
    STRATEGIES,
    above,
    at_least,
    bounded,
    choice,
    fraction,
    integer_at_least,
    optional,
)


class ActivationName(str, Enum):
    relu = "relu"
    tanh = "tanh"
    sigmoid = "sigmoid"
    leaky_relu = "leaky_relu"
    elu = "elu"
    gelu = "gelu"
    step = "step"


@dataclass
class ActivationConfig:
    name: ActivationName = MISSING
    negative_slope: float = 0.01  # leaky_relu
    alpha: float = 1.0  # elu


class LossName(str, Enum):
    auto = "auto"
    mse = "mse"
    mae = "mae"
    huber = "huber"
    bce = "bce"
    cross_entropy = "cross_entropy"


@dataclass
class LossConfig:
    name: LossName = MISSING
    huber_delta: float = bounded(1.0, above(0))
    # Classification losses (cross_entropy, bce): the target puts this much of
    # its weight evenly on every class (0 = hard labels). Regression ignores it
    # (with a warning). The validation loss is always the plain one.
    label_smoothing: float = 0.0


class OptimizerName(str, Enum):
    batch_gd = "batch_gd"
    sgd = "sgd"
    minibatch_sgd = "minibatch_sgd"
    momentum = "momentum"
    nesterov = "nesterov"
    adagrad = "adagrad"
    rmsprop = "rmsprop"
    adam = "adam"
    adamw = "adamw"


class Schedule(str, Enum):
    constant = "constant"
    cosine = "cosine"
    one_cycle = "one_cycle"


@dataclass
class OptimizerConfig:
    name: OptimizerName = MISSING
    lr: float = bounded(1e-3, above(0))
    # Examples per update; null means the whole training set (batch gradient descent).
    batch_size: Optional[int] = bounded(32, optional(integer_at_least(1)))
    weight_decay: float = bounded(0.0, at_least(0))
    momentum: float = bounded(0.0, fraction(True, False))
    nesterov: bool = False
    # Multiplicative learning-rate decay applied after every epoch (1.0 = none).
    lr_decay: float = bounded(1.0, fraction(False, True))
    # The learning rate over the optimizer steps of max_epochs, times lr (and lr_decay):
    # constant; cosine: linear warm-up from ~0 over warmup_fraction of the steps,
    # then cosine to 0; one_cycle: torch's OneCycleLR shape, cosine from lr/25 up
    # to lr over warmup_fraction of the steps, then down to lr/25e4.
    schedule: Schedule = Schedule.constant
    warmup_fraction: float = 0.05


class KeepEpoch(str, Enum):
    auto = "auto"
    last = "last"
    best_val_loss = "best_val_loss"
    best_val_accuracy = "best_val_accuracy"


@dataclass
class TrainerConfig:
    name: str = "default"
    accelerator: str = bounded("auto", choice(ACCELERATORS))  # auto | cpu | gpu
    devices: Any = bounded("auto", DEVICES)  # "auto", a count, or a list of device ids
    strategy: str = bounded(
        "auto", choice(STRATEGIES, "auto, ddp, ddp_spawn or another of Lightning's strategy names")
    )  # auto | ddp | ddp_spawn
    num_nodes: int = bounded(1, integer_at_least(1))
    max_epochs: int = bounded(100, integer_at_least(1))
    # Stop when val_loss has not improved for this many epochs (null = off).
    early_stopping_patience: Optional[int] = bounded(None, optional(integer_at_least(0)))
    # Which epoch's weights the fitted model keeps (restore-best; the estimator's
    # best_epoch_ is its index): last; best_val_loss, the epoch of the lowest
    # validation loss (the earliest on ties); best_val_accuracy (regression: best_val_loss),
    # the highest validation accuracy, ties going to the lower validation loss;
    # auto: best_val_loss when early stopping is on, else last. An ensemble is
    # judged by its averaged prediction. The best_* choices need a validation split.
    keep_epoch: KeepEpoch = KeepEpoch.auto
    deterministic: bool = False
    precision: str = bounded("32-true", choice(PRECISIONS))
    # null: show Lightning's progress bar only on a terminal.
    progress_bar: Optional[bool] = None
    # CPU threads for torch. Small tabular nets run fastest on one thread (and
    # parallel sweep jobs should not oversubscribe the cores); null = torch's default.
    cpu_threads: Optional[int] = bounded(1, optional(integer_at_least(1)))
    # Log each layer's mean gradient norm per epoch (grad_norm_layer_<i>), to see
    # vanishing or exploding gradients; costs a little per step.
    log_grad_norms: bool = False
    # Save last.ckpt every N epochs (null = never), so that `resume=true`
    # continues a killed run; under <checkpoint_dir or repo/checkpoints>/<config_hash>/.
    checkpoint_every_n_epochs: Optional[int] = bounded(None, optional(integer_at_least(1)))
    checkpoint_dir: Optional[str] = None
