"""One net's epoch: a fresh seeded order of the training rows, cut into batches,
on one device or shared out among DDP processes."""

from __future__ import annotations

from typing import Any, Iterator, Optional

import torch
from torch import nn

from src.models.deep_core import TensorEpochLoop, count_correct, weighted_batch_sum
from src.models.mlp import linear_layers


class EpochLoop(TensorEpochLoop):
    """Trains `net` on tensors held on the device; one Lightning step = one epoch."""

    def __init__(
        self,
        net: nn.Module,
        loss: str,
        optimizer: Any,
        train: tuple[torch.Tensor, torch.Tensor],
        val: Optional[tuple[torch.Tensor, torch.Tensor]],
        seed: int,
        batch_size: Optional[int],
        huber_delta: float = 1.0,
        monitor_val_loss: bool = False,
        log_grad_norms: bool = False,
        label_smoothing: float = 0.0,
        keep_epoch: Optional[str] = None,
    ):
        super().__init__(
            net,
            loss,
            huber_delta,
            optimizer,
            train,
            val,
            batch_size,
            n_rows=len(train[1]),
            label_smoothing=label_smoothing,
            keep_epoch=keep_epoch,
        )
        self.shuffle = torch.Generator().manual_seed(seed)
        self.monitor_val_loss = monitor_val_loss
        self.log_grad_norms = log_grad_norms
        weights = {id(m.weight) for m in linear_layers(net)}
        self.weight_index = [i for i, p in enumerate(self.params) if id(p) in weights]

    @property
    def history(self) -> list[dict[str, float]]:
        return self.histories[0]

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
        world, n = self.trainer.world_size, len(self.y_train)
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
            grads = self._update(loss, direct)
            if grad_norms is not None:
                grad_norms += torch.stack(torch._foreach_norm([grads[i] for i in self.weight_index]))
            if self.classify:
                outputs.append(out.detach())
                targets.append(yb)
        batch_losses = torch.stack(losses)
        total = weighted_batch_sum(batch_losses, self.batch_size, n) if world == 1 else batch_losses.sum()
        self._close_epoch(self._reduce_sum(total) / n)
        if self.classify:
            correct = count_correct(torch.cat(outputs), torch.cat(targets))
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
        val_loss = self._reduce_sum(self.val_loss_fn(out, y, reduction="sum")) / n_val
        self._epoch["val_loss"] = val_loss
        if self.classify:
            self._epoch["val_accuracy"] = self._reduce_sum(count_correct(out, y)).float() / n_val
        self._keep_if_best(val_loss, self._epoch.get("val_accuracy"))
        if self.monitor_val_loss:  # early stopping reads it from Lightning's logged metrics
            self.log("val_loss", val_loss, on_step=False, on_epoch=True, batch_size=1)

    # A resumed training must continue exactly: keep the shuffling generator and
    # the metrics so far next to Lightning's model, optimizer and loop state.
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["mlvsdl"] = {"shuffle": self.shuffle.get_state(), "history": list(self.history)}
        if self.best is not None and self.best.state is not None:
            checkpoint["mlvsdl"]["best_epoch"] = self.best.checkpoint()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint.get("mlvsdl", {})
        if "shuffle" in state:
            self.shuffle.set_state(state["shuffle"])
        self.histories = [list(state.get("history", []))]
        if self.best is not None and "best_epoch" in state:
            self.best.load(state["best_epoch"])
