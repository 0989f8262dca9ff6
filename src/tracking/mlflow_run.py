"""Run logging: one MLflow run per training, written through `MlflowClient` in few calls.

Every run -- a job, a sweep's parent, a report -- starts with `TrackedRun.start`.
Metrics, params and tags are buffered and written with `log_batch` (per-call
logging to SQLite costs about 6x more). A run always ends in a terminal
state: FINISHED when the body completes, FAILED on an exception (with the
message as a tag), KILLED on Ctrl-C / SIGTERM.

The store's plumbing lives beside this module: the check that a store is
usable before MLflow touches it (`store_check.py`), SQLite tuning, the
creation lock and the log checkpoint (`sqlite_store.py`), the server's
reachability check (`remote_store.py`), a run's owner process (`owner.py`),
passwords masked in URIs (`secrets.py`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from contextlib import contextmanager, suppress
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Optional

from src.errors import DivergedError, UserError, one_line
from src.tracking.owner import owner_tags
from src.tracking.record import Reason, RunMetric, Status, Tag, experiment_tags
from src.tracking.secrets import mask_secrets
from src.tracking.sqlite_store import checkpoint, creation_lock, sqlite_database, tune_sqlite_store
from src.tracking.store_check import check_store, short_error

# The default store sits at the repository root whatever the working directory
# (Hydra output folders, multirun jobs) is.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STORE = PROJECT_ROOT / "mlflow.db"
PARENT_RUN_ENV = "MLFLOW_PARENT_RUN_ID"

_MAX_PARAM_CHARS = 6000
_BATCH = 1000  # log_batch accepts up to 1000 metrics, 100 params, 100 tags per call
_OPENED: set[str] = set()  # stores this process has checked and opened


def is_global_zero() -> bool:
    """False in the extra processes of a distributed (DDP) training: only the
    process of global rank 0 talks to MLflow, so a training makes one run."""
    for variable in ("RANK", "SLURM_PROCID"):
        if variable in os.environ:
            return int(os.environ[variable]) == 0
    return int(os.environ.get("LOCAL_RANK", 0)) == 0 and int(os.environ.get("NODE_RANK", 0)) == 0


def resolve_tracking_uri(uri: Optional[str] = None) -> str:
    """tracking.uri, else $MLFLOW_TRACKING_URI, else the absolute SQLite store.

    A relative sqlite path is made absolute so that every job of a sweep
    writes to the same file."""
    value = uri or os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{DEFAULT_STORE}"
    prefix = "sqlite:///"
    if value.startswith(prefix) and not value[len(prefix) :].startswith("/"):
        value = prefix + str(Path(value[len(prefix) :]).resolve())
    return value


def client_for(uri: str, create: bool = True):
    """An MlflowClient on a store checked to be usable (src/tracking/store_check.py):
    an unreachable, read-only or corrupt store fails here, in seconds and one
    line naming it. create=False refuses to create a store that does not exist."""
    import logging

    from mlflow.tracking import MlflowClient

    # Keep stderr to our one-line messages: MLflow announces creating its tables at INFO.
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)

    if uri.startswith(("http://", "https://")):
        from src.tracking.remote_store import check_server

        check_server(uri)  # an unreachable server fails now, in one line, instead of after minutes of retries
        return MlflowClient(tracking_uri=uri)
    if uri in _OPENED:
        return MlflowClient(tracking_uri=uri)
    check_store(uri, create)
    if uri.startswith("sqlite:"):
        tune_sqlite_store(uri)
    try:
        with creation_lock(uri):  # a new store's schema is created by one process at a time
            client = MlflowClient(tracking_uri=uri)  # opens the store (MLflow caches it per URI)
            _ = client._tracking_client.store
    except Exception as exc:
        raise UserError(f"cannot open the MLflow store at {mask_secrets(uri)}: {short_error(exc)}") from None
    _OPENED.add(uri)
    return client


def ensure_experiment(client: Any, name: str) -> str:
    """The experiment's id, creating it if needed (safe when jobs race to create it)."""
    from mlflow.exceptions import MlflowException

    try:
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            return experiment.experiment_id
        # Tagged to open as a model-training experiment with a saved runs view (src/tracking/ui.py).
        return client.create_experiment(
            name, artifact_location=_artifact_location(client, name), tags=experiment_tags()
        )
    except MlflowException:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise
        return experiment.experiment_id


