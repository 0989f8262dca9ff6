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

import os
import sys
from typing import Any, Optional, Sequence

import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn

from src.config import option
from src.errors import ConfigError, DivergedError
from src.models.activations import make_activation
from src.models.deep import MLPEstimator, make_optimizer
from src.models.direct_step import DirectStep


class StackedMLP(nn.Module):
    """K MLPs with the same shape; x of shape (K, B, d) -> (K, B, outputs)."""

    def __init__(self, nets: Sequence[nn.Sequential], activation: nn.Module):
        super().__init__()
        linears = [[m for m in net if isinstance(m, nn.Linear)] for net in nets]
        self.weights = nn.ParameterList(
            nn.Parameter(torch.stack([layers[i].weight.detach().T for layers in linears]).contiguous())
            for i in range(len(linears[0]))
        )
        self.biases = nn.ParameterList(
            nn.Parameter(torch.stack([layers[i].bias.detach()[None, :] for layers in linears]).contiguous())
            for i in range(len(linears[0]))
        )
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = torch.baddbmm(b, x, w)
            if i < last:
                x = self.activation(x)
        return x

    def replica(self, k: int) -> nn.Sequential:
        """Replica k as an ordinary nn.Sequential (for prediction and logging)."""
        layers: list[nn.Module] = []
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            linear = nn.Linear(w.shape[1], w.shape[2])
            with torch.no_grad():
                linear.weight.copy_(w[k].T)
                linear.bias.copy_(b[k, 0])
            layers.append(linear)
            if i < last:
                layers.append(self.activation)
        return nn.Sequential(*layers).eval()


def _per_replica_loss(name: str, out: torch.Tensor, y: torch.Tensor, huber_delta: float) -> torch.Tensor:
    """Mean loss of each replica: shape (K,)."""
    K, B = out.shape[:2]
    if name == "cross_entropy":
        return F.cross_entropy(out.reshape(K * B, -1), y.reshape(K * B), reduction="none").view(K, B).mean(1)
    if name == "bce":
        return F.binary_cross_entropy_with_logits(out, y, reduction="none").mean((1, 2))
    if name == "mse":
        return F.mse_loss(out, y, reduction="none").mean((1, 2))
    if name == "mae":
        return F.l1_loss(out, y, reduction="none").mean((1, 2))
    if name == "huber":
        return F.huber_loss(out, y, delta=huber_delta, reduction="none").mean((1, 2))
    raise ValueError(f"unknown loss '{name}'")


