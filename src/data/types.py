"""The leaf types of the data layer: the `Task` of a dataset and the `Dataset` itself.

Everything else imports these from here (config schemas, models, metrics,
tracking, reports), so this module imports nothing of the project and nothing
heavy at import time: `python -m src.train --help` reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


class Task(str, Enum):
    """What a model predicts. A `str` enum: `Task.binary == "binary"` holds."""

    regression = "regression"
    binary = "binary"
    multiclass = "multiclass"

    def __str__(self) -> str:
        return self.value

    @property
    def is_classification(self) -> bool:
        return self is not Task.regression


@dataclass(frozen=True)
class Dataset:
    """A supervised dataset before splitting.

    `y` holds floats for regression and class indices 0..K-1 for
    classification (`class_names[k]` is the original label of class k).
    Features are float columns, except the `categorical` ones (object
    columns, NaN where missing), which the shared preprocessing encodes.
    """

    name: str
    task: Task
    X: pd.DataFrame
    y: np.ndarray
    source: str
    class_names: Optional[list[str]] = None
    # Boolean mask of rows that form the dataset's own, predefined test split.
    test_mask: Optional[np.ndarray] = None
    target_name: str = "target"
    categorical: tuple[str, ...] = ()
    # 'code' (generated or packaged), 'local' (a file) or 'http' (a URL).
    source_kind: str = "code"
    # The user's file, when the dataset is one: errors name it.
    path: Optional[str] = None
    # Rows dropped because their target was missing (counted, never silent).
    n_dropped_rows: int = 0
    # Cells of mostly-numeric columns that did not parse as numbers: read as missing.
    n_unparseable_cells: int = 0
    # Identifier-like text columns left out of the features (src/data/cell_checks.py).
    dropped_columns: tuple[str, ...] = ()

    @property
    def n_rows(self) -> int:
        return len(self.y)

    @property
    def feature_names(self) -> list[str]:
        return [str(c) for c in self.X.columns]

    @property
    def n_classes(self) -> int:
        return len(self.class_names) if self.class_names is not None else 0

    @property
    def label(self) -> str:
        """How error messages name the data: the file, else the catalogue entry."""
        return self.path if self.path else f"dataset '{self.name}'"

    def target_labels(self) -> np.ndarray:
        """y in the target's own labels (class names for classification)."""
        import numpy as np

        if self.class_names is None:
            return self.y
        return np.asarray(self.class_names, dtype=object)[self.y]
