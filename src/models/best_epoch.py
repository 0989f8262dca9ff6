"""Restore-best: keep the weights of the best validation epoch, not the last.

`BestEpoch.update` is called once per validation with the epoch's validation
loss and accuracy; it keeps a copy of the module's state from the best epoch
so far, on the device and without a host sync (a masked copy, not a branch).
For K stacked replicas (their state tensors all lead with K) every replica
keeps its own best epoch; otherwise the whole module is judged at once.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn

CRITERIA = ("best_val_loss", "best_val_accuracy")


def resolve_keep_epoch(keep_epoch: str, early_stopping: bool, classifies: bool, has_val: bool) -> Optional[str]:
    """The criterion to keep an epoch by, or None to keep the last one.

    auto: best_val_loss when early stopping is on (the epoch it stopped after), else the last.
    Regression has no accuracy: best_val_accuracy keeps the best_val_loss epoch there."""
    from src.errors import ConfigError

    if keep_epoch == "auto":
        keep_epoch = "best_val_loss" if early_stopping else "last"
    if keep_epoch == "last":
        return None
    if keep_epoch not in CRITERIA:
        raise ConfigError(f"trainer.keep_epoch={keep_epoch}; choices: auto, last, {', '.join(CRITERIA)}")
    if keep_epoch == "best_val_accuracy" and not classifies:
        keep_epoch = "best_val_loss"
    if not has_val:
        raise ConfigError(f"trainer.keep_epoch={keep_epoch} needs a validation split; set it to last")
    return keep_epoch


class BestEpoch:
    def __init__(self, module: nn.Module, criterion: str, per_replica: bool = False):
        self.module = module
        self.criterion = criterion
        self.per_replica = per_replica
        self.state: Optional[dict[str, torch.Tensor]] = None
        self.loss: Optional[torch.Tensor] = None
        self.accuracy: Optional[torch.Tensor] = None
        self.epoch: Optional[torch.Tensor] = None

    def update(self, epoch: int, loss: torch.Tensor, accuracy: Optional[torch.Tensor]) -> None:
        """Keep this epoch's state where it beats the best so far (loss, accuracy: () or (K,))."""
        loss = loss.detach().float()
        accuracy = accuracy.detach().float() if accuracy is not None else torch.zeros_like(loss)
        current = self.module.state_dict()
        if self.state is not None and self.loss.device != loss.device:  # loaded from a checkpoint
            self.state = {name: value.to(loss.device) for name, value in self.state.items()}
            self.loss, self.accuracy, self.epoch = (t.to(loss.device) for t in (self.loss, self.accuracy, self.epoch))
        if self.state is None:
            self.state = {name: value.detach().clone() for name, value in current.items()}
            self.loss, self.accuracy = loss.clone(), accuracy.clone()
            self.epoch = torch.full_like(loss, epoch, dtype=torch.long)
            return
        better = loss < self.loss  # NaN never wins
        if self.criterion == "best_val_accuracy":
            better = (accuracy > self.accuracy) | ((accuracy == self.accuracy) & better)
        for name, value in current.items():
            mask = better.view(-1, *([1] * (value.dim() - 1))) if self.per_replica else better
            self.state[name].copy_(torch.where(mask, value.detach(), self.state[name]))
        self.loss = torch.where(better, loss, self.loss)
        self.accuracy = torch.where(better, accuracy, self.accuracy)
        self.epoch = torch.where(better, torch.full_like(self.epoch, epoch), self.epoch)

    def restore(self) -> Optional[list[int]]:
        """Load the kept state into the module; the kept epoch of each replica (None: no validation ran)."""
        if self.state is None:
            return None
        with torch.no_grad():
            for name, value in self.module.state_dict().items():
                value.copy_(self.state[name])
        return [int(e) for e in self.epoch.reshape(-1).tolist()]

    def checkpoint(self) -> dict:
        return {"state": self.state, "loss": self.loss, "accuracy": self.accuracy, "epoch": self.epoch}

    def load(self, saved: dict) -> None:
        self.state, self.loss, self.accuracy, self.epoch = (saved[k] for k in ("state", "loss", "accuracy", "epoch"))
