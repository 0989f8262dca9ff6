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
from typing import Any, Iterator, Optional

import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn

from src.config import option
from src.errors import DivergedError
from src.models.activations import make_activation
from src.models.direct_step import DirectStep
from src.models.heads import n_output_units
from src.models.mlp import build_mlp, initialize, linear_layers

for _name in ("pytorch_lightning", "lightning.pytorch", "lightning_fabric", "lightning"):
    logging.getLogger(_name).setLevel(logging.WARNING)
warnings.filterwarnings("ignore", message=".*does not have many workers.*")
warnings.filterwarnings("ignore", message=".*but have no `val_dataloader`.*")
warnings.filterwarnings("ignore", message=".*Total length of .* across ranks is zero.*")
warnings.filterwarnings("ignore", message=".*`isinstance.treespec, LeafSpec.` is deprecated.*")


def loss_function(name: str, huber_delta: float = 1.0):
    """Loss on raw network outputs; sigmoid/softmax are folded in for stability.
    Every returned function takes torch's `reduction` argument."""
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


def make_optimizer(params, cfg: Any, fused: bool = False) -> torch.optim.Optimizer:
    """The configured optimizer. `fused` selects torch's single-kernel update
    (CPU and CUDA), which matters for small nets whose step is mostly overhead."""
    name = option(cfg.name)
    lr, wd = cfg.lr, cfg.weight_decay
    kernel = {"fused": True} if fused else {}
    if name in ("batch_gd", "sgd", "minibatch_sgd", "momentum", "nesterov"):
        nesterov = bool(cfg.nesterov) or name == "nesterov"
        return torch.optim.SGD(params, lr=lr, momentum=cfg.momentum, nesterov=nesterov, weight_decay=wd, **kernel)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, weight_decay=wd, **kernel)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=cfg.momentum, weight_decay=wd)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd, **kernel)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd, **kernel)
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
        monitor_val_loss: bool = False,
        log_grad_norms: bool = False,
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
        self.monitor_val_loss = monitor_val_loss
        self.log_grad_norms = log_grad_norms
        self.params = list(net.parameters())
        weights = {id(m.weight) for m in linear_layers(net)}
        self.weight_index = [i for i, p in enumerate(self.params) if id(p) in weights]
        self._direct: Optional[DirectStep | bool] = None  # decided at the first step
        self.history: list[dict[str, float]] = []  # one row of metrics per epoch
        self._epoch: dict[str, torch.Tensor] = {}
        n = len(self.y_train)
        self.batch_size = min(optimizer_cfg.batch_size or n, n)

    def on_fit_start(self) -> None:
        self.train_device = self.device  # Lightning moves the module back to the CPU after fit
        self.X_train = self.X_train.to(self.device)
        self.y_train = self.y_train.to(self.device)
        if self.val is not None:
            self.val = tuple(t.to(self.device) for t in self.val)

    def configure_optimizers(self):
        fused = self.device.type in ("cpu", "cuda")
        optimizer = make_optimizer(self.net.parameters(), self.optimizer_cfg, fused=fused)
        if self.optimizer_cfg.lr_decay == 1.0:
            return optimizer
        decay = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=self.optimizer_cfg.lr_decay)
        return [optimizer], [decay]

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.net(X)

    def _correct(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        pred = (out[:, 0] > 0).to(y.dtype)[:, None] if out.shape[1] == 1 else out.argmax(1)
        return (pred == y).sum()

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

    def _batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, int]]:
        """This epoch's batches in a fresh seeded order: (X, y, global batch size).

        On one process the split is gathered once in the new order and cut
        into contiguous slices (as scikit-learn does), which costs less than
        indexing every batch; the batches are the same rows. Under DDP each
        process gathers only its interleaved share of every global batch, so
        no rank holds a second copy of the split."""
        order = torch.randperm(len(self.y_train), generator=self.shuffle).to(self.device)  # the same on every rank
        world, rank, bs, n = self.trainer.world_size, self.trainer.global_rank, self.batch_size, len(order)
        if world == 1:
            X, y = self.X_train[order], self.y_train[order]
            for start in range(0, n, bs):
                yield X[start : start + bs], y[start : start + bs], min(bs, n - start)
            return
        for start in range(0, n, bs):
            rows = order[start : start + bs][rank::world]
            yield self.X_train[rows], self.y_train[rows], min(bs, n - start)

    def _reduce_sum(self, value: torch.Tensor) -> torch.Tensor:
        if self.trainer.world_size == 1:
            return value
        return self.trainer.strategy.reduce(value, reduce_op="sum")

    def training_step(self, batch: Any, batch_idx: int) -> None:
        direct = self._direct_step()
        world, bs, n = self.trainer.world_size, self.batch_size, len(self.y_train)
        grad_norms = torch.zeros(len(self.weight_index), device=self.device) if self.log_grad_norms else None
        # Per-batch values are only collected here; they are reduced once at the end of the epoch.
        losses: list[torch.Tensor] = []
        outputs: list[torch.Tensor] = []
        targets: list[torch.Tensor] = []
        for xb, yb, global_size in self._batches():
            out = self.net(xb)
            if world == 1:
                loss = self.loss_fn(out, yb)
                losses.append(loss.detach())  # a batch mean: weighted by batch size below
            else:  # scaled so that the all-reduced gradient equals the single-process one
                loss_sum = self.loss_fn(out, yb, reduction="sum")
                loss = loss_sum * (world / global_size)
                losses.append(loss_sum.detach())
            if direct is not None:
                grads = torch.autograd.grad(loss, self.params)
                if grad_norms is not None:
                    grad_norms += torch.stack(torch._foreach_norm([grads[i] for i in self.weight_index]))
                direct(grads)
            else:
                optimizer = self.optimizers()
                optimizer.zero_grad(set_to_none=True)
                self.manual_backward(loss)
                if grad_norms is not None:
                    grad_norms += torch.stack(torch._foreach_norm([self.params[i].grad for i in self.weight_index]))
                optimizer.step()
            if self.classify:
                outputs.append(out.detach())
                targets.append(yb)
        scheduler = self.lr_schedulers()
        if scheduler is not None:
            scheduler.step()
        batch_losses = torch.stack(losses)
        if world == 1:  # batch means times batch sizes (the last batch may be short)
            sizes = torch.full_like(batch_losses, bs)
            sizes[-1] = n - bs * (len(losses) - 1)
            batch_losses = batch_losses * sizes
        epoch_loss = self._reduce_sum(batch_losses.sum()) / n
        if not torch.isfinite(epoch_loss):
            raise DivergedError(self.current_epoch, float(epoch_loss))
        self._epoch["train_loss"] = epoch_loss
        if self.classify:
            correct = self._correct(torch.cat(outputs), torch.cat(targets))
            self._epoch["train_epoch_accuracy"] = self._reduce_sum(correct).float() / n
        if grad_norms is not None:
            for i, norm in enumerate(grad_norms / max(len(losses), 1)):
                self._epoch[f"grad_norm_layer_{i + 1}"] = norm

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        X, y = self.val
        world, rank = self.trainer.world_size, self.trainer.global_rank
        if world > 1:  # each process scores its share; the sums are reduced
            X, y = X[rank::world], y[rank::world]
        out = self.net(X)
        n_val = len(self.val[1])
        val_loss = self._reduce_sum(self.loss_fn(out, y, reduction="sum")) / n_val
        self._epoch["val_loss"] = val_loss
        if self.classify:
            self._epoch["val_accuracy"] = self._reduce_sum(self._correct(out, y)).float() / n_val
        if self.monitor_val_loss:  # early stopping reads it from Lightning's logged metrics
            self.log("val_loss", val_loss, on_step=False, on_epoch=True, batch_size=1)

    def on_train_epoch_end(self) -> None:
        # One host sync per epoch for all of the epoch's metrics.
        names = list(self._epoch)
        values = torch.stack([self._epoch[k].float() for k in names]).tolist()
        self.history.append({"epoch": self.current_epoch, **dict(zip(names, values))})
        self._epoch = {}

    # A resumed training must continue exactly: keep the shuffling generator and
    # the metrics so far next to Lightning's model, optimizer and loop state.
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["mlvsdl"] = {"shuffle": self.shuffle.get_state(), "history": list(self.history)}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint.get("mlvsdl", {})
        if "shuffle" in state:
            self.shuffle.set_state(state["shuffle"])
        self.history = list(state.get("history", []))


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
        checkpoint_dir: Optional[str] = None,
        resume_from: Optional[str] = None,
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
        # Where to keep last.ckpt (when trainer.checkpoint_every_n_epochs is set),
        # and a checkpoint to continue from.
        self.checkpoint_dir = checkpoint_dir
        self.resume_from = resume_from

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

    def _trainer(self, has_val: bool) -> pl.Trainer:
        cfg = self.trainer
        callbacks: list[pl.Callback] = []
        if cfg.early_stopping_patience is not None:
            from pytorch_lightning.callbacks import EarlyStopping

            callbacks.append(EarlyStopping("val_loss", patience=cfg.early_stopping_patience, mode="min"))
        every = cfg.get("checkpoint_every_n_epochs")
        if every and self.checkpoint_dir:
            from pytorch_lightning.callbacks import ModelCheckpoint

            # save_top_k=1 without a monitor keeps the latest epoch; save_last adds last.ckpt.
            callbacks.append(
                ModelCheckpoint(
                    dirpath=self.checkpoint_dir,
                    filename="latest",
                    save_last=True,
                    save_top_k=1,
                    every_n_epochs=every,
                    save_on_train_epoch_end=True,
                )
            )
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
            enable_checkpointing=any(type(c).__name__ == "ModelCheckpoint" for c in callbacks),
            enable_model_summary=False,
            enable_progress_bar=progress,
            num_sanity_val_steps=0,
            limit_val_batches=1 if has_val else 0,
        )

    def fit(self, X: np.ndarray, y: np.ndarray, X_val=None, y_val=None) -> MLPEstimator:
        if self.trainer.get("cpu_threads"):
            torch.set_num_threads(self.trainer.cpu_threads)
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
            monitor_val_loss=self.trainer.early_stopping_patience is not None,
            log_grad_norms=bool(self.trainer.get("log_grad_norms", False)),
        )
        trainer = self._trainer(has_val)
        try:
            trainer.fit(
                loop, train_dataloaders=[0], val_dataloaders=[0] if has_val else None, ckpt_path=self.resume_from
            )
        except SystemExit:
            # Lightning turns Ctrl-C into sys.exit(1) after ignoring SIGINT; turn it
            # back into an interrupt so the run is recorded as KILLED.
            if trainer.interrupted:
                signal.signal(signal.SIGINT, signal.default_int_handler)
                raise KeyboardInterrupt from None
            raise
        finally:
            self.history_ = loop.history  # kept when training fails: the epochs so far are logged
        self.history_ = loop.history
        self.net_ = net.eval()
        self.device_ = loop.device  # where the fitted net lives now (predictions run there)
        self.train_device_ = getattr(loop, "train_device", loop.device)
        self.n_features_in_ = X.shape[1]
        self.n_params_ = sum(p.numel() for p in net.parameters())
        self.epochs_trained_ = len(loop.history)
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


def mlp_from_config(cfg: Any, task: str, n_classes: int) -> MLPEstimator:
    """The MLP that a composed config describes (model, activation, loss, optimizer, trainer groups)."""
    from src.models.heads import resolve_loss

    return MLPEstimator(
        task=task,
        loss=resolve_loss(option(cfg.loss.name), task),
        hidden_sizes=list(cfg.model.hidden_sizes),
        activation=cfg.activation,
        optimizer=cfg.optimizer,
        trainer=cfg.trainer,
        seed=cfg.seed,
        n_classes=n_classes,
        dropout=cfg.model.dropout,
        batch_norm=cfg.model.batch_norm,
        init=option(cfg.model.init),
        huber_delta=cfg.loss.huber_delta,
    )
