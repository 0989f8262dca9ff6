"""Typed schemas for the composed Hydra config.

Every config group has a dataclass in this package (one module per concern). `register_configs()` stores them in
Hydra's ConfigStore; `conf/config.yaml` starts its defaults list with
`config_schema`, so every YAML option is merged into a typed node and an
unknown key or a value of the wrong type fails at composition time, before
any data is loaded. Models differ in their hyperparameters, so each model
option pulls in its own schema (`/schema_model_<name>@_here_`); so does each
dataset option, with its source's fields (`/schema_dataset_<kind>@_here_`).

This module must stay light: `python -m src.train --help` and config errors
have to answer without importing torch, Lightning or MLflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, List, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from src.config.dataset import DATASET_SCHEMAS
from src.config.ranges import SEED, bounded
from src.config.tracking import TrackingConfig
from src.config.training import (
    ActivationConfig,
    LossConfig,
    OptimizerConfig,
    TrainerConfig,
)


@dataclass
class Config:
    seed: int = bounded(0, SEED)
    dataset: Any = MISSING  # a schema of src/config/dataset.py, chosen by the dataset's YAML
    model: Any = MISSING
    activation: ActivationConfig = MISSING
    loss: LossConfig = MISSING
    optimizer: OptimizerConfig = MISSING
    trainer: TrainerConfig = MISSING
    tracking: TrackingConfig = MISSING
    # Free-form label of the study a run belongs to, logged as the `study` tag.
    study: Optional[str] = None
    # Skip a configuration that already has a FINISHED run in the experiment
    # (matched by the `config_hash` tag); continue a killed run from its checkpoint.
    resume: bool = False
    # One job, one MLflow run per seed, each equal to the seed=k run: an MLP's
    # seeds (mlp_plus too) train together as one vectorized model; any other
    # model's seeds run one after the other.
    seeds: Optional[List[int]] = None
    # The metric a run returns to a sweeper (hparams_search: Optuna), e.g. val_accuracy;
    # null: the task's main test metric. A name the run does not log is a ConfigError.
    optimized_metric: Optional[str] = None


def register_configs() -> None:
    cs = ConfigStore.instance()
    cs.store(name="config_schema", node=Config)
    from src.models.registry import REGISTRY  # light: names and schemas, no estimator library

    for name, spec in REGISTRY.items():
        cs.store(name=f"schema_model_{name}", node=spec.schema)
    for kind, node in DATASET_SCHEMAS.items():
        cs.store(name=f"schema_dataset_{kind}", node=node)


def option(value: Any) -> str:
    """The plain string of a config choice (enum fields come back as Enum members)."""
    return str(value.value) if isinstance(value, Enum) else str(value)


def check_schema(cfg: Any) -> None:
    """Refuse keys that no schema declares, including those added with `+key=`.

    Hydra's `+` appends a key even to a typed node; such a key would be
    ignored at best and, named `_target_`, reads as code to instantiate. The
    project's config groups are data, so any key outside the schemas is an
    error that names it."""
    import dataclasses

    from omegaconf import DictConfig

    from src.errors import ConfigError

    def walk(node: Any, path: str) -> None:
        if not isinstance(node, DictConfig):
            return
        schema = node._metadata.object_type
        if dataclasses.is_dataclass(schema):
            declared = {f.name for f in dataclasses.fields(schema)}
            for key in node:
                if key not in declared:
                    raise ConfigError(
                        f"config key '{path}{key}' is not in {schema.__name__}; config groups are data and "
                        f"take only their declared keys: {', '.join(sorted(declared))}"
                    )
        for key in node:
            walk(node._get_node(key), f"{path}{key}.")

    walk(cfg, "")