class StackedEpochLoop(pl.LightningModule):
    """One Lightning step = one epoch of all K replicas, each on its own data."""

    def __init__(
        self,
        net: StackedMLP,
        loss: str,
        optimizer_cfg: Any,
        train: tuple[torch.Tensor, torch.Tensor],
        val: Optional[tuple[torch.Tensor, torch.Tensor]],
        seeds: Sequence[int],
        huber_delta: float,
    ):
        super().__init__()
        self.net = net
        self.automatic_optimization = False
        self.loss = loss
        self.huber_delta = huber_delta
        self.classify = loss in ("bce", "cross_entropy")
        self.optimizer_cfg = optimizer_cfg
        self.X_train, self.y_train = train  # (K, n, d), (K, n[, 1])
        self.val = val
        self.shuffles = [torch.Generator().manual_seed(s) for s in seeds]
        n = self.y_train.shape[1]
        self.batch_size = min(optimizer_cfg.batch_size or n, n)
        self.history: list[list[dict[str, float]]] = [[] for _ in seeds]
        self._epoch: dict[str, torch.Tensor] = {}
        self.params = list(net.parameters())
        self._direct: Optional[DirectStep] = None  # the optimizer's update without its wrapper

    def on_fit_start(self) -> None:
        self.train_device = self.device  # Lightning moves the module back to the CPU after fit
        self.X_train, self.y_train = self.X_train.to(self.device), self.y_train.to(self.device)
        if self.val is not None:
            self.val = tuple(t.to(self.device) for t in self.val)

    def configure_optimizers(self):
        optimizer = make_optimizer(self.net.parameters(), self.optimizer_cfg, fused=self.device.type in ("cpu", "cuda"))
        if self.optimizer_cfg.lr_decay == 1.0:
            return optimizer
        return [optimizer], [torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=self.optimizer_cfg.lr_decay)]

    def _correct(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Correct predictions per replica: shape (K,)."""
        pred = (out > 0).to(y.dtype) if out.shape[-1] == 1 else out.argmax(-1)
        return (pred == y).reshape(len(out), -1).sum(1)

    def training_step(self, batch: Any, batch_idx: int) -> None:
        if self._direct is None:
            self._direct = DirectStep(self.optimizers().optimizer, self.params)
        X, y, bs = self.X_train, self.y_train, self.batch_size
        K, n = y.shape[0], y.shape[1]
        # Replica k's rows in its own order, gathered once per epoch as offsets into
        # the flattened (K * n, ...) tensors; batches are then contiguous slices.
        order = torch.stack([torch.randperm(n, generator=g) for g in self.shuffles])
        order = (order + torch.arange(K)[:, None] * n).reshape(-1).to(self.device)
        X_epoch = X.reshape(K * n, -1).index_select(0, order).view(K, n, -1)
        y_epoch = y.reshape(K * n, *y.shape[2:]).index_select(0, order).view(K, n, *y.shape[2:])
        losses, outputs = [], []
        for start in range(0, n, bs):
            xb, yb = X_epoch[:, start : start + bs], y_epoch[:, start : start + bs]
            out = self.net(xb)
            batch_losses = _per_replica_loss(self.loss, out, yb, self.huber_delta)
            self._direct(torch.autograd.grad(batch_losses.sum(), self.params))
            losses.append(batch_losses.detach())
            if self.classify:
                outputs.append(out.detach())
        scheduler = self.lr_schedulers()
        if scheduler is not None:
            scheduler.step()
        batch_losses = torch.stack(losses)  # (batches, K) batch means, weighted by batch size
        sizes = torch.full((len(losses), 1), float(bs), device=self.device)
        sizes[-1] = n - bs * (len(losses) - 1)
        epoch_loss = (batch_losses * sizes).sum(0) / n
        if not torch.isfinite(epoch_loss).all():
            raise DivergedError(self.current_epoch, float(epoch_loss.max()))
        self._epoch["train_loss"] = epoch_loss
        if self.classify:
            self._epoch["train_epoch_accuracy"] = self._correct(torch.cat(outputs, 1), y_epoch).float() / n

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        X, y = self.val
        out = self.net(X)
        self._epoch["val_loss"] = _per_replica_loss(self.loss, out, y, self.huber_delta)
        if self.classify:
            self._epoch["val_accuracy"] = self._correct(out, y).float() / y.shape[1]

    def on_train_epoch_end(self) -> None:
        names = list(self._epoch)
        values = torch.stack([self._epoch[k].float() for k in names]).T.tolist()  # (K, metrics)
        for k, row in enumerate(values):
            self.history[k].append({"epoch": self.current_epoch, **dict(zip(names, row))})
        self._epoch = {}


class StackedMLPEstimator:
    """Fits one MLP per seed at once; `replica(k)` is a fitted MLPEstimator."""

    family = "deep"

    def __init__(self, template: MLPEstimator, seeds: Sequence[int]):
        if template.batch_norm:
            raise ConfigError("seeds=[...] trains replicas together without batch norm; set model.batch_norm=false")
        if template.dropout:
            raise ConfigError("seeds=[...] needs model.dropout=0: replicas could not match single runs' dropout masks")
        self.template = template
        self.seeds = list(seeds)

    def fit(self, Xs: Sequence[np.ndarray], ys: Sequence[np.ndarray], X_vals=None, y_vals=None) -> StackedMLPEstimator:
        t = self.template
        cfg = t.trainer
        if cfg.get("cpu_threads"):
            # One thread suits one small net; K of them batched together keep more
            # cores busy, so the replicas get a thread budget each, up to the cores.
            torch.set_num_threads(min(os.cpu_count() or 1, cfg.cpu_threads * len(self.seeds)))
        nets = []
        for seed in self.seeds:  # each replica starts exactly where a single run with its seed starts
            t.seed = seed
            nets.append(t._build(Xs[0].shape[1]))
        act = t.activation
        net = StackedMLP(nets, make_activation(option(act.name), act.negative_slope, act.alpha))
        X = torch.as_tensor(np.stack(Xs), dtype=torch.float32)
        y = torch.stack([t._targets(v) for v in ys])
        has_val = X_vals is not None and len(X_vals[0]) > 0
        val = None
        if has_val:
            val = (torch.as_tensor(np.stack(X_vals), dtype=torch.float32), torch.stack([t._targets(v) for v in y_vals]))
        loop = StackedEpochLoop(net, t.loss, t.optimizer, (X, y), val, self.seeds, t.huber_delta)
        trainer = pl.Trainer(
            accelerator=cfg.accelerator,
            devices=1,
            precision=cfg.precision,
            max_epochs=cfg.max_epochs,
            deterministic=cfg.deterministic,
            logger=False,
            enable_checkpointing=False,
            enable_model_summary=False,
            enable_progress_bar=cfg.progress_bar if cfg.progress_bar is not None else sys.stderr.isatty(),
            num_sanity_val_steps=0,
            limit_val_batches=1 if has_val else 0,
        )
        try:
            trainer.fit(loop, train_dataloaders=[0], val_dataloaders=[0] if has_val else None)
        finally:
            self.histories_ = loop.history
        self.net_ = net
        self.device_ = loop.device
        self.train_device_ = getattr(loop, "train_device", loop.device)
        return self

    def replica(self, k: int) -> MLPEstimator:
        """Replica k as an ordinary fitted MLPEstimator."""
        t = self.template
        single = MLPEstimator(
            t.task,
            t.loss,
            t.hidden_sizes,
            t.activation,
            t.optimizer,
            t.trainer,
            seed=self.seeds[k],
            n_classes=t.n_classes,
            init=t.init,
            huber_delta=t.huber_delta,
        )
        single.net_ = self.net_.replica(k).to(self.device_)
        single.device_ = self.device_
        single.train_device_ = self.train_device_
        single.history_ = self.histories_[k]
        single.epochs_trained_ = len(self.histories_[k])
        single.n_features_in_ = self.net_.weights[0].shape[1]
        single.n_params_ = sum(p[k].numel() for p in self.net_.parameters())
        return single
