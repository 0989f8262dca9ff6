"""One renderer for the Markdown tables that the report, the sweep summary and
the benchmark print and log.

A leaf module: it imports nothing of the project (and neither pandas nor
numpy at import time), so every layer may use it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any


def format_cell(value: Any, digits: int = 4, missing: str = "—") -> str:
    """A cell as text: whole numbers without a decimal point, other floats to
    `digits` significant digits, None and NaN as `missing`."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isnan(value):
            return missing
        if value.is_integer() and abs(value) < 1e12:
            return str(int(value))
        return f"{value:.{digits}g}"
    return str(value)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]], digits: int = 4, missing: str = "—") -> str:
    """A GitHub-flavoured Markdown table; `|` and newlines inside cells are escaped."""

    def cell(value: Any) -> str:
        return format_cell(value, digits, missing).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(str(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def frame_markdown(frame: Any, digits: int = 4, missing: str = "—") -> str:
    """A pandas DataFrame as a Markdown table (its index left out)."""
    return markdown_table(
        [str(c) for c in frame.columns], list(frame.itertuples(index=False)), digits=digits, missing=missing
    )
