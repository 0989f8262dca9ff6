"""Tables -> `Dataset`: the user's CSV / Parquet file, and the checks and column
typing that every table goes through (packaged real sets and OpenML too).

A table is data, never code: it is read by pandas' CSV reader or pyarrow's
Parquet reader, and nothing in it is evaluated.

Every problem a file can have gets a one-line `DataError` that starts with
the file's path and says what is wrong:

- the file is missing, unreadable, not CSV/Parquet, or empty (no columns / no rows);
- the target column is missing (the message lists the columns that exist);
- the target has a single class (or a single value);
- a column is all missing;
- column names are duplicated;
- a numeric column is mostly unparseable (e.g. '$1,200' or '12.5%');
- a column holds lists or structs (Parquet), or infinite or huge numbers
  (beyond +-1e150), named with its count (src/data/cell_checks.py says why);
- fewer rows than the split needs, or more classes than test rows
  (checked by the split, src/data/splits.py, with the same naming).

Column types. Numeric and boolean columns are numeric features; text columns
are categorical features (one-hot encoded by the shared preprocessing), with
two exceptions. A text column whose values mostly look like numbers is
numeric: if more than half of its values still do not parse (thousands
separators, currency, units) it is an error, else the few that do not parse
are read as missing -- counted and logged as `n_unparseable_cells`, and
imputed. `dataset.categorical_columns` / `dataset.numeric_columns` override
the guess; `dataset.na_values` adds missing-value markers such as '?'.
A text column with a distinct value on most rows (more than 100 distinct
values, on more than half of the rows: ids, names) is dropped with a warning
that names it, and listed in the Dataset's `dropped_columns` -- one-hot
encoded it would add a column per row; `dataset.categorical_columns` keeps it.

Missing values. Missing feature cells are imputed by the shared preprocessing
(fit on the training rows only). Rows whose target is missing cannot be used:
they are dropped and counted (`n_dropped_rows` is logged with every run).
The Dataset's `X` keeps the file's row numbers as its index (0-based data
rows, as read), so that a run's `row_id`s index the user's file even when
rows were dropped.

Task. `dataset.task=null` infers it from the target: two distinct values ->
binary; a non-numeric target -> multiclass; numbers with at most 20 distinct
values, all whole -> multiclass; other numbers -> regression.
`dataset.task=<task>` overrides the guess.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

import numpy as np
import pandas as pd

from src.data.build import make_dataset
from src.data.cell_checks import check_finite, check_flat, is_identifier, quoted
from src.data.types import Dataset, Task
from src.errors import DataError

log = logging.getLogger(__name__)

MAX_INFERRED_CLASSES = 20  # whole-number targets with more distinct values are regression
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
COMPRESSION_SUFFIXES = (".gz", ".bz2", ".zip", ".xz", ".zst")
# A value that looks like a number someone formatted: digits with separators,
# a sign, currency, a percent sign or accounting parentheses.
_NUMBER_LIKE = re.compile(r"^\s*[(+-]?\s*[$€£¥]?\s*[+-]?\d[\d,.\s'_]*%?\s*\)?\s*$")

if TYPE_CHECKING:
    from src.config.dataset import DatasetConfig


@dataclass(frozen=True)
class TableOptions:
    """How a table's columns are read (the `dataset.*` fields that apply)."""

    drop_columns: tuple[str, ...] = ()
    categorical_columns: tuple[str, ...] = ()
    numeric_columns: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, cfg: DatasetConfig) -> TableOptions:
        def names(key: str) -> tuple[str, ...]:
            return tuple(str(v) for v in (getattr(cfg, key) or ()))

        return cls(names("drop_columns"), names("categorical_columns"), names("numeric_columns"))


# --------------------------------------------------------------------------- reading a file


def resolve_path(path: str) -> Path:
    """A user path, relative to where the command was started (also under Hydra)."""
    from hydra.utils import to_absolute_path

    return Path(to_absolute_path(str(Path(str(path)).expanduser())))


