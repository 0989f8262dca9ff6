"""A Hydra callback that gives every multirun one parent MLflow run.

MLflow's nested runs only work inside one process, and Hydra's launchers may
run jobs in other processes (joblib, submitit). So the parent run is created
here, in the launching process, before any job starts -- which also creates
the SQLite store and the experiment once, instead of letting parallel jobs
race to create their tables -- and its id reaches the jobs through the
MLFLOW_PARENT_RUN_ID environment variable. When the sweep ends, the children
are read back from MLflow (whatever process ran them) into a summary table,
printed and logged on the parent as Markdown and CSV.

The callback also tells each job (through the environment, as for the parent
id) which keys the sweep varies, so that the job's run name shows its own
values of them, and how many jobs the sweep has and when it started, so that
the job's line says how far the sweep is.

Hydra's basic sweeper composes (checks) every job's config before it starts
the first one; this project's config takes ~0.1 s to compose, so the callback
has it compose and launch the jobs in chunks of `COMPOSED_AT_ONCE`
(`hydra.sweeper.max_batch_size`, unless set): a 2,000-job sweep starts its
first job after one chunk, not after 2,000 compositions (minutes). The price:
a job whose config cannot be composed is found when its chunk comes.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, open_dict, read_write

from src.tracking.mlflow_run import PARENT_RUN_ENV
from src.tracking.record import Artifact, Reason, RunMetric, Status, Tag
from src.tracking.secrets import mask_secrets
from src.tracking.sqlite_store import checkpoint

# Where to write the sweep's parent run id, for a caller that reports on this sweep (the Makefile).
SWEEP_ID_FILE_ENV = "MLVSDL_SWEEP_ID_FILE"
# The parent run of the sweep in progress, so that an interrupt can close it.
ACTIVE_PARENT: dict[str, Any] = {}
# Failed or killed children of the last sweep of this process.
LAST_SWEEP_FAILURES: list[str] = []
# Jobs whose configs Hydra's basic sweeper composes before launching them (its max_batch_size).
COMPOSED_AT_ONCE = 100
# What a job learns of its sweep: the swept keys (comma-separated), and "<jobs>:<start time>".
SWEPT_KEYS_ENV = "MLVSDL_SWEPT_KEYS"
PROGRESS_ENV = "MLVSDL_SWEEP_PROGRESS"
# Swept keys that a generated run name already shows (model-dataset-n<n_train>-s<seed>).
NAMED_KEYS = ("model", "dataset", "seed", "dataset.train_size")


def swept(config: DictConfig) -> tuple[list[str], Optional[int]]:
    """The keys a sweep varies, and its number of jobs (None when unknown):
    the sweeper's own params (an experiment's hydra.sweeper.params) and the
    command line's sweep overrides (`seed=0,1,2`). A search (Optuna) runs
    hydra.sweeper.n_trials jobs."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    params = config.hydra.sweeper.get("params") or {}
    arguments = [f"{key}={value}" for key, value in params.items()] + list(config.hydra.overrides.task)
    choices: dict[str, int] = {}
    for override in OverridesParser.create().parse_overrides(arguments):
        key = override.get_key_element().lstrip("+~")
        if not override.is_sweep_override():
            choices.pop(key, None)  # the command line fixes what the sweeper's params swept
            continue
        try:
            choices[key] = len(list(override.sweep_string_iterator()))
        except Exception:  # an interval or tagged search space (Optuna): no count
            choices[key] = 0
    n_trials = config.hydra.sweeper.get("n_trials")
    if n_trials is not None:  # a search: a job per trial and selection seed, then tuned and default per final seed
        seeds = len(config.hydra.sweeper.get("selection_seeds") or [0])
        return list(choices), int(n_trials) * seeds + 2 * len(config.hydra.sweeper.get("final_seeds") or [])
    n_jobs = 1
    for count in choices.values():
        n_jobs *= count
    return list(choices), n_jobs or None


