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

import fcntl
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Mapping, Optional
from urllib.parse import unquote, urlparse

import optuna
from optuna.trial import TrialState

from src.data.digest import data_digest
from src.errors import ConfigError, UserError

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
    the sweeper settings that change what a trial scores, and for `dataset=table`
    the file's content (a changed table starts a new study, as config_hash reruns a run)."""
    keyed = {
        "job": {k: v for k, v in job_config.items() if k not in ("tracking", "resume", "seed", "hydra")},
        "space": {k: repr(v) for k, v in sorted(space.items())},
        "sweeper": {k: v for k, v in sweeper.items() if k not in _NOT_KEYED and not k.startswith("_")},
    }
    data = data_digest(job_config.get("dataset") or {})
    if data is not None:  # only where the data is a file: every other study keeps its name
        keyed["data_digest"] = data
    digest = hashlib.sha256(json.dumps(keyed, sort_keys=True, default=str).encode()).hexdigest()[:12]
    model = job_config.get("model", {}).get("name", "model")
    dataset = job_config.get("dataset", {}).get("name", "data")
    return f"{model}-{dataset}-{digest}"


def journal(path: Path) -> optuna.storages.BaseStorage:
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    path.parent.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(str(path)))


def lock(path: Path) -> Any:
    """Hold `<study>.lock` beside the journal for as long as this process runs the
    search: a second search of the same study is refused instead of renaming the
    journal under the first, or marking the first's running trial FAIL. The lock
    (flock) goes with the process, so a killed search leaves none behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path.with_suffix(".lock"), "a+")  # noqa: SIM115 -- held open: the open file is the lock
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise UserError(
            f"study {path.stem} ({path}) is in use by another search ({holder}); wait for it to end"
        ) from None
    handle.truncate(0)
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    return handle


KEY_ATTR = "search_key"  # the study's user attribute: the digest of what its trials score


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
    trials a killed search had left running). The caller holds `lock(path)`.
    resume=true continues the study at `path`: a trial left RUNNING by a search
    that was killed is marked FAIL (it counts for nothing and is tried again). Without
    resume an existing study file is renamed `<name>.<time>.log`, kept, and a fresh
    study starts. `key` (study_key's digest) must match the stored study's: a fixed
    study_name does not continue a study of another model, data or space."""
    moved = None
    if path.exists() and not resume:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        moved = next(
            candidate
            for n in range(1000)
            if not (candidate := path.with_name(f"{path.stem}.{stamp}{f'-{n}' if n else ''}{path.suffix}")).exists()
        )
        path.rename(moved)
    try:
        study = optuna.create_study(
            storage=journal(path),
            sampler=sampler,
            pruner=pruner or optuna.pruners.NopPruner(),
            study_name=name,
            direction=direction,
            load_if_exists=True,
        )
    except ValueError as exc:  # e.g. a stored study of the other direction
        raise ConfigError(f"the stored study {name} ({path}) does not match this search: {exc}") from None
    if study.direction.name.lower() != direction:
        raise ConfigError(
            f"the stored study {name} ({path}) does not match this search: it was made to {study.direction.name.lower()}"
        )
    stored = study.user_attrs.get(KEY_ATTR)
    if key is not None and stored is None:  # a new study (or one from before keys were stored)
        study.set_user_attr(KEY_ATTR, key)
    elif key is not None and stored != key:
        raise ConfigError(
            f"the stored study {name} ({path}) does not match this search (another model, data, space or "
            "settings): choose another hydra.sweeper.study_name, or drop resume=true to start it afresh"
        )
    stale = [t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING))]
    for number in stale:
        study.tell(number, state=TrialState.FAIL)
    return study, moved, stale


def continued_sampler(keywords: Mapping[str, Any], study: optuna.Study) -> optuna.samplers.BaseSampler:
    """TPE for this session: its seed moves on by the trials the study already holds,
    so a resumed search does not propose again what the first session proposed."""
    keywords = dict(keywords)
    if keywords.get("seed") is not None:
        keywords["seed"] = int(keywords["seed"]) + len(study.trials)
    return optuna.samplers.TPESampler(**keywords)


REPEAT_OF = "repeat_of"  # a trial's user attribute: the complete trial whose parameters it proposed again


def ask_new(study: optuna.Study, space: Mapping[str, Any], tries: int = 20) -> optuna.Trial:
    """A trial whose parameters no complete trial has had: a repeat is not run (it would
    score what is known) but told FAIL with `repeat_of`, and the sampler asked again.
    After `tries` repeats the space is taken as spent and the repeat is run."""
    scored = {_params_key(t.params): t.number for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))}
    for _ in range(tries):
        trial = study.ask(dict(space))
        repeat = scored.get(_params_key(trial.params))
        if repeat is None:
            return trial
        trial.set_user_attr(REPEAT_OF, repeat)
        study.tell(trial, state=TrialState.FAIL)
    return study.ask(dict(space))


def _params_key(params: Mapping[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, default=str)


def finished(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The trials the budget counts: complete and pruned (failed ones are retried)."""
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