def _kind(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last in PARQUET_SUFFIXES:
        return "parquet"
    if last in CSV_SUFFIXES:
        return "csv"
    raise DataError(
        f"{path}: unsupported file type '{last or path.name}'; use a CSV (.csv, .tsv, .txt) "
        "or Parquet (.parquet, .pq) file"
    )


def read_table(path: str, sep: Optional[str] = None, encoding: str = "utf-8",
               na_values: Sequence[str] = (), decimal: str = ".") -> pd.DataFrame:  # fmt: skip
    """Read a CSV or Parquet file; every failure is a one-line DataError naming it."""
    where = str(path)
    p = resolve_path(path)
    if not p.exists():
        raise DataError(f"{where}: no such file")
    if p.is_dir():
        raise DataError(f"{where}: is a directory, not a CSV or Parquet file")
    kind = _kind(p)
    try:
        if p.stat().st_size == 0:
            raise DataError(f"{where}: the file is empty")
        if kind == "parquet":
            import pyarrow.parquet as pq

            names = [str(n) for n in pq.read_schema(p).names]
            _check_unique(names, where)
            frame = pd.read_parquet(p)
            if na_values:
                frame = frame.replace(list(na_values), np.nan)
        else:
            if sep is None:
                sep = "\t" if ".tsv" in [s.lower() for s in p.suffixes] else ","
            header = pd.read_csv(p, sep=sep, encoding=encoding, header=None, nrows=1, dtype=str,
                                 keep_default_na=False)  # fmt: skip
            _check_unique([str(n).strip() for n in header.iloc[0].tolist()], where)
            frame = pd.read_csv(p, sep=sep, encoding=encoding, na_values=list(na_values) or None,
                                decimal=decimal, low_memory=False)  # fmt: skip
    except DataError:
        raise
    except PermissionError:
        raise DataError(f"{where}: cannot be read (permission denied)") from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{where}: is not {encoding} text ({exc.reason} at byte {exc.start}); "
            "set dataset.encoding (e.g. latin-1), or is it a binary file?"
        ) from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{where}: the file is empty (no header, no rows)") from None
    except pd.errors.ParserError as exc:
        detail = " ".join(str(exc).split())
        raise DataError(f"{where}: cannot be parsed as CSV: {detail}") from None
    except (OSError, ValueError, ImportError) as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise DataError(f"{where}: cannot be read as {kind}: {detail}") from None
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _check_unique(names: Sequence[str], where: str) -> None:
    seen, duplicated = set(), []
    for name in names:
        if name in seen and name not in duplicated:
            duplicated.append(name)
        seen.add(name)
    if duplicated:
        raise DataError(f"{where}: duplicated column names: {quoted(duplicated)}; each column needs its own name")


# --------------------------------------------------------------------------- a frame -> a Dataset


def infer_task(target: pd.Series) -> Task:
    """binary / multiclass / regression, from the (non-missing) target values."""
    values = target.dropna()
    n_unique = values.nunique()
    if n_unique == 2:
        return Task.binary
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return Task.multiclass
    numbers = values.to_numpy(dtype=np.float64)
    if n_unique <= MAX_INFERRED_CLASSES and np.all(numbers == np.round(numbers)):
        return Task.multiclass
    return Task.regression


def _numeric_text(column: pd.Series, name: str, where: str, declared: bool) -> Optional[tuple[pd.Series, int]]:
    """A text column read as numbers, with its count of unparseable cells, or
    None when it is not a numeric column (then it is categorical)."""
    present = column.dropna().astype(str).str.strip()
    if len(present) == 0:
        return None
    parsed = pd.to_numeric(present, errors="coerce")
    parses = parsed.notna()
    if not declared:
        looks_numeric = parses | present.str.match(_NUMBER_LIKE)
        if looks_numeric.mean() < 0.5:
            return None
    if parses.mean() < 0.5:
        bad = present[~parses]
        raise DataError(
            f"{where}: column '{name}' looks numeric but {len(bad)} of its {len(present)} values do not "
            f"parse as numbers (e.g. {bad.iloc[0]!r}); clean the column, or list it in "
            "dataset.categorical_columns"
        )
    values = pd.Series(np.nan, index=column.index, dtype=np.float64)
    values[present.index] = parsed.astype(np.float64)
    return values, int((~parses).sum())