def _artifact_location(client: Any, experiment: str) -> Optional[str]:
    """Artifacts of an SQLite store go next to the database file.

    MLflow's default is ./mlruns under whatever the working directory is when
    the experiment is created, which scatters artifacts (and puts a test's
    artifacts into the repository). Servers keep their own default."""
    database = sqlite_database(str(getattr(client, "tracking_uri", "")))
    if database is None:
        return None
    return str(database.parent / "mlartifacts" / experiment.replace("/", "_"))


@contextmanager
def fluent_tracking_uri(uri: str) -> Iterator[None]:
    """Point MLflow's fluent API (which log_model uses) at `uri`, then restore
    exactly what was there -- `mlflow.set_tracking_uri` also rewrites
    $MLFLOW_TRACKING_URI, which the rest of the process may rely on."""
    import mlflow
    from mlflow.tracking._tracking_service import utils

    previous, previous_env = utils._tracking_uri, os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)
        if previous_env is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = previous_env


@lru_cache(maxsize=1)
def git_commit() -> Optional[str]:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'model': {'dropout': 0.1}} -> {'model.dropout': 0.1}; lists stay whole."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


@contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Let the run's final write complete even if Ctrl-C is pressed again."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class TrackedRun:
    """A live MLflow run with buffered metric writes."""

    def __init__(self, client: Any, run_id: str, experiment_id: str):
        self.client = client
        self.run_id = run_id
        self.experiment_id = experiment_id
        self._metrics: list[Any] = []
        self._params: dict[str, str] = {}
        self._tags: dict[str, str] = {}
        self.ended = False

    @classmethod
    def start(
        cls,
        tracking_uri: str,
        experiment: str,
        run_name: str,
        tags: Mapping[str, Any],
        parent_run_id: Optional[str] = None,
        nested: bool = True,
    ) -> TrackedRun:
        """Create the run (and the store and experiment if need be), RUNNING
        until `finish` or the end of a `with` block.

        A job's run is the child of `parent_run_id`, else of the sweep parent
        named by $MLFLOW_PARENT_RUN_ID. nested=False starts a top-level run
        whatever the environment says: a sweep's parent, a report's run."""
        try:
            client = client_for(tracking_uri)
            experiment_id = ensure_experiment(client, experiment)
            all_tags = {k: str(v) for k, v in tags.items() if v is not None} | owner_tags()
            parent = parent_run_id or (os.environ.get(PARENT_RUN_ENV) if nested else None)
            if parent:
                all_tags[Tag.PARENT_RUN_ID] = parent
            run = client.create_run(experiment_id, run_name=run_name, tags=all_tags)
        except UserError:
            raise
        except Exception as exc:
            raise UserError(
                f"cannot write to the MLflow store at {mask_secrets(tracking_uri)}: {short_error(exc)}"
            ) from None
        return cls(client, run.info.run_id, experiment_id)

    @classmethod
    def reopen(cls, tracking_uri: str, run_id: str, experiment_id: str) -> TrackedRun:
        """Continue an existing run (resume from a checkpoint): RUNNING again,
        owned by this process, and a child of the sweep in progress if any.
        A RUNNING run whose owner process is alive is refused."""
        from src.tracking.owner import owned_elsewhere, owner_alive

        client = client_for(tracking_uri)
        run = client.get_run(run_id)
        owner = run.data.tags.get(Tag.OWNER)
        if run.info.status == Status.RUNNING and owner_alive(owner):
            raise owned_elsewhere(run_id, owner)
        client.update_run(run_id, status=Status.RUNNING)
        tracked = cls(client, run_id, experiment_id)
        try:
            if Tag.ERROR in run.data.tags:  # the earlier attempt's error no longer describes the run
                client.delete_tag(run_id, Tag.ERROR)
            tags = {Tag.STATUS_REASON: Reason.RESUMED, Tag.RESUMED: "true", **owner_tags()}
            for key, value in tags.items():
                client.set_tag(run_id, key, value)
            join_active_sweep(client, run_id)
        except BaseException:
            client.set_terminated(run_id, Status.FAILED)
            raise
        return tracked

    # ------------------------------------------------------------------ writes
    def log_params(self, params: Mapping[str, Any]) -> None:
        """Buffer params; like metrics and tags, they are written by `flush`."""
        self._params.update({k: str(v)[:_MAX_PARAM_CHARS] for k, v in params.items()})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Buffer tags (written by `flush`)."""
        self._tags.update({k: str(v) for k, v in tags.items() if v is not None})

    def add_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        """Buffer metrics; they are written by `flush` (called when the run ends)."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self._metrics.extend(Metric(k, float(v), now, step) for k, v in metrics.items())

    def add_history(self, epochs: Iterable[Mapping[str, float]], from_epoch: int = 0) -> None:
        """Per-epoch metrics, with step = epoch (rows may carry their own `epoch`)."""
        for position, row in enumerate(epochs):
            epoch = int(row.get("epoch", position))
            if epoch >= from_epoch:
                self.add_metrics({k: v for k, v in row.items() if k != "epoch"}, step=epoch)

    def flush(self) -> None:
        """Write the buffered params, tags and metrics in as few calls as
        log_batch allows (100 params, 100 tags, 1000 metrics per call): one
        SQLite transaction costs about as much as the whole batch."""
        from mlflow.entities import Param, RunTag

        params = [Param(k, v) for k, v in self._params.items()]
        tags = [RunTag(k, v) for k, v in self._tags.items()]
        metrics = self._metrics
        self._params, self._tags, self._metrics = {}, {}, []
        while params or tags or metrics:
            self.client.log_batch(self.run_id, metrics=metrics[:_BATCH], params=params[:100], tags=tags[:100])
            params, tags, metrics = params[100:], tags[100:], metrics[_BATCH:]

    def log_inputs(self, datasets: list[Any]) -> None:
        self.client.log_inputs(self.run_id, datasets=datasets)

    def log_artifacts(self, local_dir: str | Path, artifact_path: Optional[str] = None) -> None:
        self.client.log_artifacts(self.run_id, str(local_dir), artifact_path)

    def finish(self, status: str = Status.FINISHED) -> None:
        """End the run with `status` (once: a run already ended stays as it is)."""
        if self.ended:
            return
        self.ended = True
        with _sigint_deferred():
            try:
                self.flush()
            except Exception as exc:
                # The run's record is incomplete: it must not read as FINISHED.
                status = Status.FAILED
                with suppress(Exception):
                    self.client.set_tag(self.run_id, Tag.ERROR, f"writing the run's results failed: {short_error(exc)}")
                raise
            finally:
                self.client.set_terminated(self.run_id, status)
                # The run is now in the database file itself, not only in its write-ahead log.
                checkpoint(str(self.client.tracking_uri))
                self._print_link()

    def _print_link(self) -> None:
        """On a tracking server, where the run is in its UI (MLflow's own line is turned off:
        it opens the GenAI view, src/tracking/remote_store.py)."""
        uri = str(self.client.tracking_uri)
        if not uri.startswith(("http://", "https://")):
            return
        from src.tracking.links import run_url, ui_base

        with suppress(Exception):
            name = self.client.get_run(self.run_id).info.run_name
            print(f"View run {name} at: {run_url(ui_base(uri), self.experiment_id, self.run_id)}", flush=True)

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> TrackedRun:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self.ended:  # ended on its own (a replica of seeds=[...] that diverged)
            return False
        if exc is None:
            self.finish(Status.FINISHED)
            return False
        with suppress(AttributeError):
            exc.mlflow_run_id = self.run_id  # lets a sweep tell recorded failures from unrecorded ones
        with _sigint_deferred():
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                status, reason = Status.KILLED, Reason.INTERRUPTED
            else:
                status = Status.FAILED
                reason = getattr(exc, "status_reason", None) or (
                    Reason.INVALID_INPUT if isinstance(exc, UserError) else Reason.EXCEPTION
                )
            try:
                self.set_tags({Tag.STATUS_REASON: reason, Tag.ERROR: mask_secrets(one_line(exc))[:5000]})
                if isinstance(exc, DivergedError):
                    self.add_metrics({RunMetric.DIVERGED_EPOCH: exc.epoch})
            finally:
                self.finish(status)
        return False


def join_active_sweep(client: Any, run_id: str) -> None:
    """Make an earlier run a child of the sweep in progress (a job that
    resume=true skipped or continued), so that the sweep's summary and
    `src.report --sweep latest` count it."""
    parent = os.environ.get(PARENT_RUN_ENV)
    if parent and parent != run_id:
        client.set_tag(run_id, Tag.PARENT_RUN_ID, parent)


class _Nothing:
    """Any attribute, any call: nothing happens."""

    def __getattr__(self, name: str) -> _Nothing:
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> _Nothing:
        return self


class NullTrackedRun(_Nothing):
    """Stands in for TrackedRun on the non-zero ranks of a distributed training."""

    run_id = "rank-nonzero"
    experiment_id = ""

    def __enter__(self) -> NullTrackedRun:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        return False
