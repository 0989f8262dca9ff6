"""Train the seeds of one configuration together, as one vectorized model.

Studies repeat every configuration over seeds, and a small MLP leaves the CPU
idle between kernels. Here K replicas of the same architecture are stacked
into batched weights, (K, fan_in, fan_out), and trained at once with batched
matrix products. Each replica keeps its own seed: the same initial weights
and the same batch order as a single run with that seed. The optimizers are
elementwise (SGD, momentum, AdaGrad, RMSProp, Adam, AdamW), and the loss is
the sum of the replicas' own mean losses, so each replica's update is the
single run's update, up to float rounding.

A replica may itself be an ensemble of `members` nets (model.ensemble_size,
src/models/ensemble.py): R replicas x K members are then R*K stacked nets,
member i of replica r at index r*K + i, all K on replica r's rows.

Dropout: a single run draws its masks from torch's global generator, seeded
with its seed and then advanced by its nets' construction (nn.Linear draws a
default init that the chosen init overwrites). Trained together, replica r
draws its masks, of the shape its single run draws, from a generator of its
own started from that same state (ReplicaDropout), so on the CPU each replica
gets exactly its single run's masks. On a GPU a single run's dropout uses
CUDA's fused kernel, whose stream no generator reproduces: there each
replica's masks come from its own CUDA generator, deterministic but not the
single run's, so replica and single run agree in distribution only.
"""

from __future__ import annotations

import math
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


class ReplicaGenerators:
    """One dropout generator per replica, from the global generator's states
    where the replicas' single runs start training; made once per device."""

    def __init__(self, states: Sequence[torch.Tensor]):
        self.states = list(states)
        self.generators: dict[torch.device, list[torch.Generator]] = {}

    def on(self, device: torch.device) -> list[torch.Generator]:
        if device not in self.generators:
            cpu = [torch.Generator().set_state(state) for state in self.states]
            if device.type == "cpu":
                self.generators[device] = cpu
            else:  # a CUDA generator takes no CPU state: seeded from it instead
                seeds = [int(torch.randint(2**62, (1,), generator=g)) for g in cpu]
                self.generators[device] = [torch.Generator(device=device).manual_seed(s) for s in seeds]
        return self.generators[device]


class ReplicaDropout(nn.Module):
    """Dropout on (R * members, B, h) that draws replica r's masks, (members, B, h),
    from its own generator, started from `states[r]` (torch.get_rng_state() where
    replica r's single run starts training); all dropout layers share them, as
    a single run's share the global generator."""

    def __init__(self, p: float, generators: ReplicaGenerators, members: int):
        super().__init__()
        self.p, self.replica_generators, self.members = p, generators, members

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        shape = (self.members, *x.shape[1:])
        # As torch's CPU dropout: a Bernoulli(1 - p) draw of the input's shape, scaled by 1 / (1 - p).
        masks = [torch.empty(shape, device=x.device).bernoulli_(1 - self.p, generator=g)
                 for g in self.replica_generators.on(x.device)]  # fmt: skip
        return x * torch.cat(masks).div_(1 - self.p)

    def member(self, k: int) -> nn.Dropout:
        return nn.Dropout(self.p)


class StackedMLP(nn.Module):
    """K MLPs with the same layers; x of shape (K, B, d) -> (K, B, outputs).

    Linear layers and numeric embeddings get a leading K axis on their
    parameters; activations act elementwise, so one module serves all K.
    Dropout draws from torch's global generator, or, given `dropout_states`
    (one per replica of `members` nets), from each replica's own generator."""

    def __init__(
        self, nets: Sequence[nn.Sequential], dropout_states: Optional[Sequence[torch.Tensor]] = None, members: int = 1
    ):
        super().__init__()
        generators = ReplicaGenerators(dropout_states) if dropout_states is not None else None
        layers: list[nn.Module] = []
        for parts in zip(*nets):
            first = parts[0]
            if isinstance(first, nn.Linear):
                layers.append(StackedLinear(parts))
            elif isinstance(first, MemberStack):
                layers.append(type(first).stacked(parts))
            elif isinstance(first, nn.modules.batchnorm._BatchNorm):
                raise ConfigError("nets trained together take no batch norm; set model.batch_norm=false")
            elif isinstance(first, nn.Dropout) and generators is not None:
                layers.append(ReplicaDropout(first.p, generators, members))
            else:
                layers.append(first)
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)

    def replica(self, k: int) -> nn.Sequential:
        """Replica k as an ordinary nn.Sequential (for prediction and logging)."""
        members = [layer.member(k) if hasattr(layer, "member") else layer for layer in self.layers]
        return nn.Sequential(*members).eval()


