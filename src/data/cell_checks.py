"""What a table's cells may hold: the checks src/data/tables.py runs on every
table (the user's file, OpenML, the packaged real sets).

- Nested cells (a Parquet column of lists, structs or maps, read by pandas as
  arrays and dicts) are refused, naming the columns: a feature holds one
  number or one category per row, and a list turned into text would make
  every distinct list a category.
- Infinite numbers, and numbers beyond +-1e150 (squared, as standardizing and
  the losses do, they overflow float64), are refused, naming the columns: read
  as they are they turn the scaler's statistics or the loss into inf or NaN
  and the run into a "diverged" one, far from its cause. Refused rather than
  read as missing, since they are more often a unit or export error than a
  gap; `dataset.na_values=['inf']` marks them missing in a CSV on purpose.
- Identifier-like text columns (more than `IDENTIFIER_MIN_DISTINCT` distinct
  values, on more than `IDENTIFIER_MIN_SHARE` of the rows that have one: row
  ids, names, free text) are dropped with a warning that names them, and listed
  in the Dataset's `dropped_columns`: one-hot encoded, each of their values
  would be a column (20,000 rows of ids: 20,000 dense columns, gigabytes),
  and a value seen once in training says nothing about the test rows. A column
  listed in `dataset.categorical_columns` is kept as the user asked.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from src.errors import DataError

HUGE = 1e150
IDENTIFIER_MIN_DISTINCT = 100
IDENTIFIER_MIN_SHARE = 0.5


def quoted(names: Sequence[Any], limit: int = 30) -> str:
    shown = ", ".join(repr(str(n)) for n in list(names)[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def _columns(names: Sequence[str], verb: str) -> str:
    """'column 'a' holds' / 'columns 'a', 'b' hold'."""
    if len(names) == 1:
        return f"column {quoted(names)} {verb}s"
    return f"columns {quoted(names)} {verb}"


def _is_nested(value: Any) -> bool:
    return isinstance(value, (list, tuple, dict, set, np.ndarray))


def check_flat(frame: pd.DataFrame, where: str) -> None:
    """Refuse columns whose cells hold several values (lists, structs, maps)."""
    nested = []
    for name in frame.columns:
        column = frame[name]
        first = column.first_valid_index() if column.dtype == object else None
        if first is not None and _is_nested(column[first]):
            nested.append(name)
    if nested:
        raise DataError(
            f"{where}: {_columns(nested, 'hold')} lists or structs (several values per cell, e.g. "
            f"{frame[nested[0]].dropna().iloc[0]!r}); a feature holds one number or one category per row: "
            "flatten it into columns, or drop it with dataset.drop_columns"
        )


def check_finite(columns: dict[str, np.ndarray], where: str) -> None:
    """Refuse numeric columns (or a regression target) with inf or |x| > HUGE values."""
    bad = {}
    for name, values in columns.items():
        out_of_range = np.isinf(values) | (np.abs(np.nan_to_num(values)) > HUGE)
        if out_of_range.any():
            bad[name] = values[out_of_range]
    if bad:
        name, values = next(iter(bad.items()))
        raise DataError(
            f"{where}: {_columns(list(bad), 'hold')} infinite or huge numbers (beyond ±{HUGE:g}; "
            f"{len(values)} in '{name}', e.g. {values[0]:g}); fix them at the source, or mark them missing "
            "(dataset.na_values=['inf'] in a CSV)"
        )


def is_identifier(values: pd.Series) -> bool:
    """A text column with a distinct value on most rows (missing ones aside)."""
    present = values.dropna()
    distinct = present.nunique()
    return distinct > IDENTIFIER_MIN_DISTINCT and distinct > IDENTIFIER_MIN_SHARE * len(present)
