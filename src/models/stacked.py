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

import numpy as np
import torch
from torch import nn

from src.errors import ConfigError
from src.models.deep import MLPEstimator
from src.models.deep_core import (
    TensorEpochLoop,
    count_correct,
    make_trainer,
    replica_losses,
    run_fit,
    set_threads,
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


class StackedMLPEstimator:
    """Fits one MLP per seed at once; `replica(k)` is a fitted MLPEstimator.

    `template` gives every parameter but the seed; it is not changed."""

    family = "deep"

    def __init__(self, template: MLPEstimator, seeds: Sequence[int]):
        if template.batch_norm:
            raise ConfigError("seeds=[...] trains replicas together without batch norm; set model.batch_norm=false")
        if template.dropout:
            raise ConfigError("seeds=[...] needs model.dropout=0: replicas could not match single runs' dropout masks")
        if template.ensemble_size != 1:
            raise ConfigError("seeds=[...] trains single nets together; set model.ensemble_size=1")
        self.template = template
        self.seeds = list(seeds)

    def fit(self, Xs: Sequence[np.ndarray], ys: Sequence[np.ndarray], X_vals=None, y_vals=None) -> StackedMLPEstimator:
        from sklearn.base import clone

        t = self.template
        set_threads(t.cpu_threads, replicas=len(self.seeds))
        # The task, loss and classes, learned once from all replicas' targets so that they agree.
        targets = clone(t)
        targets.learn_targets(np.concatenate([np.asarray(y) for y in ys]))
        n_features = np.shape(Xs[0])[1]
        # Each replica starts exactly where a single run with its seed starts.
        X = torch.as_tensor(np.stack(Xs), dtype=torch.float32)
        net = StackedMLP([targets.network(X[k].numpy(), seed) for k, seed in enumerate(self.seeds)])
        y = torch.stack([targets.target_tensor(v) for v in ys])
        has_val = X_vals is not None and len(X_vals[0]) > 0
        val = None
        if has_val:
            X_val = torch.as_tensor(np.stack(X_vals), dtype=torch.float32)
            val = (X_val, torch.stack([targets.target_tensor(v) for v in y_vals]))
        loop = StackedEpochLoop(
            net,
            targets.loss_,
            t.huber_delta,
            t.optimizer_spec(),
            (X, y),
            val,
            self.seeds,
            t.batch_size,
            label_smoothing=targets.label_smoothing_,
            keep_epoch=targets.keep_criterion(has_val),
        )
        trainer = make_trainer(
            accelerator=t.accelerator,
            precision=t.precision,
            max_epochs=t.max_epochs,
            deterministic=t.deterministic,
            progress_bar=t.progress_bar,
            has_val=has_val,
        )
        try:
            run_fit(trainer, loop, has_val)
        finally:
            self.histories_ = loop.histories
        self.best_epochs_ = loop.restore_best()  # one per replica; None: the last epochs are kept
        self.targets_ = targets
        self.n_features_in_ = n_features
        self.net_ = net
        self.device_ = loop.device
        self.train_device_ = getattr(loop, "train_device", loop.device)
        return self

    def replica(self, k: int) -> MLPEstimator:
        """Replica k as an ordinary fitted MLPEstimator (the template with its seed)."""
        from sklearn.base import clone

        single = clone(self.template).set_params(seed=self.seeds[k])
        for learned in ("task_", "loss_", "classes_"):
            if hasattr(self.targets_, learned):
                setattr(single, learned, getattr(self.targets_, learned))
        single.n_features_in_ = self.n_features_in_
        single.net_ = self.net_.replica(k).to(self.device_)
        single.device_ = self.device_
        single.train_device_ = self.train_device_
        single.history_ = self.histories_[k]
        single.epochs_trained_ = len(self.histories_[k])
        single.best_epoch_ = self.best_epochs_[k] if self.best_epochs_ else None
        single.n_params_ = sum(p[k].numel() for p in self.net_.parameters())
        return single