def job_name_suffix(job_overrides: list[str], shown: dict[str, str], job_num: int, exhaustive: bool) -> str:
    """What a job's generated run name adds to model-dataset-n<n_train>-s<seed>
    so that it stays unique in its sweep: its values of the other swept keys
    (`lr=0.01`), or of a named key whose value the name does not show (two model
    options with one model name); and the job number where a search may try a
    point twice (not `exhaustive`) or the sweep's keys are unknown."""
    keys = os.environ.get(SWEPT_KEYS_ENV)
    if keys is None:
        return f"j{job_num}"
    swept_keys = set(filter(None, keys.split(",")))
    parts = []
    for override in job_overrides:
        key, _, value = override.partition("=")
        key = key.lstrip("+~")
        if key not in swept_keys or key == "dataset.train_size" or shown.get(key) == value:
            continue
        parts.append(value if key in NAMED_KEYS else f"{key.rsplit('.', 1)[-1]}={value}")
    if not exhaustive:
        parts.append(f"j{job_num}")
    return "-".join(parts)


def progress(job_num: int) -> str:
    """`[i/N 0:12 elapsed, ~0:40 left]` for the job's line, from the sweep's
    start and size (jobs are assumed to take equal time); empty outside a sweep."""
    value = os.environ.get(PROGRESS_ENV)
    if not value:
        return ""
    n_jobs, _, started = value.partition(":")
    done, elapsed = job_num + 1, time.time() - float(started)
    if not n_jobs:
        return f"[{done} {_clock(elapsed)} elapsed] "
    left = elapsed / done * max(0, int(n_jobs) - done)
    return f"[{done}/{n_jobs} {_clock(elapsed)} elapsed, ~{_clock(left)} left] "


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def compose_in_chunks(config: DictConfig) -> None:
    """Have Hydra's basic sweeper compose and launch `COMPOSED_AT_ONCE` jobs at a
    time. Hydra calls on_multirun_start before it builds the sweeper from this config."""
    sweeper = config.hydra.get("sweeper")
    if (
        sweeper is not None
        and str(sweeper.get("_target_", "")).endswith("BasicSweeper")
        and sweeper.get("max_batch_size") is None
    ):
        with read_write(sweeper), open_dict(sweeper):
            sweeper.max_batch_size = COMPOSED_AT_ONCE


class MLflowSweepCallback(Callback):
    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from src.errors import UserError, one_line
        from src.startup import resume_collector

        # Collect while Hydra composes the jobs' configs (before the first job starts):
        # with the collector paused, each composition's cyclic garbage was kept (2.7 GB
        # for 2,000 jobs). A launcher that runs the jobs in other processes never trains here.
        resume_collector()
        compose_in_chunks(config)
        from src.tracking.mlflow_run import TrackedRun, git_commit, resolve_tracking_uri

        LAST_SWEEP_FAILURES.clear()
        overrides = list(config.hydra.overrides.task)
        tags = {
            Tag.SWEEP: "true",
            Tag.SWEEP_OVERRIDES: mask_secrets(" ".join(overrides))[:5000],
            Tag.LAUNCHER: str(config.hydra.launcher.get("_target_", "")).rsplit(".", 1)[-1],
            Tag.GIT_COMMIT: git_commit(),
            Tag.STUDY: config.get("study"),
        }
        name = f"sweep-{config.get('study') or config.dataset.name}"
        try:
            # A sweep's parent is a top-level run: a parent id left in the environment
            # (by the shell, or a sweep of this process that never closed) must not nest it.
            uri = resolve_tracking_uri(config.tracking.uri)
            run = TrackedRun.start(uri, config.tracking.experiment, name, tags, nested=False)
        except Exception as exc:
            # Hydra turns a callback's exception into a warning and goes on to
            # launch every job, which would then have no parent, no summary and
            # no --sweep latest link: a sweep whose parent cannot be created stops here.
            print(f"error: the sweep's parent run could not be created: {mask_secrets(one_line(exc))}",
                  file=sys.stderr, flush=True)  # fmt: skip
            raise SystemExit(exc.exit_code if isinstance(exc, UserError) else 1) from None
        os.environ[PARENT_RUN_ENV] = run.run_id
        if os.environ.get(SWEEP_ID_FILE_ENV):  # make run / make compare report on this very sweep
            Path(os.environ[SWEEP_ID_FILE_ENV]).write_text(run.run_id + "\n")
        try:
            keys, n_jobs = swept(config)
        except Exception:  # overrides this parser cannot read alone (a glob): jobs are then named by number
            keys, n_jobs = None, None
        self.job_environment = {PROGRESS_ENV: f"{n_jobs or ''}:{time.time()}"}
        if keys is not None:
            self.job_environment[SWEPT_KEYS_ENV] = ",".join(keys)
        os.environ.update(self.job_environment)
        self.parent_run_id = run.run_id
        ACTIVE_PARENT.update(client=run.client, run_id=run.run_id, experiment_id=run.experiment_id)

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        # Launchers that run jobs in other processes (joblib's loky workers,
        # submitit) pickle this callback into them with the parent's id, so the
        # job finds its parent whatever environment its process inherited.
        os.environ.update(getattr(self, "job_environment", {}))
        parent_run_id = getattr(self, "parent_run_id", None)
        if parent_run_id:
            os.environ[PARENT_RUN_ENV] = parent_run_id

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if not ACTIVE_PARENT:
            return
        close_parent(Status.FINISHED)


