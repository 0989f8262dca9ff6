"""The deep-training core that the single MLP and the stacked replicas share.

Losses, the optimizer and its learning-rate decay, accuracy counting, the
epoch-level bookkeeping (device placement, the update per batch, the history
of metrics per epoch, divergence) and the Lightning Trainer set-up exist once,
here. What differs between one net and K stacked replicas -- how an epoch's
batches are drawn and how its loss is averaged -- lives in their loops
(src/models/epoch_loop.py, src/models/stacked.py).

Small tabular data fits on the device, so there is no DataLoader: the whole
training split lives in tensors, and one Lightning step is one epoch, with
manual optimization inside it. Per-batch framework overhead is what makes
small nets slow; this keeps Lightning's machinery (devices, precision,
callbacks, early stopping) at the epoch level.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn

from src.config import option
from src.errors import DivergedError
from src.models.best_epoch import BestEpoch
from src.models.direct_step import DirectStep
from src.models.schedule import lr_factor

for _name in ("pytorch_lightning", "lightning.pytorch", "lightning_fabric", "lightning"):
    logging.getLogger(_name).setLevel(logging.WARNING)
warnings.filterwarnings("ignore", message=".*does not have many workers.*")
warnings.filterwarnings("ignore", message=".*but have no `val_dataloader`.*")
warnings.filterwarnings("ignore", message=".*Total length of .* across ranks is zero.*")
warnings.filterwarnings("ignore", message=".*`isinstance.treespec, LeafSpec.` is deprecated.*")

CLASSIFICATION_LOSSES = ("bce", "cross_entropy")


def loss_function(name: str, huber_delta: float = 1.0, label_smoothing: float = 0.0) -> Callable[..., torch.Tensor]:
    """Loss on raw network outputs; sigmoid/softmax are folded in for stability.
    Every returned function takes torch's `reduction` argument. `label_smoothing`
    (classification losses) moves that much of the target's weight evenly onto
    every class: cross-entropy as torch does it, bce towards 0.5."""
    if label_smoothing and name not in CLASSIFICATION_LOSSES:
        raise ValueError(f"label_smoothing applies to classification losses, not {name}")
    if label_smoothing and name == "bce":
        return lambda out, y, reduction="mean": F.binary_cross_entropy_with_logits(
            out, y * (1.0 - label_smoothing) + 0.5 * label_smoothing, reduction=reduction
        )
    if label_smoothing and name == "cross_entropy":
        return lambda out, y, reduction="mean": F.cross_entropy(
            out, y, label_smoothing=label_smoothing, reduction=reduction
        )
    if name == "mse":
        return F.mse_loss
    if name == "mae":
        return F.l1_loss
    if name == "huber":
        return lambda out, y, reduction="mean": F.huber_loss(out, y, delta=huber_delta, reduction=reduction)
    if name == "bce":
        return F.binary_cross_entropy_with_logits
    if name == "cross_entropy":
        return F.cross_entropy
    raise ValueError(f"unknown loss '{name}'")


def replica_losses(loss_fn: Callable[..., torch.Tensor], name: str, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean loss of each of K replicas, outputs (K, B, units): shape (K,).

    Their sum is what the stacked replicas minimize: replica k's gradient is
    then its own mean loss's, as in a single run."""
    K, B = out.shape[:2]
    if name == "cross_entropy":  # the class dimension must come second
        return loss_fn(out.reshape(K * B, -1), y.reshape(K * B), reduction="none").view(K, B).mean(1)
    return loss_fn(out, y, reduction="none").mean((1, 2))


