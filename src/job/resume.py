"""Resuming sweeps: find a configuration's earlier runs by its hash (`RunSpec.config_hash`).

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

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from src.config.spec import RunSpec
from src.tracking.record import Reason, Status, Tag


def checkpoint_dir(cfg: RunSpec, digest: str) -> Path:
    """trainer.checkpoint_dir, else `checkpoints/` beside the SQLite store the run records in
    (as a search's study files), else the checkout's: a run on another store never touches
    the checkpoints a run on this one left to resume from."""
    from urllib.parse import unquote, urlparse

    from src.tracking.mlflow_run import PROJECT_ROOT

    configured = cfg.trainer.checkpoint_dir
    uri = urlparse(cfg.tracking_uri)
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


def find_previous(cfg: RunSpec, digest: str) -> Previous:
    """The runs of this configuration already in the experiment."""
    from src.tracking.mlflow_run import client_for

    client = client_for(cfg.tracking_uri)
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
