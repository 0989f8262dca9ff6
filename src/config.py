"""Typed schemas for the composed Hydra config.

Every config group has a dataclass here. `register_configs()` stores them in
Hydra's ConfigStore; `conf/config.yaml` starts its defaults list with
`config_schema`, so every YAML option is merged into a typed node and an
unknown key or a value of the wrong type fails at composition time, before
any data is loaded. Models differ in their hyperparameters, so each model
option pulls in its own schema (`/schema/model/<name>@_here_`).

This module must stay light: `python -m src.train --help` and config errors
have to answer without importing torch, Lightning or MLflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, List, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


class Task(str, Enum):
    regression = "regression"
    binary = "binary"
    multiclass = "multiclass"
    auto = "auto"  # user tables: inferred from the target column


@dataclass
class DatasetConfig:
    name: str = MISSING
    task: Task = MISSING
    # Split sizes: a value in (0, 1] is a fraction of the rows, a value > 1 a count.
    test_size: float = 0.2
    val_size: float = 0.1  # taken from the rows left after the test split
    # Fit-only tables (the slides' 4-8 row examples): train on every row, no split.
    fit_only: bool = False
    # Standardize features (and a regression target) with training statistics.
    standardize: bool = True
    # Subsample the training split: a fraction of the pool or an absolute count.
    train_size: Optional[float] = None
    # Generator arguments, used by the datasets that declare them.
    n_samples: Optional[int] = None
    noise: Optional[float] = None
    n_features: Optional[int] = None
    factor: Optional[float] = None
    bias: Optional[float] = None
    random_state: Optional[int] = None
    shuffle: bool = True


class Init(str, Enum):
    small = "small"  # the workshop's "small random numbers close to 0 (but not 0)"
    xavier = "xavier"
    kaiming = "kaiming"


@dataclass
class MLPConfig:
    name: str = "mlp"
    family: str = "deep"
    hidden_sizes: List[int] = field(default_factory=lambda: [64, 64])
    dropout: float = 0.0
    batch_norm: bool = False
    init: Init = Init.xavier


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
    huber_delta: float = 1.0


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


@dataclass
class OptimizerConfig:
    name: OptimizerName = MISSING
    lr: float = 1e-3
    # Examples per update; null means the whole training set (batch gradient descent).
    batch_size: Optional[int] = 32
    weight_decay: float = 0.0
    momentum: float = 0.0
    nesterov: bool = False
    # Multiplicative learning-rate decay applied after every epoch (1.0 = none).
    lr_decay: float = 1.0


@dataclass
class TrainerConfig:
    name: str = "default"
    accelerator: str = "auto"  # auto | cpu | gpu
    devices: Any = "auto"  # "auto", a count, or a list of device ids
    strategy: str = "auto"  # auto | ddp | ddp_spawn
    num_nodes: int = 1
    max_epochs: int = 100
    # Stop when val_loss has not improved for this many epochs (null = off).
    early_stopping_patience: Optional[int] = None
    deterministic: bool = False
    precision: str = "32-true"
    # null: show Lightning's progress bar only on a terminal.
    progress_bar: Optional[bool] = None


@dataclass
class TrackingConfig:
    # null: $MLFLOW_TRACKING_URI, else sqlite:///<repository root>/mlflow.db
    uri: Optional[str] = None
    experiment: str = "mlvsdl"
    run_name: Optional[str] = None
    log_model: bool = False


@dataclass
class Config:
    seed: int = 0
    dataset: DatasetConfig = MISSING
    model: Any = MISSING
    activation: ActivationConfig = MISSING
    loss: LossConfig = MISSING
    optimizer: OptimizerConfig = MISSING
    trainer: TrainerConfig = MISSING
    tracking: TrackingConfig = MISSING
    # Free-form label of the study a run belongs to, logged as the `study` tag.
    study: Optional[str] = None


def register_configs() -> None:
    cs = ConfigStore.instance()
    cs.store(name="config_schema", node=Config)
    cs.store(group="schema/model", name="mlp", node=MLPConfig)


def option(value: Any) -> str:
    """The plain string of a config choice (enum fields come back as Enum members)."""
    return str(value.value) if isinstance(value, Enum) else str(value)
