"""How the task fixes the output layer and which losses fit it (slides' pairings).

regression -> one linear unit, MSE (MAE and Huber also fit);
binary     -> one sigmoid unit, binary cross-entropy (or two softmax units);
multiclass -> one softmax unit per class, cross-entropy.

Pure Python: used to validate a config before any heavy import or data load.
"""

from __future__ import annotations

from src.data.types import Task
from src.errors import ConfigError

LOSSES_FOR_TASK = {
    Task.regression: ("mse", "mae", "huber"),
    Task.binary: ("bce", "cross_entropy"),
    Task.multiclass: ("cross_entropy",),
}
DEFAULT_LOSS = {Task.regression: "mse", Task.binary: "bce", Task.multiclass: "cross_entropy"}


def resolve_loss(loss: str, task: str) -> str:
    """The loss to train with: `auto` becomes the task's default; a loss that
    does not fit the task raises ConfigError naming the ones that do."""
    if task not in LOSSES_FOR_TASK:  # an 'auto' task is resolved after loading
        return loss
    if loss == "auto":
        return DEFAULT_LOSS[task]
    fitting = LOSSES_FOR_TASK[task]
    if loss not in fitting:
        raise ConfigError(f"loss={loss} does not fit a {task} task; losses that fit: {', '.join(fitting)} (or auto)")
    return loss


def n_output_units(loss: str, task: str, n_classes: int) -> int:
    if task == Task.regression or loss == "bce":
        return 1
    return n_classes
