"""The names of a search's runs, and finding a run by the name it was given.

A search names its jobs `<model>-<dataset>-n{n_train}-t<trial>-s<seed>` (a trial)
and `<model>-<dataset>-n{n_train}-tuned-s<seed>` / `...-default-s<seed>` (the final
runs): the runner puts the run's training-row count in place of the `{n_train}`
token once the split is made (`lightgbm-digits-n1294-t3-s0`); before the split,
the name is the same without `-n{n_train}`. The study's digest stays in the
`search_study` tag.

A run is found by the name it ended with, whatever that count is: the pattern
of a name accepts `-n<digits>`, the token left as it was (a runner that does not
fill it in), no size at all (a run that stopped before its split, and the runs
of searches recorded before names carried the size), and nothing else.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Optional

from src.config.spec import N_TRAIN_TOKEN  # the runner replaces it with the run's training-row count

_SIZE = f"-n{N_TRAIN_TOKEN}"


def trial_name(prefix: str, number: int, seed: int) -> str:
    """A trial's run on one selection seed: `<prefix>-n{n_train}-t<number>-s<seed>`."""
    return f"{prefix}{_SIZE}-t{number}-s{seed}"


def final_name(prefix: str, stage: str, seed: int) -> str:
    """A final run: stage 'final' (the best configuration) is named tuned, 'default' default."""
    return f"{prefix}{_SIZE}-{'tuned' if stage == 'final' else 'default'}-s{seed}"


def name_override(name: str) -> str:
    """The Hydra override that gives a job this name: quoted, for the token's braces."""
    return f"tracking.run_name='{name}'"


def pattern(name: str) -> re.Pattern[str]:
    """The names a run given `name` may end with (see the module's docstring)."""
    head, token, tail = name.partition(_SIZE)
    if not token:
        return re.compile(re.escape(name))
    size = r"(?:-n(?:\d+|" + re.escape(N_TRAIN_TOKEN) + r"))?"
    return re.compile(re.escape(head) + size + re.escape(tail))


def matches(name: str, run_name: Optional[str]) -> bool:
    return run_name is not None and pattern(name).fullmatch(run_name) is not None


def find(runs: Iterable[Any], names: Iterable[str]) -> dict[str, Any]:
    """{given name: run} for the runs whose name matches one of `names` (MLflow runs)."""
    patterns = [(name, pattern(name)) for name in names]
    found: dict[str, Any] = {}
    for run in runs:
        for name, compiled in patterns:
            if compiled.fullmatch(run.info.run_name or ""):
                found[name] = run
                break
    return found
