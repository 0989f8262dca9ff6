"""Range checks of the numeric settings, before any data loads.

The schemas of this package type every field, and a field with a range carries
it on the field itself (src/config/ranges.py: `bounded`), so that a setting that
cannot train (`trainer.max_epochs=0`, `model.hidden_sizes=[0]`,
`optimizer.batch_size=0`) or that a library would refuse deep inside, in its
own words (`seed=-1`, `model.hidden_sizes=[-5]`), stops at once with one line
that names the key and its range:

    error: trainer.max_epochs=0 is out of range: an integer >= 1

A range holds for its schema alone: `max_depth` means different things in two
libraries, and friedman1's `n_features` needs 5 where other generators take 1.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterator

from omegaconf import DictConfig, OmegaConf

from src.config.ranges import Range
from src.errors import ConfigError


def field_ranges(cfg: DictConfig) -> Iterator[tuple[str, Range]]:
    """(dotted key, range) of every field of the composed config's schemas that declares a
    range, in the config's order (`seed` first, then each group's fields); a field whose
    `unless` field is true (a fit-only dataset's split sizes) is not read, so not checked."""

    def walk(node: DictConfig, path: str) -> Iterator[tuple[str, Range]]:
        schema = node._metadata.object_type
        if dataclasses.is_dataclass(schema):
            for schema_field in dataclasses.fields(schema):
                metadata = schema_field.metadata
                skipped = bool(metadata.get("unless")) and bool(node.get(metadata.get("unless")))
                if "range" in metadata and schema_field.name in node and not skipped:
                    yield f"{path}{schema_field.name}", metadata["range"]
        for key in node:
            child = node._get_node(key)
            if isinstance(child, DictConfig) and key != "hydra":
                yield from walk(child, f"{path}{key}.")

    yield from walk(cfg, "")


def _value_at(cfg: DictConfig, key: str) -> Any:
    value = OmegaConf.select(cfg, key, throw_on_missing=False)
    return OmegaConf.to_container(value) if OmegaConf.is_config(value) else value


def check_ranges(cfg: DictConfig) -> None:
    """Refuse the first value out of its range: a ConfigError naming the key and the range."""
    for key, range_ in field_ranges(cfg):
        value = _value_at(cfg, key)
        if not range_.holds(value):
            raise ConfigError(f"{key}={shown(value)} is out of range: {range_.text}")


def shown(value: Any) -> str:
    """A value as it is written on the command line."""
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(shown(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


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
