"""The slides' weather sheet, parsed with its own conventions (NOAA daily summaries).

The sheet (`seed_tables.WEATHER_SHEET`) is copied cell for cell from the slide;
nothing is cleaned by hand. Its conventions, and what this parser does with them:

- `999.9` means "missing" (NOAA's code for a missing wind speed or gust;
  `9999.9` for temperatures and pressure, `99.99` for precipitation). Those
  cells become NaN and are imputed by the shared preprocessing, fit on the
  training rows only -- the rows are kept.
- `66.0*`: the star marks a max/min temperature derived from the hourly
  reports instead of reported explicitly. The number is kept; the mark goes
  to a boolean `... derived` column of the parsed sheet.
- `0.00D`: the letter after the precipitation says how it was measured (A-I:
  number and span of the reports; H and I flag a reported 0 with some doubt).
  The number is kept as `Precipitation`; the letter goes to the categorical
  `Precipitation flag` column of the parsed sheet.
- `###` in Year is a spreadsheet column too narrow to show the year: unknown.
- `'` in the first row's Month is a text cell left with only Excel's text
  prefix: an emptied cell, read as missing.

The dataset (`seed_weather`) predicts the mean temperature `Temp` from the
other numeric columns. The two kinds of flags are not features: like the star,
the precipitation letter records how a value was measured, not the weather,
and on 23 rows seven letters would one-hot into columns of one or two rows.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from src.data.seed_tables import WEATHER_SHEET

TARGET = "Temp"
# NOAA GSOD missing-value codes, per column.
MISSING_CODES = {"Precipitation": (99.99,), "default": (999.9, 9999.9)}
STARRED = ("Max temp", "Min temp")
# Not features, explicitly:
# - Location is the station id (723150), the same on every row;
# - Year is unknown on every row ('###');
# - Month is 1 on every row that shows it (the dates run Jan 1-23).
# `weather_dataset_frame` checks they are indeed constant or unknown before
# dropping them, so a changed sheet cannot silently lose information.
DROPPED = ("Location", "Year", "Month")


def _number(cells: pd.Series, column: str) -> pd.Series:
    values = pd.to_numeric(cells.str.strip(), errors="raise")
    codes = MISSING_CODES.get(column, MISSING_CODES["default"])
    return values.mask(values.isin(codes)).astype(np.float64)


def _unknown_to_nan(cells: pd.Series) -> pd.Series:
    """'###' (too narrow to show) and "'" (an emptied text cell) are unknown."""
    stripped = cells.str.strip()
    unknown = stripped.isin(["", "###", "'"])
    return pd.to_numeric(stripped.mask(unknown), errors="raise").astype(np.float64)


def parse_weather_sheet(text: str = WEATHER_SHEET) -> pd.DataFrame:
    """Every column of the sheet as numbers (NaN where unknown), plus the flags."""
    raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    out = pd.DataFrame(index=raw.index)
    for column in raw.columns:
        cells = raw[column]
        if column in ("Year", "Month"):
            out[column] = _unknown_to_nan(cells)
        elif column in STARRED:
            out[column] = _number(cells.str.rstrip("*"), column)
            out[f"{column} derived"] = cells.str.strip().str.endswith("*")
        elif column == "Precipitation":
            parts = cells.str.strip().str.extract(r"^([0-9.]+)([A-Z]?)$")
            if parts[0].isna().any():
                bad = cells[parts[0].isna()].iloc[0]
                raise ValueError(f"weather sheet: unparseable precipitation {bad!r}")
            out[column] = _number(parts[0], column)
            out["Precipitation flag"] = parts[1].replace("", np.nan)
        else:
            out[column] = _number(cells, column)
    return out


def weather_dataset_frame(sheet: pd.DataFrame | None = None) -> pd.DataFrame:
    """The target and the numeric feature columns of the sheet."""
    sheet = parse_weather_sheet() if sheet is None else sheet
    for column in DROPPED:
        known = sheet[column].dropna().unique()
        if len(known) > 1:
            raise ValueError(f"weather sheet: column {column} varies ({known}); it can no longer be dropped")
    flags = [c for c in sheet.columns if c.endswith(" derived") or c == "Precipitation flag"]
    return sheet.drop(columns=[*DROPPED, *flags])
