"""A search's Optuna study: where it is stored, what it is called, how it resumes.

The study is a journal file beside the MLflow store: for `sqlite:////x/mlflow.db`
it is `/x/optuna/<study name>.log` (for a tracking server, `./optuna/` under the
directory the search started in; `hydra.sweeper.storage` names another
directory). A journal file needs no database server and takes the writes of
jobs in other processes (Optuna locks it), which report the MLP's epochs.

The name is a digest of everything that decides what a trial scores: the job
configuration without the searched keys (model, dataset, trainer budget, ...),
the search space, the direction, the metric, the sampler and pruner settings
and the selection seeds -- never `n_trials` or `timeout`, so that a larger
budget continues the same study.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Mapping, Optional
from urllib.parse import unquote, urlparse

import optuna
from optuna.trial import TrialState

# Settings of the sweeper that do not change what a trial scores.
_NOT_KEYED = ("n_trials", "timeout", "n_jobs", "storage", "study_name", "final_seeds", "params")


def storage_dir(tracking_uri: str, configured: Optional[str], start_dir: str) -> Path:
    """Where a search keeps its study files: `configured`, else beside a SQLite
    MLflow store, else `optuna/` under the directory the search started in."""
    if configured:
        return Path(configured).expanduser().resolve()
    parsed = urlparse(tracking_uri)
    if parsed.scheme == "sqlite":
        return Path(unquote(parsed.path)).parent.resolve() / "optuna"
    if parsed.scheme in ("", "file"):
        return Path(unquote(parsed.path) or start_dir).resolve() / "optuna"
    return Path(start_dir).resolve() / "optuna"


def study_key(job_config: Mapping[str, Any], space: Mapping[str, Any], sweeper: Mapping[str, Any]) -> str:
    """`<model>-<dataset>-<digest>`: the digest covers the job config, the space and
    the sweeper settings that change what a trial scores."""
    keyed = {
        "job": {k: v for k, v in job_config.items() if k not in ("tracking", "resume", "seed", "hydra")},
        "space": {k: repr(v) for k, v in sorted(space.items())},
        "sweeper": {k: v for k, v in sweeper.items() if k not in _NOT_KEYED and not k.startswith("_")},
    }
    digest = hashlib.sha256(json.dumps(keyed, sort_keys=True, default=str).encode()).hexdigest()[:12]
    model = job_config.get("model", {}).get("name", "model")
    dataset = job_config.get("dataset", {}).get("name", "data")
    return f"{model}-{dataset}-{digest}"


def journal(path: Path) -> optuna.storages.BaseStorage:
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    path.parent.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(str(path)))


def hold_study_lock(path: Path) -> Any:
    """An exclusive lock on `<study>.lock`, held as long as the returned file stays open (this
    process); another search of the same study is refused in one line (exit 2)."""
    import fcntl

    from src.errors import ConfigError

    lock_path = path.with_name(path.name + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock_path, "a+")  # noqa: SIM115 -- held open: the lock lives as long as the file
    except OSError as exc:
        raise ConfigError(
            f"the search storage {path.parent} cannot be written ({exc.strerror}); "
            "set hydra.sweeper.storage to a writable directory"
        ) from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise ConfigError(
            f"the study {path.name} is in use by another search ({holder}); wait for it to end, "
            "or give this one its own hydra.sweeper.study_name"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}\n")
    handle.flush()
    return handle


def open_study(
    path: Path,
    name: str,
    direction: str,
    sampler: optuna.samplers.BaseSampler,
    pruner: Optional[optuna.pruners.BasePruner],
    resume: bool,
    key: Optional[str] = None,
) -> tuple[optuna.Study, Optional[Path], list[int]]:
    """(the study, where an earlier one was moved aside or None, the numbers of the
    trials a killed search had left running). resume=true continues
    the study at `path`: a trial left RUNNING by a search that was killed is marked
    FAIL (it counts for nothing and is tried again). Without resume an existing
    study file is renamed `<name>.<time>.log`, kept, and a fresh study starts."""
    moved = None
    if path.exists() and not resume:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        moved = next(
            candidate
            for n in range(1000)
            if not (candidate := path.with_name(f"{path.stem}.{stamp}{f'-{n}' if n else ''}{path.suffix}")).exists()
        )
        path.rename(moved)
    study = optuna.create_study(
        storage=journal(path),
        sampler=sampler,
        pruner=pruner or optuna.pruners.NopPruner(),
        study_name=name,
        direction=direction,
        load_if_exists=True,
    )
    stored = study.user_attrs.get("key")
    if key is not None and stored is None:
        study.set_user_attr("key", key)
    elif key is not None and stored != key:
        from src.errors import ConfigError

        raise ConfigError(
            f"the stored study {name} ({path}) does not match this search: its model, dataset, space or "
            f"settings differ (key {stored} there, {key} here); drop hydra.sweeper.study_name or choose another"
        )
    stale = [t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING))]
    for number in stale:
        study.tell(number, state=TrialState.FAIL)
    return study, moved, stale


def finished(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The trials the budget counts: complete and pruned (failed ones are retried)."""
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
