"""The run spec: the composed config, resolved once into typed objects and the facts a run needs.

The entry point (`python -m src.train`, the bench) turns Hydra's `DictConfig` into a frozen
`RunSpec` with `RunSpec.from_config`. Everything below it -- the runner, the seeds, resume,
the estimator builders, the data loaders -- reads typed attributes (`spec.model.max_depth`,
`spec.trainer.cpu_threads`) and facts computed here once: the model's family (from the
registry), the task, the tracking URI, the config hash and the run's name. Only this package,
the entry points and the modules Hydra calls with its config (the sweeper and the sweep
callback) see a `DictConfig`.

Light on purpose, like the rest of this package: no torch, Lightning or MLflow.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

from src.config.tracking import TrackingConfig
from src.config.training import ActivationConfig, LossConfig, OptimizerConfig, TrainerConfig

# In tracking.run_name, replaced by the run's training-row count once its split is made
# (a search names its trials `lightgbm-digits-n{n_train}-t3-s0`).
N_TRAIN_TOKEN = "{n_train}"
# Trainer settings that change how a run is shown or saved, not what it computes.
_NOT_HASHED_TRAINER = ("progress_bar", "checkpoint_dir")


@dataclass(frozen=True)
class RunSpec:
    """One run's configuration: the typed config groups, and what follows from them."""

    seed: int
    dataset: Any  # a schema of src/config/dataset.py, the one its source reads
    model: Any  # the model's schema, from its registry entry
    activation: ActivationConfig
    loss: LossConfig
    optimizer: OptimizerConfig
    trainer: TrainerConfig
    tracking: TrackingConfig
    study: Optional[str]
    resume: bool
    seeds: Optional[tuple[int, ...]]
    optimized_metric: Optional[str]
    family: str  # "deep" or "classical", as the model's registry entry declares
    tracking_uri: str  # tracking.uri, else $MLFLOW_TRACKING_URI, else the checkout's SQLite store, absolute
    config_hash: str  # what `resume=true` matches runs by: the result-determining config and the data
    resolved: Mapping[str, Any] = field(repr=False)  # the whole config as plain values (enums as strings)

    @classmethod
    def from_config(cls, cfg: Any) -> RunSpec:
        """The spec of a composed config (a `DictConfig` whose groups carry their schemas)."""
        from omegaconf import OmegaConf

        typed = OmegaConf.to_object(cfg)
        resolved: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)  # type: ignore[assignment]
        return cls.from_typed(typed, resolved)

    @classmethod
    def from_typed(cls, typed: Any, resolved: dict[str, Any]) -> RunSpec:
        from src.models.registry import spec_of
        from src.tracking.mlflow_run import resolve_tracking_uri

        family = spec_of(str(typed.model.name)).family
        values = {f.name: getattr(typed, f.name) for f in dataclasses.fields(typed)}
        values["seeds"] = None if typed.seeds is None else tuple(int(s) for s in typed.seeds)
        return cls(
            **values,
            family=family,
            tracking_uri=resolve_tracking_uri(typed.tracking.uri),
            config_hash=_hash(resolved, family, typed.dataset),
            resolved=resolved,
        )

    @property
    def task(self) -> Optional[str]:
        """The task the config names (binary, multiclass, regression); None: inferred from the data."""
        from src.config import option

        return None if self.dataset.task is None else option(self.dataset.task)

    @property
    def dataset_label(self) -> str:
        """The dataset's name in tags, run names and reports. A user's table is named after its file
        and content (`houses-3fa2c1`), so that two tables never merge under the name `table`."""
        from src.data.digest import data_digest

        if self.dataset.name != "table" or not getattr(self.dataset, "path", None):
            return str(self.dataset.name)
        digest = data_digest(self.dataset) or ""
        return f"{Path(str(self.dataset.path)).stem}-{digest[:6]}".rstrip("-")

    def run_name(self, n_train: Optional[int] = None) -> str:
        """tracking.run_name, else model-dataset-n<n_train>-s<seed> and the sweep's
        tracking.run_name_suffix (without n<n_train> until the split is made)."""
        name = self.tracking.run_name
        if name:
            if n_train is not None:
                return name.replace(N_TRAIN_TOKEN, str(n_train))
            return name.replace(f"-n{N_TRAIN_TOKEN}", "").replace(N_TRAIN_TOKEN, "")
        size = "" if n_train is None else f"-n{n_train}"
        suffix = self.tracking.run_name_suffix
        return f"{self.model.name}-{self.dataset_label}{size}-s{self.seed}" + (f"-{suffix}" if suffix else "")

    def recorded(self) -> dict[str, Any]:
        """The resolved config groups the run's family reads, and the run settings: what the run
        logs as params and as config.yaml. A classical run carries none of the MLP's activation,
        loss, optimizer or trainer settings, and a password in a URI is never recorded."""
        from src.tracking.record import family_config
        from src.tracking.secrets import masked

        return masked(family_config(copy.deepcopy(dict(self.resolved)), self.family))  # type: ignore[arg-type]

    def for_seed(self, seed: int) -> RunSpec:
        """This configuration with another seed, as its own run (`seeds=[...]` runs one per seed)."""
        resolved = copy.deepcopy(dict(self.resolved))
        resolved["seed"], resolved["seeds"] = seed, None
        tracking = self.tracking
        if tracking.run_name:  # a sweep job's name: keep the seeds' runs apart
            tracking = dataclasses.replace(tracking, run_name=f"{tracking.run_name}-s{seed}")
            resolved["tracking"]["run_name"] = tracking.run_name
        return dataclasses.replace(
            self,
            seed=seed,
            seeds=None,
            tracking=tracking,
            resolved=resolved,
            config_hash=_hash(resolved, self.family, self.dataset),
        )


def _hash(resolved: Mapping[str, Any], family: str, dataset: Any) -> str:
    """A short digest of the resolved configuration that determines the result: the config
    groups the model's family reads (a classical run does not rerun when only the MLP's
    optimizer changes), without the run settings; for a user's table, also its content."""
    from src.data.digest import data_digest
    from src.tracking.record import family_config

    selected = family_config(copy.deepcopy(dict(resolved)), family, settings=False)
    trainer = selected.get("trainer")
    if isinstance(trainer, dict):
        for key in _NOT_HASHED_TRAINER:
            trainer.pop(key, None)
    data = data_digest(dataset)
    if data is not None:  # only where the data is a file: every other hash stays as it was
        selected["data_digest"] = data
    text = json.dumps(selected, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
