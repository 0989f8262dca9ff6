"""Resuming sweeps: identify a configuration by a hash, find its earlier runs.

`resume=true` skips a job whose configuration already has a FINISHED run in
the experiment, and continues a killed MLP run from its last checkpoint into
the same MLflow run. Failed and killed runs without a checkpoint are rerun.

The hash covers the data as well as the config: for `dataset=table` it
includes the sha256 of the file at `dataset.path`, so a run on an edited file
(new labels, new rows) is a new configuration and trains again. Every other
source is fixed by its config (a generator's fields, a package's version, an
OpenML id, whose data OpenML never changes).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from omegaconf import DictConfig, OmegaConf

from src.data.digest import data_digest
from src.models import model_family
from src.tracking.record import Reason, Status, Tag, family_config

# Trainer settings that change how a run is shown or saved, not what it computes.
_NOT_HASHED_TRAINER = ("progress_bar", "checkpoint_dir")


def config_hash(cfg: DictConfig) -> str:
    """A short digest of the resolved configuration that determines the result:
    the config groups the model's family reads (a classical run does not
    rerun when only the MLP's optimizer changes), without the run settings."""
    resolved: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)  # type: ignore[assignment]
    resolved = family_config(resolved, model_family(cfg.model), settings=False)
    trainer = resolved.get("trainer")
    if isinstance(trainer, dict):
        for key in _NOT_HASHED_TRAINER:
            trainer.pop(key, None)
    data = data_digest(cfg.dataset)
    if data is not None:  # only where the data is a file: every other hash stays as it was
        resolved["data_digest"] = data
    text = json.dumps(resolved, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def checkpoint_dir(cfg: DictConfig, digest: str) -> Path:
    """trainer.checkpoint_dir, else `checkpoints/` beside the SQLite store the run records in
    (as a search's study files), else the checkout's: a run on another store never touches
    the checkpoints a run on this one left to resume from."""
    from urllib.parse import unquote, urlparse

    from src.tracking.mlflow_run import PROJECT_ROOT, resolve_tracking_uri

    configured = cfg.trainer.get("checkpoint_dir")
    uri = urlparse(resolve_tracking_uri(cfg.tracking.uri))
    if configured:
        root = Path(configured)
    elif uri.scheme == "sqlite" and uri.path:
        root = Path(unquote(uri.path)).parent / "checkpoints"
    else:
        root = PROJECT_ROOT / "checkpoints"
    return root.resolve() / digest


@dataclass
class Previous:
    finished: Optional[Any] = None  # an mlflow Run
    resumable: Optional[Any] = None  # a killed / failed run whose checkpoint exists
    checkpoint: Optional[Path] = None


def find_previous(cfg: DictConfig, digest: str) -> Previous:
    """The runs of this configuration already in the experiment."""
    from src.tracking.mlflow_run import client_for, resolve_tracking_uri

    client = client_for(resolve_tracking_uri(cfg.tracking.uri))
    experiment = client.get_experiment_by_name(cfg.tracking.experiment)
    if experiment is None:
        return Previous()
    runs = client.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.{Tag.CONFIG_HASH} = '{digest}'",
        order_by=["attributes.start_time DESC"],
        max_results=100,
    )
    for run in runs:
        # A FINISHED run whose final write did not complete lacks its main metric.
        main = run.data.tags.get(Tag.MAIN_METRIC)
        if run.info.status == Status.FINISHED and main and main in run.data.metrics:
            return Previous(finished=run)
    checkpoint = checkpoint_dir(cfg, digest) / "last.ckpt"
    for run in runs:
        diverged = run.data.tags.get(Tag.STATUS_REASON) == Reason.DIVERGED
        if run.info.status in (Status.KILLED, Status.FAILED, Status.RUNNING) and not diverged and checkpoint.exists():
            return Previous(resumable=run, checkpoint=checkpoint)
    return Previous()
