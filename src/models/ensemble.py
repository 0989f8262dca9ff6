"""`model.ensemble_size=K`: K nets trained together as one batched model, their
predictions averaged (TabM's "mini-batch ensemble of independent MLPs",
Gorishniy et al. 2024).

The members are stacked as the seeds of `seeds=[...]` are (src/models/stacked.py):
member k has its own initial weights (seed x K + k), its own batch order and,
with dropout, its own masks, but all train on the same split. The loss is the
sum of the members' own mean losses, so each member's update is the one it
would get alone. Validation, early stopping and restore-best judge the
ensemble: its averaged prediction's loss and accuracy.

`seeds=[...]` stacks R such ensembles, one per seed, each on its own split:
R x K nets in one batched model (src/models/stacked_estimator.py).
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import torch
from torch import nn

from src.errors import ConfigError
from src.models.deep_core import count_correct
from src.models.stacked import StackedEpochLoop, StackedMLP


def member_seeds(seed: int, k: int) -> list[int]:
    """Disjoint across runs: seed 0's members are 0..K-1, seed 1's K..2K-1; K=1 is the seed itself."""
    return [seed * k + i for i in range(k)]


def average_outputs(out: torch.Tensor, loss: str, dim: int = 0) -> torch.Tensor:
    """The ensemble's output from the members' outputs (members along `dim`),
    in the same form as one net's: log of the mean softmax probabilities (valid
    logits), the logit of the mean sigmoid probability, or the mean regression output."""
    k = out.shape[dim]
    if loss == "cross_entropy":
        return torch.logsumexp(torch.log_softmax(out, dim=-1), dim=dim) - math.log(k)
    if loss == "bce":
        log_p = torch.logsumexp(nn.functional.logsigmoid(out), dim=dim) - math.log(k)
        log_not_p = torch.logsumexp(nn.functional.logsigmoid(-out), dim=dim) - math.log(k)
        return log_p - log_not_p
    return out.mean(dim)


class AveragedEnsemble(nn.Module):
    """The fitted ensemble as a net of one input: x (B, d) -> averaged outputs (B, units)."""

    def __init__(self, members: StackedMLP, loss: str, k: int):
        super().__init__()
        self.members = members
        self.loss = loss
        self.k = k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return average_outputs(self.members(x.expand(self.k, *x.shape)), self.loss)


class EnsembleEpochLoop(StackedEpochLoop):
    """R replicas of K members (R = 1 for one run), member i of replica r the
    net r*K + i, on replica r's rows in its own order. One history per replica:
    its members' mean training loss and accuracy, its ensemble's validation
    scores; restore-best keeps each replica's best epoch by its ensemble's."""

    def __init__(
        self,
        net: StackedMLP,
        loss: str,
        huber_delta: float,
        optimizer: Any,
        train: tuple[torch.Tensor, torch.Tensor],
        val: Optional[tuple[torch.Tensor, torch.Tensor]],
        seeds: Sequence[int],
        batch_size: Optional[int],
        label_smoothing: float = 0.0,
        keep_epoch: Optional[str] = None,
        members: int = 1,
        patience: Optional[int] = None,
        monitor_val_loss: bool = False,
    ):
        # train, val: (R, n, d) and (R, n[, 1]); seeds: one per member, R x K.
        # Early stopping: `patience` per replica (src/models/stacked.py), or, for one
        # run, `monitor_val_loss` for Lightning's callback.
        super().__init__(
            net,
            loss,
            huber_delta,
            optimizer,
            train,
            val,
            seeds,
            batch_size,
            label_smoothing,
            keep_epoch,
            members,
            patience,
        )
        if self.best is not None:  # every member judged by its own replica's ensemble
            self.best.per_replica = True
        if monitor_val_loss and train[1].shape[0] != 1:
            raise ConfigError("early stopping watches one ensemble's validation loss; train the repeats apart")
        self.monitor_val_loss = monitor_val_loss

    def _per_replica(self, values: torch.Tensor) -> torch.Tensor:
        return values.view(-1, self.members).mean(1)  # (R * K,) -> (R,)

    def training_step(self, batch: Any, batch_idx: int) -> None:
        super().training_step(batch, batch_idx)
        self._epoch = {name: self._per_replica(value.float()) for name, value in self._epoch.items()}

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        X, y = self.val
        outputs = self.net(X.repeat_interleave(self.members, 0))
        out = average_outputs(outputs.view(len(y), self.members, *outputs.shape[1:]), self.loss_name, dim=1)
        # Each replica's loss as its single run computes it.
        val_loss = torch.stack([self.val_loss_fn(out[r], y[r]) for r in range(len(y))])
        self._epoch["val_loss"] = val_loss
        if self.classify:
            self._epoch["val_accuracy"] = count_correct(out, y).float() / y.shape[1]
        self._judge(val_loss, self._epoch.get("val_accuracy"))
        if self.monitor_val_loss:  # early stopping reads it from Lightning's logged metrics
            self.log("val_loss", val_loss[0], on_step=False, on_epoch=True, batch_size=1)

    def restore_best(self) -> Optional[list[int]]:
        kept = super().restore_best()
        return kept[:: self.members] if kept is not None else None


def check_ensemble(estimator: Any) -> None:
    """ConfigError for what an ensemble does not train with."""
    if estimator.ensemble_size < 1:
        raise ConfigError(f"model.ensemble_size={estimator.ensemble_size}; it counts nets, 1 or more")
    several = isinstance(estimator.devices, (list, tuple)) and len(estimator.devices) > 1
    several |= isinstance(estimator.devices, int) and estimator.devices > 1
    if several or estimator.num_nodes > 1 or estimator.strategy != "auto":
        raise ConfigError("model.ensemble_size > 1 trains its members together on one device")
    if estimator.batch_norm or estimator.log_grad_norms or estimator.checkpoint_every_n_epochs or estimator.resume_from:
        raise ConfigError("model.ensemble_size > 1 trains without batch norm, gradient-norm logging and checkpoints")


def fit_ensemble(estimator: Any, X: Any, y: Any, val: Optional[tuple[torch.Tensor, torch.Tensor]]) -> None:
    """Fit `estimator` (an MLPEstimator with ensemble_size > 1, targets learned) as K members."""
    from src.models.deep_core import run_fit

    k = estimator.ensemble_size
    seeds = member_seeds(estimator.seed, k)
    net = StackedMLP([estimator.network(X, seed) for seed in seeds])
    has_val = val is not None
    loop = EnsembleEpochLoop(
        net,
        estimator.loss_,
        estimator.huber_delta,
        estimator.optimizer_spec(),
        (torch.as_tensor(X)[None], estimator.target_tensor(y)[None]),  # one replica
        tuple(t[None] for t in val) if has_val else None,
        seeds,
        estimator.batch_size,
        label_smoothing=estimator.label_smoothing_,
        keep_epoch=estimator.keep_criterion(has_val),
        members=k,
        monitor_val_loss=estimator.early_stopping_patience is not None,
    )
    try:
        run_fit(estimator._trainer(has_val), loop, has_val)
    finally:
        estimator.history_ = loop.histories[0]  # kept when training fails: the epochs so far are logged
    kept = loop.restore_best()
    estimator.best_epoch_ = kept[0] if kept else None
    estimator.net_ = AveragedEnsemble(net, estimator.loss_, k).eval()
    estimator.device_ = loop.device
    estimator.train_device_ = getattr(loop, "train_device", loop.device)
    estimator.n_params_ = sum(p.numel() for p in net.parameters())
    estimator.epochs_trained_ = len(estimator.history_)
