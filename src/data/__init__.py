"""Data: the dataset catalogue, the shared split and the shared preprocessing.

The names below load lazily (PEP 562), so that importing the leaf types
(`src.data.types`) does not pull in pandas and scikit-learn.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from src.data.types import Task

_EXPORTS = {
    "Dataset": "src.data.types",
    "load_dataset": "src.data.catalogue",
    "PreparedData": "src.data.preprocessing",
    "prepare": "src.data.preprocessing",
    "Split": "src.data.splits",
    "make_split": "src.data.splits",
    "split_digest": "src.data.splits",
}
# Aliases of the Task members, for modules not yet moved to `Task` (the runner,
# tests/job/test_same_footing.py); new code writes Task.regression etc.
_TASK_ALIASES = {"REGRESSION": Task.regression, "BINARY": Task.binary, "MULTICLASS": Task.multiclass}

__all__ = sorted(["Task", *_EXPORTS, *_TASK_ALIASES])


def __getattr__(name: str) -> Any:
    if name in _TASK_ALIASES:
        return _TASK_ALIASES[name]
    if name not in _EXPORTS:
        raise AttributeError(f"module 'src.data' has no attribute '{name}'")
    return getattr(import_module(_EXPORTS[name]), name)
