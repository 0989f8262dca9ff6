"""Models: one estimator contract (src/models/contract.py: fit / predict, learned
attributes end in `_`) for the deep and the classical families.

Which options exist, their family, tasks and builders: src/models/registry.py.
Builders are imported lazily, so a classical run never loads torch or Lightning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from src.config.spec import RunSpec
    from src.models.contract import Estimator


def model_family(model_cfg: Any) -> str:
    """'deep' or 'classical', as the registry declares the option."""
    from src.models.registry import spec_of

    return spec_of(str(model_cfg.name)).family


def check_model_task(model_cfg: Any, task: str) -> None:
    """ConfigError, naming the models that can, if the model cannot do the task."""
    from src.models.registry import check_task

    check_task(str(model_cfg.name), task)


def build_estimator(cfg: RunSpec, task: str, n_classes: int, categorical_features: Sequence[int] = ()) -> Estimator:
    """The estimator the config's `model` group names, for this task;
    `categorical_features`: PreparedData.categorical_features (native categorical codes)."""
    from src.models.registry import build

    return build(cfg, task, n_classes, categorical_features)