def frame_to_dataset(
    frame: pd.DataFrame,
    *,
    name: str,
    target: Optional[str],
    task: Optional[Task],
    source: str,
    where: str,
    options: TableOptions = TableOptions(),
    source_kind: str = "code",
    path: Optional[str] = None,
) -> Dataset:
    """Check a table, type its columns, drop (and count) rows without a target.
    A task of None is inferred from the target."""
    columns = [str(c) for c in frame.columns]
    _check_unique(columns, where)
    frame = frame.set_axis(columns, axis=1)
    if not target:
        raise DataError(f"{where}: no target column given; set dataset.target to one of: {quoted(columns)}")
    if target not in frame.columns:
        hint = ""
        if len(columns) == 1:
            delimiter = next((d for d in (";", "\t", "|") if d in columns[0]), None)
            if delimiter is not None:
                hint = f"; is the delimiter {delimiter!r}? set dataset.sep"
                # A ';'-separated file usually writes decimals with a comma (1,5), which would read as text.
                if delimiter == ";":
                    hint += ", and dataset.decimal=',' if its numbers read 1,5 (make compare: SEP=';' DECIMAL=',')"
        raise DataError(f"{where}: the target column '{target}' is missing; columns: {quoted(columns)}{hint}")
    unknown = [c for c in (*options.drop_columns, *options.categorical_columns, *options.numeric_columns)
               if c not in frame.columns]  # fmt: skip
    if unknown:
        raise DataError(f"{where}: dataset.*_columns name columns it does not have: {quoted(unknown)}")
    if target in options.drop_columns:
        raise DataError(f"{where}: dataset.drop_columns drops the target '{target}'")
    if len(frame) == 0:
        raise DataError(f"{where}: the table has a header but no rows")
    frame = frame.drop(columns=list(options.drop_columns))
    check_flat(frame, where)
    features = [c for c in frame.columns if c != target]
    if not features:
        raise DataError(f"{where}: no feature columns besides the target '{target}'")

    empty = [c for c in frame.columns if frame[c].isna().all()]
    if target in empty:
        raise DataError(f"{where}: the target column '{target}' is empty (all {len(frame)} values missing)")
    if empty:
        raise DataError(
            f"{where}: {'column' if len(empty) == 1 else 'columns'} {quoted(empty)} "
            f"{'is' if len(empty) == 1 else 'are'} all missing; drop with dataset.drop_columns=[...]"
        )

    # Rows without a target cannot be learned from or scored: dropped, counted, logged.
    missing_target = frame[target].isna().to_numpy()
    n_dropped = int(missing_target.sum())
    if n_dropped:
        log.warning("%s: dropped %d rows whose target '%s' is missing", where, n_dropped, target)
        frame = frame.loc[~missing_target]  # the index stays the file's row numbers: row_id joins back

    X, categorical, n_unparseable, dropped = _type_features(frame[features], where, options)
    if dropped:
        log.warning("%s: dropped %s: text with a distinct value on most rows (ids?), too many categories "
                    "to encode; list in dataset.categorical_columns to keep", where, quoted(dropped))  # fmt: skip
    if X.shape[1] == 0:
        raise DataError(
            f"{where}: no feature columns left once the identifier-like text columns {quoted(dropped)} "
            "(a distinct value on most rows) were dropped; list them in dataset.categorical_columns to keep them"
        )

    y = frame[target]
    if y.nunique() < 2:
        raise DataError(
            f"{where}: the target '{target}' has a single class ({y.iloc[0]!r} on every row); nothing to learn"
        )
    if task is None:
        task = infer_task(y)
        log.info("%s: task inferred from the target '%s': %s", where, target, task)
    if task == Task.regression:
        numbers = pd.to_numeric(y, errors="coerce")
        if numbers.isna().any():
            bad = y[numbers.isna()].iloc[0]
            raise DataError(
                f"{where}: the target '{target}' is not numeric (e.g. {bad!r}); regression needs numbers, "
                "or set dataset.task=binary/multiclass"
            )
        y = numbers.to_numpy(dtype=np.float64)
        check_finite({target: y}, where)
    else:
        y = _class_labels(y)
    return make_dataset(
        name, task, X, y, source,
        target_name=target, categorical=tuple(categorical), source_kind=source_kind, path=path,
        n_dropped_rows=n_dropped, n_unparseable_cells=n_unparseable, dropped_columns=tuple(dropped),
    )  # fmt: skip


