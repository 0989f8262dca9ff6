"""The MLP as an estimator: scikit-learn's interface over a Lightning training loop.

Small tabular data fits on the device, so there is no DataLoader: the whole
training split lives in tensors, and each epoch walks a fresh (seeded)
permutation in slices. One Lightning step is one epoch, with manual
optimization inside it; per-batch framework overhead is what makes small
nets slow, and this keeps Lightning's machinery (devices, precision,
callbacks, early stopping) at the epoch level.
"""

from __future__ import annotations

import logging
import signal
import sys
import warnings
from typing import Any, Optional

import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn

from src.config import option
from src.errors import DivergedError
from src.models.activations import make_activation
from src.models.heads import n_output_units
from src.models.mlp import build_mlp, initialize

for _name in ("pytorch_lightning", "lightning.pytorch", "lightning_fabric", "lightning"):
    logging.getLogger(_name).setLevel(logging.WARNING)
warnings.filterwarnings("ignore", message=".*does not have many workers.*")
warnings.filterwarnings("ignore", message=".*but have no `val_dataloader`.*")
warnings.filterwarnings("ignore", message=".*Total length of .* across ranks is zero.*")
warnings.filterwarnings("ignore", message=".*`isinstance.treespec, LeafSpec.` is deprecated.*")


def loss_function(name: str, huber_delta: float = 1.0):
    """Loss on raw network outputs; sigmoid/softmax are folded in for stability."""
    if name == "mse":
        return F.mse_loss
    if name == "mae":
        return F.l1_loss
    if name == "huber":
        return lambda out, y: F.huber_loss(out, y, delta=huber_delta)
    if name == "bce":
        return F.binary_cross_entropy_with_logits
    if name == "cross_entropy":
        return F.cross_entropy
    raise ValueError(f"unknown loss '{name}'")


def make_optimizer(params, cfg: Any) -> torch.optim.Optimizer:
    name = option(cfg.name)
    lr, wd = cfg.lr, cfg.weight_decay
    if name in ("batch_gd", "sgd", "minibatch_sgd", "momentum", "nesterov"):
        nesterov = bool(cfg.nesterov) or name == "nesterov"
        return torch.optim.SGD(params, lr=lr, momentum=cfg.momentum, nesterov=nesterov, weight_decay=wd)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, weight_decay=wd)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=cfg.momentum, weight_decay=wd)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    raise ValueError(f"unknown optimizer '{name}'")


class EpochLoop(pl.LightningModule):
    """Trains `net` on tensors held on the device; one Lightning step = one epoch."""

    def __init__(
        self,
        net: nn.Module,
        loss_name: str,
        optimizer_cfg: Any,
        train: tuple[torch.Tensor, torch.Tensor],
        val: Optional[tuple[torch.Tensor, torch.Tensor]],
        seed: int,
        huber_delta: float = 1.0,
    ):
        super().__init__()
        self.net = net
        self.automatic_optimization = False
        self.loss_fn = loss_function(loss_name, huber_delta)
        self.classify = loss_name in ("bce", "cross_entropy")
        self.optimizer_cfg = optimizer_cfg
        self.X_train, self.y_train = train
        self.val = val
        self.shuffle = torch.Generator().manual_seed(seed)
        n = len(self.y_train)
        self.batch_size = min(optimizer_cfg.batch_size or n, n)

    def on_fit_start(self) -> None:
        self.X_train = self.X_train.to(self.device)
        self.y_train = self.y_train.to(self.device)
        if self.val is not None:
            self.val = tuple(t.to(self.device) for t in self.val)

    def configure_optimizers(self):
        optimizer = make_optimizer(self.net.parameters(), self.optimizer_cfg)
        if self.optimizer_cfg.lr_decay == 1.0:
            return optimizer
        decay = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=self.optimizer_cfg.lr_decay)
        return [optimizer], [decay]

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.net(X)

    def _correct(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        pred = (out[:, 0] > 0).to(y.dtype)[:, None] if out.shape[1] == 1 else out.argmax(1)
        return (pred == y).sum()

    def training_step(self, batch: Any, batch_idx: int) -> None:
        optimizer = self.optimizers()
        X, y, bs = self.X_train, self.y_train, self.batch_size
        n = len(y)
        order = torch.randperm(n, generator=self.shuffle).to(self.device)
        total_loss = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        for start in range(0, n, bs):
            rows = order[start : start + bs]
            xb, yb = X[rows], y[rows]
            out = self.net(xb)
            loss = self.loss_fn(out, yb)
            optimizer.zero_grad(set_to_none=True)
            self.manual_backward(loss)
            optimizer.step()
            total_loss += loss.detach() * len(rows)
            if self.classify:
                correct += self._correct(out.detach(), yb)
        scheduler = self.lr_schedulers()
        if scheduler is not None:
            scheduler.step()
        epoch_loss = total_loss / n
        if not torch.isfinite(epoch_loss):
            raise DivergedError(self.current_epoch, float(epoch_loss))
        self.log("train_loss", epoch_loss, on_step=False, on_epoch=True, batch_size=1)
        if self.classify:
            self.log("train_epoch_accuracy", correct.float() / n, on_step=False, on_epoch=True, batch_size=1)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        X, y = self.val
        out = self.net(X)
        self.log("val_loss", self.loss_fn(out, y), on_step=False, on_epoch=True, batch_size=1)
        if self.classify:
            self.log("val_accuracy", self._correct(out, y).float() / len(y), on_step=False, on_epoch=True, batch_size=1)


class EpochHistory(pl.Callback):
    """Collects the epoch-level metrics; they are written to MLflow in one batch."""

    def __init__(self) -> None:
        self.epochs: list[dict[str, float]] = []

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        row = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith(("train_", "val_"))}
        self.epochs.append(row)