def count_correct(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Correct predictions from raw outputs (..., B, units): a scalar for one
    net, shape (K,) for K replicas. One unit is a sigmoid's logit, several
    are softmax logits."""
    pred = (out > 0).to(y.dtype) if out.shape[-1] == 1 else out.argmax(-1)
    return (pred == y).flatten(start_dim=out.dim() - 2).sum(-1)


def weighted_batch_sum(batch_means: torch.Tensor, batch_size: int, n: int) -> torch.Tensor:
    """Sum over an epoch of per-batch mean losses (batches, ...) times each
    batch's size (the last batch may be short); divided by n, the epoch's mean."""
    shape = (len(batch_means),) + (1,) * (batch_means.dim() - 1)
    sizes = torch.full(shape, float(batch_size), device=batch_means.device, dtype=batch_means.dtype)
    sizes[-1] = n - batch_size * (len(batch_means) - 1)
    return (batch_means * sizes).sum(0)


@dataclass(frozen=True)
class OptimizerSpec:
    """The optimizer's settings, as the estimator's parameters give them."""

    name: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.0
    nesterov: bool = False
    lr_decay: float = 1.0  # multiplicative, after every epoch (1.0 = none)
    schedule: str = "constant"  # over the optimizer steps: constant | cosine | one_cycle (src/models/schedule.py)
    warmup_fraction: float = 0.05


def make_optimizer(params, spec: Any, fused: bool = False) -> torch.optim.Optimizer:
    """The optimizer `spec` names (an OptimizerSpec or the `optimizer` config
    group). `fused` selects torch's single-kernel update (CPU and CUDA), which
    matters for small nets whose step is mostly overhead."""
    name = option(spec.name)
    lr, wd = spec.lr, spec.weight_decay
    kernel = {"fused": True} if fused else {}
    if name in ("batch_gd", "sgd", "minibatch_sgd", "momentum", "nesterov"):
        nesterov = bool(spec.nesterov) or name == "nesterov"
        return torch.optim.SGD(params, lr=lr, momentum=spec.momentum, nesterov=nesterov, weight_decay=wd, **kernel)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, weight_decay=wd, **kernel)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=spec.momentum, weight_decay=wd)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd, **kernel)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd, **kernel)
    raise ValueError(f"unknown optimizer '{name}'")


def set_threads(cpu_threads: Optional[int], replicas: int = 1) -> None:
    """torch's CPU threads. One thread suits one small net; K replicas batched
    together keep more cores busy, so they get a budget each, up to the cores."""
    if cpu_threads:
        torch.set_num_threads(min(os.cpu_count() or 1, cpu_threads * replicas) if replicas > 1 else cpu_threads)


class TensorEpochLoop(pl.LightningModule):
    """Trains `net` on tensors held on the device; one Lightning step = one epoch.

    Subclasses write `training_step` (the epoch's batches) and `validation_step`,
    record the epoch's metrics in `self._epoch` (scalars for one net, (K,)
    tensors for K replicas) and call `_update` per batch and `_close_epoch`."""

    def __init__(
        self,
        net: nn.Module,
        loss: str,
        huber_delta: float,
        optimizer: Any,
        train: tuple[torch.Tensor, torch.Tensor],
        val: Optional[tuple[torch.Tensor, torch.Tensor]],
        batch_size: Optional[int],
        n_rows: int,
        replicas: int = 1,
        label_smoothing: float = 0.0,
        keep_epoch: Optional[str] = None,
    ):
        super().__init__()
        self.net = net
        self.automatic_optimization = False
        self.loss_name = loss
        self.loss_fn = loss_function(loss, huber_delta, label_smoothing)
        self.val_loss_fn = loss_function(loss, huber_delta)  # validation scores the plain loss
        self.classify = loss in CLASSIFICATION_LOSSES
        self.optimizer_spec = optimizer
        self.X_train, self.y_train = train
        self.val = val
        self.params = list(net.parameters())
        self.n_rows = n_rows
        self.batch_size = min(batch_size or n_rows, n_rows)
        self.histories: list[list[dict[str, float]]] = [[] for _ in range(replicas)]  # a row per epoch
        self._epoch: dict[str, torch.Tensor] = {}
        self._direct: Optional[DirectStep | bool] = None  # decided at the first step
        # Restore-best (None: keep the last epoch); every replica judged on its own.
        self.best = BestEpoch(net, keep_epoch, per_replica=replicas > 1) if keep_epoch else None
        self._step = 0  # optimizer steps so far, for the learning-rate schedule

    def on_fit_start(self) -> None:
        self.train_device = self.device  # Lightning moves the module back to the CPU after fit
        self.X_train = self.X_train.to(self.device)
        self.y_train = self.y_train.to(self.device)
        if self.val is not None:
            self.val = tuple(t.to(self.device) for t in self.val)

    def configure_optimizers(self):
        fused = self.device.type in ("cpu", "cuda")
        optimizer = make_optimizer(self.net.parameters(), self.optimizer_spec, fused=fused)
        if self.optimizer_spec.lr_decay == 1.0 or self._scheduled:
            return optimizer
        decay = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=self.optimizer_spec.lr_decay)
        return [optimizer], [decay]

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.net(X)

    @property
    def _scheduled(self) -> bool:
        return option(self.optimizer_spec.schedule) != "constant"

    def on_train_epoch_start(self) -> None:
        # From the epoch counter, so that a resumed run continues the schedule where it stopped.
        self._step = self.current_epoch * -(-self.n_rows // self.batch_size)

    def _set_lr(self) -> None:
        """The scheduled rate for the next update: lr x lr_decay**epoch x the schedule's factor."""
        spec = self.optimizer_spec
        total = self.trainer.max_epochs * -(-self.n_rows // self.batch_size)
        lr = spec.lr * spec.lr_decay**self.current_epoch
        lr *= lr_factor(self._step, total, option(spec.schedule), spec.warmup_fraction)
        for group in self.optimizers().optimizer.param_groups:
            group["lr"] = lr
        self._step += 1

    def _keep_if_best(self, val_loss: torch.Tensor, val_accuracy: Optional[torch.Tensor]) -> None:
        if self.best is not None:
            self.best.update(self.current_epoch, val_loss, val_accuracy)

    def restore_best(self) -> Optional[list[int]]:
        """After fit: load the kept epoch's weights; its index per replica (None: the last epoch is kept)."""
        return self.best.restore() if self.best is not None else None

    def _direct_step(self) -> Optional[DirectStep]:
        """The update to call per batch on the fast path, or None for Lightning's.

        On one device at full or bf16 precision, Lightning's optimizer wrapper
        and `manual_backward` add nothing but per-call overhead: gradients come
        from `torch.autograd.grad` and go straight to the optimizer's update.
        Other strategies (DDP reduces gradients in backward hooks), fp16 (which
        needs a gradient scaler) and checkpointed runs go through Lightning."""
        if self._direct is None:
            from pytorch_lightning.strategies import SingleDeviceStrategy

            plain = (
                isinstance(self.trainer.strategy, SingleDeviceStrategy)
                and str(self.trainer.precision) != "16-mixed"  # bf16-mixed needs no scaler
                # Lightning counts optimizer steps through its wrapper, and its checkpoints
                # are taken by that count: a checkpointed run goes through Lightning.
                and self.trainer.checkpoint_callback is None
            )
            self._direct = DirectStep(self.optimizers().optimizer, self.params) if plain else False
        return self._direct or None

    def _update(self, loss: torch.Tensor, direct: Optional[DirectStep]) -> Sequence[torch.Tensor]:
        """One optimizer step on `loss`; returns the gradients it applied."""
        if self._scheduled:
            self._set_lr()
        if direct is not None:
            grads = torch.autograd.grad(loss, self.params)
            direct(grads)
            return grads
        optimizer = self.optimizers()
        optimizer.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        optimizer.step()
        return [p.grad for p in self.params]

    def _close_epoch(self, epoch_loss: torch.Tensor) -> None:
        """After the epoch's last batch: decay the learning rate, stop on a
        diverged loss, record the epoch's training loss."""
        scheduler = self.lr_schedulers()
        if scheduler is not None:
            scheduler.step()
        if not torch.isfinite(epoch_loss).all():
            raise DivergedError(self.current_epoch, float(epoch_loss.max()))
        self._epoch["train_loss"] = epoch_loss

    def epoch_metric(self, name: str) -> Optional[float]:
        """This epoch's `name` so far (the first replica's), or None: for a per-epoch
        hook such as a search's pruner (src/search/pruning.py)."""
        value = self._epoch.get(name)
        return None if value is None else float(value.reshape(-1)[0])

    def on_train_epoch_end(self) -> None:
        # One host sync per epoch for all of the epoch's metrics (and replicas).
        names = list(self._epoch)
        values = torch.stack([self._epoch[k].float() for k in names])  # (metrics,) or (metrics, K)
        rows = values.T.tolist() if values.dim() == 2 else [values.tolist()]
        for history, row in zip(self.histories, rows):
            history.append({"epoch": self.current_epoch, **dict(zip(names, row))})
        self._epoch = {}


def make_trainer(
    *,
    accelerator: str,
    precision: str,
    max_epochs: int,
    deterministic: bool,
    progress_bar: Optional[bool],
    has_val: bool,
    devices: Any = 1,
    strategy: str = "auto",
    num_nodes: int = 1,
    callbacks: Sequence[pl.Callback] = (),
) -> pl.Trainer:
    """The Lightning Trainer for an epoch loop: no logger, no sanity steps, one
    validation 'batch' (the whole split) per epoch when there is a split.
    `progress_bar=None` shows Lightning's bar only on a terminal."""
    from pytorch_lightning.callbacks import ModelCheckpoint

    return pl.Trainer(
        accelerator=accelerator,
        devices=devices,
        strategy=strategy,
        num_nodes=num_nodes,
        precision=precision,
        max_epochs=max_epochs,
        deterministic=deterministic,
        callbacks=list(callbacks),
        logger=False,
        enable_checkpointing=any(isinstance(c, ModelCheckpoint) for c in callbacks),
        enable_model_summary=False,
        enable_progress_bar=progress_bar if progress_bar is not None else sys.stderr.isatty(),
        num_sanity_val_steps=0,
        limit_val_batches=1 if has_val else 0,
    )


def run_fit(trainer: pl.Trainer, loop: TensorEpochLoop, has_val: bool, ckpt_path: Optional[str] = None) -> None:
    """trainer.fit on the loop's own tensors (the 'dataloaders' are one dummy batch)."""
    try:
        trainer.fit(loop, train_dataloaders=[0], val_dataloaders=[0] if has_val else None, ckpt_path=ckpt_path)
    except SystemExit:
        # Lightning turns Ctrl-C into sys.exit(1) after ignoring SIGINT; turn it
        # back into an interrupt so the run is recorded as KILLED.
        if trainer.interrupted:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt from None
        raise