def _class_labels(y: pd.Series) -> np.ndarray:
    """Class labels that sort naturally: whole floats become ints (1.0 -> 1)."""
    if pd.api.types.is_bool_dtype(y):
        return y.astype(np.int64).to_numpy()
    if pd.api.types.is_numeric_dtype(y):
        values = y.to_numpy(dtype=np.float64)
        return values.astype(np.int64) if np.all(values == np.round(values)) else values
    return y.astype(str).to_numpy()


def _type_features(
    X: pd.DataFrame, where: str, options: TableOptions
) -> tuple[pd.DataFrame, list[str], int, list[str]]:
    """The typed features, the categorical ones, the count of unparseable cells
    and the identifier-like text columns dropped."""
    out: dict[str, pd.Series] = {}
    categorical: list[str] = []
    dropped: list[str] = []
    n_unparseable = 0
    for name in X.columns:
        column = X[name]
        if name in options.categorical_columns:
            kind = "categorical"
        elif pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
            kind = "numeric"
        elif pd.api.types.is_datetime64_any_dtype(column) or pd.api.types.is_timedelta64_dtype(column):
            raise DataError(
                f"{where}: column '{name}' holds dates or durations; turn it into numbers "
                "or drop it with dataset.drop_columns"
            )
        else:
            numeric = _numeric_text(column, name, where, declared=name in options.numeric_columns)
            if numeric is not None:
                out[name], bad = numeric
                if bad:
                    log.warning("%s: column '%s': %d values do not parse as numbers; read as missing",
                                where, name, bad)  # fmt: skip
                n_unparseable += bad
                continue
            kind = "categorical"
        if kind == "numeric":
            out[name] = column.astype(np.float64)
        elif name not in options.categorical_columns and is_identifier(column):
            dropped.append(name)
        else:
            present = column.notna().to_numpy()
            values = column[present]
            if pd.api.types.is_float_dtype(values) and np.all(values == np.round(values)):
                values = values.astype(np.int64)  # 75001.0 (a column with gaps) -> '75001'
            text = np.full(len(column), np.nan, dtype=object)
            text[present] = values.astype(str).to_numpy(dtype=object)
            out[name] = pd.Series(text, index=column.index, dtype=object)
            categorical.append(name)
    numeric = {name: values.to_numpy() for name, values in out.items() if name not in categorical}
    check_finite(numeric, where)
    return pd.DataFrame(out, index=X.index), categorical, n_unparseable, dropped


# --------------------------------------------------------------------------- entry points


def load_table(cfg: DatasetConfig) -> Dataset:
    """dataset=table: the user's own CSV or Parquet file."""
    path = str(cfg.path)
    frame = read_table(path, sep=cfg.sep, encoding=cfg.encoding, na_values=tuple(cfg.na_values), decimal=cfg.decimal)
    return frame_to_dataset(
        frame,
        name=cfg.name,
        target=cfg.target,
        task=cfg.task,
        source=str(resolve_path(path)),
        where=path,
        options=TableOptions.from_config(cfg),
        source_kind="local",
        path=path,
    )