def close_parent(status: str) -> None:
    """Summarize the children on the parent run, then end it with `status`."""
    from src.tracking.sweep_summary import summary_markdown, sweep_summary

    client, run_id = ACTIVE_PARENT["client"], ACTIVE_PARENT["run_id"]
    try:
        children = client.search_runs(
            [ACTIVE_PARENT["experiment_id"]],
            filter_string=f"tags.`{Tag.PARENT_RUN_ID}` = '{run_id}'",
            max_results=50000,
        )
        children = [_close_orphan(client, child, status) for child in children]
        table = sweep_summary(children, filter(None, os.environ.get(SWEPT_KEYS_ENV, "").split(",")))
        failures = [
            f"{r.info.run_name}: {r.data.tags.get(Tag.ERROR, r.info.status)}"
            for r in children
            if r.info.status in (Status.FAILED, Status.KILLED)
        ]
        LAST_SWEEP_FAILURES[:] = failures
        markdown = summary_markdown(table, failures)
        print("\n" + markdown, flush=True)
        with tempfile.TemporaryDirectory(prefix="mlvsdl-sweep-") as tmp:
            table.to_csv(Path(tmp) / Artifact.SUMMARY_CSV, index=False)
            (Path(tmp) / Artifact.SUMMARY_MD).write_text(markdown)
            client.log_artifacts(run_id, tmp)
        from mlflow.entities import Metric

        client.log_batch(
            run_id,
            metrics=[Metric(RunMetric.N_JOBS, len(children), 0, 0), Metric(RunMetric.N_FAILED, len(failures), 0, 0)],
        )
        if failures:
            client.set_tag(run_id, Tag.FAILED_JOBS, str(len(failures)))
    finally:
        client.set_terminated(run_id, status)
        checkpoint(str(client.tracking_uri))  # the parent's end too is in mlflow.db itself
        for variable in (PARENT_RUN_ENV, SWEPT_KEYS_ENV, PROGRESS_ENV):
            os.environ.pop(variable, None)
        ACTIVE_PARENT.clear()


def abort_active_sweep(status: str) -> None:
    """Close a sweep's parent run that did not end normally: KILLED after Ctrl-C
    or SIGTERM, FAILED after an error outside the jobs."""
    if ACTIVE_PARENT:
        close_parent(status)
        print(f"the sweep's parent run was marked {status}", file=sys.stderr)


def _close_orphan(client: Any, child: Any, status: str) -> Any:
    """A child still RUNNING once its sweep ends lost its process (a launcher's
    worker killed with the launcher by SIGTERM, or by the out-of-memory killer):
    end it KILLED when the sweep was stopped, else FAILED, so that no run stays
    RUNNING for good. Returns the child as it now stands."""
    if child.info.status != Status.RUNNING:
        return child
    run_id = child.info.run_id
    if status == Status.KILLED:
        client.set_tag(run_id, Tag.STATUS_REASON, Reason.INTERRUPTED)
        client.set_terminated(run_id, Status.KILLED)
    else:
        client.set_tag(run_id, Tag.STATUS_REASON, Reason.EXCEPTION)
        client.set_tag(run_id, Tag.ERROR, "the job's process ended without closing its run")
        client.set_terminated(run_id, Status.FAILED)
    return client.get_run(run_id)