class ReplicaStopping:
    """Early stopping for each replica on its own validation loss, as Lightning's
    EarlyStopping("val_loss", patience, mode="min") stops a single run: a replica
    whose loss has not improved (strictly) for `patience` validations, or is not
    finite, stops after that epoch. Training goes on until every replica has stopped."""

    def __init__(self, patience: int, replicas: int):
        self.patience = patience
        self.best = [math.inf] * replicas
        self.wait = [0] * replicas
        self.stopped_at: list[Optional[int]] = [None] * replicas

    def training(self, device: torch.device) -> torch.Tensor:
        """(R,) True for the replicas that have not stopped."""
        return torch.tensor([epoch is None for epoch in self.stopped_at], device=device)

    def update(self, epoch: int, val_loss: torch.Tensor) -> list[int]:
        """The replicas that stop after this epoch."""
        stopping = []
        for r, value in enumerate(val_loss.tolist()):  # one host sync per epoch, as Lightning's callback
            if self.stopped_at[r] is not None:
                continue
            if value < self.best[r]:
                self.best[r], self.wait[r] = value, 0
            else:
                self.wait[r] += 1
            if self.wait[r] >= self.patience or not math.isfinite(value):
                self.stopped_at[r] = epoch
                stopping.append(r)
        return stopping

    @property
    def all_stopped(self) -> bool:
        return all(epoch is not None for epoch in self.stopped_at)


class StackedEpochLoop(TensorEpochLoop):
    """One Lightning step = one epoch of all replicas, each on its own data.

    `train` holds each replica's own rows, (R, n, d) and (R, n[, 1]); `seeds`
    one batch order per net, R x `members` of them. With `patience`, each
    replica stops early on its own (ReplicaStopping): its later epochs are not
    its own, so they leave its history, never become its best epoch, and its
    weights end as they were when it stopped (or at its best epoch)."""

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
    ):
        replicas, n_rows = train[1].shape[0], train[1].shape[1]
        super().__init__(
            net, loss, huber_delta, optimizer, train, val, batch_size, n_rows, replicas, label_smoothing, keep_epoch
        )
        self.members = members
        self.shuffles = [torch.Generator().manual_seed(s) for s in seeds]
        self.stopping = ReplicaStopping(patience, replicas) if patience is not None else None
        self._at_stop: dict[int, dict[str, torch.Tensor]] = {}  # replica -> its nets' state when it stopped

    def _epoch_rows(self) -> tuple[torch.Tensor, torch.Tensor]:
        """This epoch's training rows, each net's in its own order: (R * members, n, d), (R * members, n[, 1]).

        Gathered once per epoch as offsets into the flattened (R * n, ...)
        tensors (net j reads replica j // members's rows); batches are then contiguous slices."""
        X, y = self.X_train, self.y_train
        R, n, nets = y.shape[0], y.shape[1], len(self.shuffles)
        order = torch.stack([torch.randperm(n, generator=g) for g in self.shuffles])
        owner = torch.arange(nets) // self.members
        order = (order + owner[:, None] * n).reshape(-1).to(self.device)
        X_epoch = X.reshape(R * n, -1).index_select(0, order).view(nets, n, -1)
        y_epoch = y.reshape(R * n, *y.shape[2:]).index_select(0, order).view(nets, n, *y.shape[2:])
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
        self._close_epoch(weighted_batch_sum(torch.stack(losses), bs, n) / n)  # (nets,)
        if self.classify:
            self._epoch["train_epoch_accuracy"] = count_correct(torch.cat(outputs, 1), y_epoch).float() / n

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        X, y = self.val
        out = self.net(X)
        self._epoch["val_loss"] = replica_losses(self.val_loss_fn, self.loss_name, out, y)
        if self.classify:
            self._epoch["val_accuracy"] = count_correct(out, y).float() / y.shape[1]
        self._judge(self._epoch["val_loss"], self._epoch.get("val_accuracy"))

    def _judge(self, val_loss: torch.Tensor, val_accuracy: Optional[torch.Tensor]) -> None:
        """Restore-best and early stopping on each replica's (R,) validation scores."""
        loss, accuracy = val_loss, val_accuracy
        if self.stopping is not None:  # a replica that stopped keeps the best epoch it had
            training = self.stopping.training(val_loss.device)
            loss = torch.where(training, loss, torch.inf)
            accuracy = None if accuracy is None else torch.where(training, accuracy, -torch.inf)
        k = self.members  # every member judged by its replica's scores
        self._keep_if_best(loss.repeat_interleave(k), None if accuracy is None else accuracy.repeat_interleave(k))
        if self.stopping is None:
            return
        for r in self.stopping.update(self.current_epoch, val_loss):
            self._at_stop[r] = {
                name: value[r * k : (r + 1) * k].clone() for name, value in self.net.state_dict().items()
            }
        if self.stopping.all_stopped:
            self.trainer.should_stop = True

    def _close_epoch(self, epoch_loss: torch.Tensor) -> None:
        if self.stopping is not None:  # a stopped replica's later loss is not its own: it cannot diverge
            training = self.stopping.training(epoch_loss.device).repeat_interleave(self.members)
            epoch_loss = torch.where(training, epoch_loss, 0.0)
        super()._close_epoch(epoch_loss)

    def on_train_epoch_end(self) -> None:
        super().on_train_epoch_end()
        for r, stopped_at in enumerate(self.stopping.stopped_at if self.stopping is not None else []):
            if stopped_at is not None and stopped_at < self.current_epoch:
                self.histories[r].pop()  # trained after it stopped: not its epoch

    def restore_best(self) -> Optional[list[int]]:
        kept = super().restore_best()
        if self.best is None:  # the last epoch is kept: a stopped replica's is the one it stopped after
            k, state = self.members, self.net.state_dict()
            with torch.no_grad():
                for r, saved in self._at_stop.items():
                    for name, value in saved.items():
                        state[name][r * k : (r + 1) * k].copy_(value)
        return kept