class MLPEstimator:
    """A multilayer perceptron with scikit-learn's fit / predict interface."""

    family = "deep"

    def __init__(
        self,
        task: str,
        loss: str,
        hidden_sizes: list[int],
        activation: Any,
        optimizer: Any,
        trainer: Any,
        seed: int = 0,
        n_classes: int = 0,
        dropout: float = 0.0,
        batch_norm: bool = False,
        init: str = "xavier",
        huber_delta: float = 1.0,
    ):
        self.task = task
        self.loss = loss
        self.hidden_sizes = list(hidden_sizes)
        self.activation = activation
        self.optimizer = optimizer
        self.trainer = trainer
        self.seed = seed
        self.n_classes = n_classes
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.init = init
        self.huber_delta = huber_delta

    # -- tensors in the layout the loss expects
    def _targets(self, y: np.ndarray) -> torch.Tensor:
        if self.loss == "cross_entropy":
            return torch.as_tensor(y, dtype=torch.long)
        return torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1)

    def _build(self, n_features: int) -> nn.Module:
        act = self.activation
        net = build_mlp(
            n_features,
            self.hidden_sizes,
            n_output_units(self.loss, self.task, self.n_classes),
            lambda: make_activation(option(act.name), act.negative_slope, act.alpha),
            dropout=self.dropout,
            batch_norm=self.batch_norm,
        )
        initialize(net, self.init, torch.Generator().manual_seed(self.seed))
        return net

    def _trainer(self, has_val: bool, history: EpochHistory) -> pl.Trainer:
        cfg = self.trainer
        callbacks: list[pl.Callback] = [history]
        if cfg.early_stopping_patience is not None:
            from pytorch_lightning.callbacks import EarlyStopping

            callbacks.append(EarlyStopping("val_loss", patience=cfg.early_stopping_patience, mode="min"))
        progress = cfg.progress_bar if cfg.progress_bar is not None else sys.stderr.isatty()
        return pl.Trainer(
            accelerator=cfg.accelerator,
            devices=cfg.devices,
            strategy=cfg.strategy,
            num_nodes=cfg.num_nodes,
            precision=cfg.precision,
            max_epochs=cfg.max_epochs,
            deterministic=cfg.deterministic,
            callbacks=callbacks,
            logger=False,
            enable_checkpointing=False,
            enable_model_summary=False,
            enable_progress_bar=progress,
            num_sanity_val_steps=0,
            limit_val_batches=1 if has_val else 0,
        )

    def fit(self, X: np.ndarray, y: np.ndarray, X_val=None, y_val=None) -> "MLPEstimator":
        torch.manual_seed(self.seed)  # dropout draws from the global generator
        net = self._build(X.shape[1])
        has_val = X_val is not None and len(X_val) > 0
        val = (torch.as_tensor(X_val, dtype=torch.float32), self._targets(y_val)) if has_val else None
        loop = EpochLoop(
            net,
            self.loss,
            self.optimizer,
            (torch.as_tensor(X, dtype=torch.float32), self._targets(y)),
            val,
            seed=self.seed,
            huber_delta=self.huber_delta,
        )
        history = EpochHistory()
        trainer = self._trainer(has_val, history)
        try:
            trainer.fit(loop, train_dataloaders=[0], val_dataloaders=[0] if has_val else None)
        except SystemExit:
            # Lightning turns Ctrl-C into sys.exit(1) after ignoring SIGINT; turn it
            # back into an interrupt so the run is recorded as KILLED.
            if trainer.interrupted:
                signal.signal(signal.SIGINT, signal.default_int_handler)
                raise KeyboardInterrupt from None
            raise
        self.history_ = history.epochs
        self.net_ = net.eval()
        self.device_ = loop.device
        self.n_features_in_ = X.shape[1]
        self.n_params_ = sum(p.numel() for p in net.parameters())
        self.epochs_trained_ = len(history.epochs)
        return self

    def _outputs(self, X: np.ndarray) -> torch.Tensor:
        with torch.inference_mode():
            inputs = torch.as_tensor(np.asarray(X, dtype=np.float32), device=self.device_)
            chunks = [self.net_(chunk) for chunk in torch.split(inputs, 65536)]
            return torch.cat(chunks).float().cpu()

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return self._outputs(X).numpy()

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        out = self._outputs(X)
        if out.shape[1] == 1:
            p = torch.sigmoid(out[:, 0])
            return torch.stack([1 - p, p], dim=1).numpy()
        return torch.softmax(out, dim=1).numpy()

    def predict(self, X: np.ndarray) -> np.ndarray:
        out = self._outputs(X)
        if self.task == "regression":
            return out[:, 0].numpy().astype(np.float64)
        if out.shape[1] == 1:
            return (out[:, 0] > 0).long().numpy()
        return out.argmax(1).numpy()

    def learned_weights(self) -> Optional[dict[str, float]]:
        """w_1..w_n and b of a single neuron (no hidden layer), as the slides write them."""
        if self.hidden_sizes:
            return None
        layer = self.net_[0]
        if layer.weight.shape[0] != 1:
            return None
        weights = {f"weight_{i + 1}": float(w) for i, w in enumerate(layer.weight[0].detach().tolist())}
        weights["bias"] = float(layer.bias.detach()[0])
        return weights
