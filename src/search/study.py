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


def open_study(
    path: Path,
    name: str,
    direction: str,
    sampler: optuna.samplers.BaseSampler,
    pruner: Optional[optuna.pruners.BasePruner],
    resume: bool,
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
    stale = [t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING))]
    for number in stale:
        study.tell(number, state=TrialState.FAIL)
    return study, moved, stale


def finished(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The trials the budget counts: complete and pruned (failed ones are retried)."""
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
