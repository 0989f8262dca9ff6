"""Train the seeds of one configuration together, as one vectorized model.

Studies repeat every configuration over seeds, and a small MLP leaves the CPU
idle between kernels. Here K replicas of the same architecture are stacked
into batched weights, (K, fan_in, fan_out), and trained at once with batched
matrix products. Each replica keeps its own seed: the same initial weights
and the same batch order as a single run with that seed. The optimizers are
elementwise (SGD, momentum, AdaGrad, RMSProp, Adam, AdamW), and the loss is
the sum of the replicas' own mean losses, so each replica's update is the
single run's update, up to float rounding.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import torch
from torch import nn

from src.errors import ConfigError
from src.models.deep_core import (
    TensorEpochLoop,
    count_correct,
    replica_losses,
    weighted_batch_sum,
)
from src.models.embeddings import MemberStack


class StackedLinear(nn.Module):
    """K nn.Linear layers of one shape as one batched matrix product."""

    def __init__(self, layers: Sequence[nn.Linear]):
        super().__init__()
        self.weight = nn.Parameter(torch.stack([layer.weight.detach().T for layer in layers]).contiguous())
        self.bias = nn.Parameter(torch.stack([layer.bias.detach()[None, :] for layer in layers]).contiguous())

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (K, B, in) -> (K, B, out)
        return torch.baddbmm(self.bias, x, self.weight)

    def member(self, k: int) -> nn.Linear:
        linear = nn.Linear(self.weight.shape[1], self.weight.shape[2])
        with torch.no_grad():
            linear.weight.copy_(self.weight[k].T)
            linear.bias.copy_(self.bias[k, 0])
        return linear


class StackedMLP(nn.Module):
    """K MLPs with the same layers; x of shape (K, B, d) -> (K, B, outputs).

    Linear layers and numeric embeddings get a leading K axis on their
    parameters; activations and dropout act elementwise, so one module serves
    all K (dropout draws an independent mask for each replica)."""

    def __init__(self, nets: Sequence[nn.Sequential]):
        super().__init__()
        layers: list[nn.Module] = []
        for parts in zip(*nets):
            first = parts[0]
            if isinstance(first, nn.Linear):
                layers.append(StackedLinear(parts))
            elif isinstance(first, MemberStack):
                layers.append(type(first).stacked(parts))
            elif isinstance(first, nn.modules.batchnorm._BatchNorm):
                raise ConfigError("nets trained together take no batch norm; set model.batch_norm=false")
            else:
                layers.append(first)
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)

    def replica(self, k: int) -> nn.Sequential:
        """Replica k as an ordinary nn.Sequential (for prediction and logging)."""
        members = [layer.member(k) if hasattr(layer, "member") else layer for layer in self.layers]
        return nn.Sequential(*members).eval()


class StackedEpochLoop(TensorEpochLoop):
    """One Lightning step = one epoch of all K replicas, each on its own data."""

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
        replicas: Optional[int] = None,
    ):
        # train: (K, n, d) and (K, n[, 1]), each replica's own rows
        n_rows = train[1].shape[1]
        replicas = len(seeds) if replicas is None else replicas
        super().__init__(
            net, loss, huber_delta, optimizer, train, val, batch_size, n_rows, replicas, label_smoothing, keep_epoch
        )
        self.shuffles = [torch.Generator().manual_seed(s) for s in seeds]

    def _epoch_rows(self) -> tuple[torch.Tensor, torch.Tensor]:
        """This epoch's training rows, each replica's in its own order: (K, n, d), (K, n[, 1]).

        Gathered once per epoch as offsets into the flattened (K * n, ...)
        tensors; batches are then contiguous slices."""
        X, y = self.X_train, self.y_train
        K, n = y.shape[0], y.shape[1]
        order = torch.stack([torch.randperm(n, generator=g) for g in self.shuffles])
        order = (order + torch.arange(K)[:, None] * n).reshape(-1).to(self.device)
        X_epoch = X.reshape(K * n, -1).index_select(0, order).view(K, n, -1)
        y_epoch = y.reshape(K * n, *y.shape[2:]).index_select(0, order).view(K, n, *y.shape[2:])
        return X_epoch, y_epoch

    def training_step(self, batch: Any, batch_idx: int) -> None:
        direct = self._direct_step()
        X_epoch, y_epoch = self._epoch_rows()
        n, bs = y_epoch.shape[1], self.batch_size
        losses, outputs = [], []
        for start in range(0, n, bs):
            xb, yb = X_epoch[:, start : start + bs], y_epoch[:, start : start + bs]
            out = self.net(xb)
            batch_losses = replica_losses(self.loss_fn, self.loss_name, out, yb)
            self._update(batch_losses.sum(), direct)  # each replica's gradient is its own loss's
            losses.append(batch_losses.detach())
            if self.classify:
                outputs.append(out.detach())
        self._close_epoch(weighted_batch_sum(torch.stack(losses), bs, n) / n)  # (K,)
        if self.classify:
            self._epoch["train_epoch_accuracy"] = count_correct(torch.cat(outputs, 1), y_epoch).float() / n

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        X, y = self.val
        out = self.net(X)
        self._epoch["val_loss"] = replica_losses(self.val_loss_fn, self.loss_name, out, y)
        if self.classify:
            self._epoch["val_accuracy"] = count_correct(out, y).float() / y.shape[1]
        self._keep_if_best(self._epoch["val_loss"], self._epoch.get("val_accuracy"))
