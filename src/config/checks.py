"""Range checks of the numeric settings, before any data loads.

The schemas of this package type every field; the table below bounds the
fields that have a range, so that a setting that cannot train
(`trainer.max_epochs=0`, `model.hidden_sizes=[0]`, `optimizer.batch_size=0`)
or that a library would refuse deep inside, in its own words (`seed=-1`,
`model.hidden_sizes=[-5]`), stops at once with one line that names the key
and its range:

    error: trainer.max_epochs=0 is out of range: an integer >= 1

The model options' fields carry their range on the field itself, in their
schema (src/config/models.py: `bounded`, the `range` of the field's metadata),
so a new option's bounds are declared where its fields are, and hold for it
alone (`max_depth` means different things in two libraries). The table below
bounds the other groups: a row applies when the composed config has its key,
a `dataset.*` row to every source that reads it, or (`only`) to the sources
it names.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from omegaconf import DictConfig, OmegaConf

from src.errors import ConfigError

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


@dataclass(frozen=True)
class Row:
    key: str  # dotted, in the composed config
    range: Range
    only: tuple[str, ...] = ()  # the options of the key's group it is for (by `name`); empty: all
    # False where the setting is not read (e.g. the test split of a fit-only dataset)
    when: Callable[[DictConfig], bool] = lambda cfg: True


def _splits(cfg: DictConfig) -> bool:
    return not cfg.dataset.get("fit_only", False)


_STATES = optional(integer_in(0, MAX_SEED))

ROWS: tuple[Row, ...] = (
    Row("seed", integer_in(0, MAX_SEED)),
    # dataset: the split, the preprocessing, the generators, OpenML
    Row("dataset.test_size", split_size(zero=False, whole=False), when=_splits),
    Row("dataset.val_size", split_size(zero=True, whole=False), when=_splits),
    Row("dataset.train_size", optional(split_size(zero=False, whole=True)), when=_splits),
    Row("dataset.max_categories", optional(integer_at_least(1))),
    Row("dataset.n_samples", optional(integer_at_least(1))),
    Row("dataset.n_features", integer_at_least(5), only=("friedman1",)),
    Row("dataset.n_features", integer_at_least(1)),
    Row("dataset.n_classes", integer_at_least(2)),
    Row("dataset.noise_std", optional(at_least(0))),
    Row("dataset.cluster_std", at_least(0)),
    Row("dataset.label_noise", fraction(True, True)),
    Row("dataset.factor", fraction(True, False)),
    Row("dataset.noise_level", Range(lambda v: _number(v) and 0 <= v <= 0.5, "a number in [0, 0.5]", 0.6)),
    Row("dataset.random_state", _STATES),
    Row("dataset.openml_id", optional(integer_at_least(1))),  # null: refused by check_dataset_config
    Row("dataset.timeout_s", above(0)),
    # the MLP's training
    Row("optimizer.lr", above(0)),
    Row("optimizer.batch_size", optional(integer_at_least(1))),
    Row("optimizer.weight_decay", at_least(0)),
    Row("optimizer.momentum", fraction(True, False)),
    Row("optimizer.lr_decay", fraction(False, True)),
    Row("loss.huber_delta", above(0)),
    Row("trainer.max_epochs", integer_at_least(1)),
    Row("trainer.accelerator", choice(ACCELERATORS)),
    Row("trainer.precision", choice(PRECISIONS)),
    Row("trainer.strategy", choice(STRATEGIES, "auto, ddp, ddp_spawn or another of Lightning's strategy names")),
    Row("trainer.devices", Range(_devices, "auto, a count >= 1, -1 (all) or a list of device ids", 0)),
    Row("trainer.num_nodes", integer_at_least(1)),
    Row("trainer.early_stopping_patience", optional(integer_at_least(0))),
    Row("trainer.cpu_threads", optional(integer_at_least(1))),
    Row("trainer.checkpoint_every_n_epochs", optional(integer_at_least(1))),
)

ABSENT = object()  # what `applies` returns for a row that does not apply


def shown(value: Any) -> str:
    """A value as it is written on the command line."""
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(shown(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


def applies(row: Row, cfg: DictConfig) -> Any:
    """The value `row` checks in `cfg`, or ABSENT where it does not apply."""
    if "." in row.key and row.only:
        group = OmegaConf.select(cfg, row.key.split(".", 1)[0], default=None)
        if group is None or group.get("name") not in row.only:
            return ABSENT
    value = OmegaConf.select(cfg, row.key, default=ABSENT, throw_on_missing=False)
    if value is ABSENT or not row.when(cfg):
        return ABSENT
    return OmegaConf.to_container(value) if OmegaConf.is_config(value) else value


def field_ranges(cfg: DictConfig, group: str = "model") -> Iterator[tuple[str, Range]]:
    """(dotted key, range) of each field of `group`'s schema that declares a
    range in its metadata (src/config/models.py: `bounded`)."""
    node = cfg.get(group) if isinstance(cfg, DictConfig) else None
    schema = node._metadata.object_type if isinstance(node, DictConfig) else None
    if schema is None or not dataclasses.is_dataclass(schema):
        return
    for schema_field in dataclasses.fields(schema):
        if "range" in schema_field.metadata and schema_field.name in node:
            yield f"{group}.{schema_field.name}", schema_field.metadata["range"]


def _value_at(cfg: DictConfig, key: str) -> Any:
    value = OmegaConf.select(cfg, key, default=ABSENT, throw_on_missing=False)
    return OmegaConf.to_container(value) if OmegaConf.is_config(value) else value


def check_ranges(cfg: DictConfig) -> None:
    """Refuse the first value out of its range: a ConfigError naming the key and the range."""
    decided: set[str] = set()  # a key's first applicable row decides (`only` rows come first)
    checks: list[tuple[str, Any, Range]] = []
    for row in ROWS:
        if row.key in decided:
            continue
        value = applies(row, cfg)
        if value is ABSENT:
            continue
        decided.add(row.key)
        checks.append((row.key, value, row.range))
    checks += [(key, _value_at(cfg, key), range_) for key, range_ in field_ranges(cfg)]
    for key, value, range_ in checks:
        if not range_.holds(value):
            raise ConfigError(f"{key}={shown(value)} is out of range: {range_.text}")


def check_register_as(tracking: Any) -> None:
    """tracking.register_as names a registered model, which only a logged model can become:
    refused before training, instead of after it (or silently ignored without log_model)."""
    name = tracking.get("register_as")
    if name is None:
        return
    from mlflow.exceptions import MlflowException
    from mlflow.utils.validation import _validate_model_name

    if not tracking.get("log_model"):
        raise ConfigError(f"tracking.register_as={name} needs tracking.log_model=true (only a logged model registers)")
    try:
        _validate_model_name(str(name))
    except MlflowException as exc:
        raise ConfigError(f"tracking.register_as={name} is not a model name: {exc.message}") from None


def check_config(cfg: DictConfig) -> None:
    """The checks of the composed config itself, before it becomes a run spec: keys no schema
    declares (`+key=`), then values out of their ranges."""
    from src.config import check_schema

    check_schema(cfg)
    check_ranges(cfg)
