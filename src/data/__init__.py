"""Data: the dataset catalogue, the shared split and the shared preprocessing.

The names below load lazily (PEP 562), so that importing the leaf types
(`src.data.types`) does not pull in pandas and scikit-learn.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Task": "src.data.types",
    "Dataset": "src.data.types",
    "REGRESSION": "src.data.catalogue",
    "BINARY": "src.data.catalogue",
    "MULTICLASS": "src.data.catalogue",
    "load_dataset": "src.data.catalogue",
    "PreparedData": "src.data.preprocessing",
    "prepare": "src.data.preprocessing",
    "Split": "src.data.splits",
    "make_split": "src.data.splits",
    "split_digest": "src.data.splits",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'src.data' has no attribute '{name}'")
    return getattr(import_module(_EXPORTS[name]), name)
