"""A search space written in Hydra's override grammar, as Optuna distributions.

`hydra.sweeper.params` and the command line's sweep overrides keep the syntax
of hydra-optuna-sweeper: `choice(a, b)`, `interval(lo, hi)`, `int(interval(...))`,
`tag(log, interval(...))` and `range(...)`. A plain value given on the command
line for a searched key fixes it: the key leaves the space.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, Transformer
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

from src.errors import ConfigError


def distribution(override: Override) -> BaseDistribution:
    """The Optuna distribution of one sweep override."""
    value = override.value()
    if override.is_choice_sweep() or (override.is_range_sweep() and value.shuffle):
        return CategoricalDistribution(list(override.sweep_iterator(transformer=Transformer.encode)))
    if override.is_range_sweep():
        if any(isinstance(v, float) for v in (value.start, value.stop, value.step)):
            return FloatDistribution(value.start, value.stop, step=value.step)
        return IntDistribution(int(value.start), int(value.stop), step=int(value.step))
    if override.is_interval_sweep():
        log = "log" in value.tags
        if isinstance(value.start, int) and isinstance(value.end, int):
            return IntDistribution(value.start, value.end, log=log)
        return FloatDistribution(value.start, value.end, log=log)
    raise ConfigError(f"{override.input_line}: not a search range (choice, interval or range)")


def search_space(params: Mapping[str, Any], arguments: Sequence[str]) -> tuple[dict[str, BaseDistribution], list[str]]:
    """(the searched keys and their distributions, the fixed overrides every job gets):
    `params` first, then the command line, whose plain value for a key fixes it."""
    parser = OverridesParser.create()
    space: dict[str, BaseDistribution] = {}
    for key, value in (params or {}).items():
        (override,) = parser.parse_overrides([f"{key}={value}"])
        space[override.get_key_element()] = distribution(override)
    fixed: list[str] = []
    for override in parser.parse_overrides(list(arguments)):
        key = override.get_key_element()
        if override.is_sweep_override():
            space[key] = distribution(override)
            continue
        space.pop(key, None)
        fixed.append(override.input_line)
    return space, fixed


def as_overrides(params: Mapping[str, Any]) -> list[str]:
    """A trial's sampled values as command-line overrides."""
    return [f"{key}={value}" for key, value in params.items()]
