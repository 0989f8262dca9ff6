"""Raw arrays -> `Dataset`: the one constructor every loader goes through.

It names feature columns, encodes class labels as 0..K-1 (keeping the
original labels as `class_names`) and checks the labels against the task.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from src.data.types import Dataset, Task
from src.errors import DataError


def feature_frame(X: Any, prefix: str = "x") -> pd.DataFrame:
    """Float features as a frame with columns x (one feature) or x1, x2, ..."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    names = [prefix] if X.shape[1] == 1 else [f"{prefix}{i + 1}" for i in range(X.shape[1])]
    return pd.DataFrame(X, columns=names)


def encode_classes(y: Any) -> tuple[np.ndarray, list[str]]:
    """Class indices 0..K-1 in the sorted order of the labels, and the labels as text."""
    labels, codes = np.unique(np.asarray(y), return_inverse=True)
    return codes.astype(np.int64), [str(label) for label in labels]


def make_dataset(name: str, task: Task, X: Any, y: Any, source: str, **kwargs: Any) -> Dataset:
    """Wrap raw arrays, encoding class labels and checking them against the task."""
    task = Task(task)  # a plain "binary" too: every Dataset holds a Task member
    frame = X if isinstance(X, pd.DataFrame) else feature_frame(X)
    where = kwargs.get("path") or f"dataset '{name}'"
    if task is Task.regression:
        return Dataset(name, task, frame, np.asarray(y, dtype=np.float64), source, **kwargs)
    codes, class_names = encode_classes(y)
    if len(class_names) < 2:
        raise DataError(f"{where}: the target has a single class ({class_names[0]}); nothing to classify")
    if task is Task.binary and len(class_names) != 2:
        raise DataError(
            f"{where} is declared binary but its target has {len(class_names)} classes; set dataset.task=multiclass"
        )
    return Dataset(name, task, frame, codes, source, class_names=class_names, **kwargs)
