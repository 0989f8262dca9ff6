"""Value ranges of the config's fields, declared on the schema fields themselves.

A field with a range is written `n_samples: int = bounded(100, SAMPLES)`: the range sits
in the field's metadata, where its schema declares the field, and src/config/checks.py
refuses a value out of it before any data loads, in one line naming the key and the
range (`error: trainer.max_epochs=0 is out of range: an integer >= 1`). A leaf module:
the schemas of every group import it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

MAX_SEED = 2**32 - 1  # numpy's and scikit-learn's seeds are 32-bit


@dataclass(frozen=True)
class Range:
    """What a value must be, and how a message says it."""

    holds: Callable[[Any], bool]
    text: str
    bad: Any  # a value out of the range (the tests set it to see the refusal)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def integer_at_least(low: int) -> Range:
    return Range(lambda v: _integer(v) and v >= low, f"an integer >= {low}", low - 1)


def integer_in(low: int, high: int) -> Range:
    return Range(lambda v: _integer(v) and low <= v <= high, f"an integer in [{low}, {high}]", low - 1)


def at_least(low: float) -> Range:
    return Range(lambda v: _number(v) and v >= low, f"a number >= {low:g}", low - 1)


def above(low: float) -> Range:
    return Range(lambda v: _number(v) and v > low, f"a number > {low:g}", low)


def fraction(closed_low: bool, closed_high: bool) -> Range:
    """A number in [0, 1], (0, 1], [0, 1) or (0, 1)."""

    def holds(v: Any) -> bool:
        return _number(v) and (v >= 0 if closed_low else v > 0) and (v <= 1 if closed_high else v < 1)

    text = f"a number in {'[' if closed_low else '('}0, 1{']' if closed_high else ')'}"
    return Range(holds, text, 1.5)


def optional(inner: Range) -> Range:
    return Range(lambda v: v is None or inner.holds(v), f"null or {inner.text}", inner.bad)


def each(inner: Range, text: str) -> Range:
    return Range(lambda v: isinstance(v, list) and all(inner.holds(x) for x in v), text, [inner.bad])


def split_size(zero: bool, whole: bool) -> Range:
    """dataset.*_size: a fraction of the rows or a count of them (src/data/splits.py).
    `whole`: 1 (all the rows) is allowed; `zero`: 0 (none) is."""

    def holds(v: Any) -> bool:
        if not _number(v):
            return False
        if v == 0:
            return zero
        return 0 < v < 1 or (v == 1 and whole) or (v > 1 and v == int(v))

    fractions = "(0, 1]" if whole else "(0, 1)"
    text = f"{'0, ' if zero else ''}a fraction in {fractions} of the rows or a whole number of rows > 1"
    return Range(holds, text, -1 if zero else 0)


def choice(values: tuple[str, ...], text: str = "") -> Range:
    """One of `values` (a string field: a number given on the command line arrives as text)."""
    return Range(lambda v: str(v) in values, text or f"one of {', '.join(values)}", "bogus")


# Lightning's names (pytorch_lightning 2.x): refused here, a wrong one would fail
# a started run in Lightning's words; the trainer YAMLs use the first few.
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps", "tpu")
PRECISIONS = ("32-true", "16-mixed", "bf16-mixed", "16-true", "bf16-true", "64-true",
              "transformer-engine", "transformer-engine-float16", "64", "32", "16", "bf16")  # fmt: skip
STRATEGIES = ("auto", "ddp", "ddp_spawn", "ddp_fork", "ddp_notebook", "fsdp", "fsdp_cpu_offload", "deepspeed",
              "single_device", "single_tpu", "single_xla", "xla", "xla_debug",
              *(f"ddp{kind}_find_unused_parameters_{flag}" for kind in ("", "_fork", "_notebook", "_spawn")
                for flag in ("false", "true")),
              *(f"deepspeed_stage_{stage}" for stage in ("1", "2", "2_offload", "3", "3_offload", "3_offload_nvme")),
              )  # fmt: skip
_DEVICE_LIST = re.compile(r"^\s*(-1|[1-9]\d*|\d+(\s*,\s*\d+)*\s*,|\d+(\s*,\s*\d+)+)\s*$")  # "2", "-1", "0,1", "0,"


def _devices(v: Any) -> bool:
    if v == "auto" or (_integer(v) and (v >= 1 or v == -1)):
        return True
    if isinstance(v, list):
        return bool(v) and all(_integer(x) and x >= 0 for x in v)
    return isinstance(v, str) and bool(_DEVICE_LIST.match(v))


def svm_gamma(v: Any) -> bool:
    """SVC's gamma: "scale", "auto" or a positive number."""
    return v in ("scale", "auto") or (_number(v) and v > 0)


def bounded(default: Any, range_: Range, unless: Optional[str] = None) -> Any:
    """A field whose values must lie in `range_`. `unless`: another field of the same schema
    that, when true, means this one is not read and not checked (a fit-only dataset's split sizes)."""
    metadata = {"range": range_, **({"unless": unless} if unless else {})}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=metadata)
    return field(default=default, metadata=metadata)


# Ranges several schemas share.
SEED = integer_in(0, MAX_SEED)
STATES = optional(SEED)  # a generator's random_state
SAMPLES = optional(integer_at_least(1))  # a generator's row count (null: its package's default)
DEVICES = Range(_devices, "auto, a count >= 1, -1 (all) or a list of device ids", 0)


def number_in(low: float, high: float) -> Range:
    return Range(lambda v: _number(v) and low <= v <= high, f"a number in [{low:g}, {high:g}]", high + 0.1)
