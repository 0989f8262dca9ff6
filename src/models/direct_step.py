"""`optimizer.step()` without its per-call wrapper, for small nets.

A torch optimizer's `step()` spends most of its time, on a small MLP, in
Python around the update: profiling hooks, the grad-mode wrapper, and
`_init_group` walking every parameter's state dict to rebuild the same lists
on every call. Measured here on a 100-100 MLP: 56 us per `Adam.step()` (fused)
against 22 us for the fused kernel itself, on a ~450 us batch.

`DirectStep` takes the first step through the optimizer (which creates its
state), then keeps the lists of parameters and state tensors and calls
torch's own functional update (`torch.optim.adam.adam`, ...) with the group's
current hyperparameters, so a scheduler's learning rate still applies and the
optimizer's state stays the one `state_dict()` saves. The arithmetic is
torch's: results equal `optimizer.step()` (tests). Gradients are passed in
rather than read from `.grad`, so `torch.autograd.grad` replaces
`zero_grad()` + `backward()`.

Every optimizer the pipeline offers (SGD family, Adagrad, RMSprop, Adam,
AdamW) goes through it, so timing comparisons between optimizers stay fair.
Anything else (several parameter groups, sparse gradients, an unknown
optimizer) falls back to `optimizer.step()`.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import torch
from torch import Tensor

Update = Callable[[Sequence[Tensor]], None]


class DirectStep:
    """Callable `step(grads)` equal to setting `.grad` and calling `optimizer.step()`."""

    def __init__(self, optimizer: torch.optim.Optimizer, params: Sequence[Tensor]):
        self.optimizer = optimizer
        self.params = list(params)
        self._update: Optional[Update] = None
        self._bound = False
        # Loading a state dict (a resumed checkpoint) replaces the state tensors the
        # update holds: bind again, through one normal step, after any load.
        optimizer.register_load_state_dict_post_hook(lambda _optimizer: self._unbind())

    def _unbind(self) -> None:
        self._update, self._bound = None, False

    def __call__(self, grads: Sequence[Tensor]) -> None:
        if self._update is not None:
            with torch.no_grad():  # as optimizer.step() does: the update is not differentiated
                self._update(list(grads))
            return
        for p, g in zip(self.params, grads):
            p.grad = g
        self.optimizer.step()  # the first step creates the optimizer's state
        for p in self.params:
            p.grad = None
        if not self._bound:
            self._bound = True
            self._update = _bind(self.optimizer, self.params)


def _bind(optimizer: torch.optim.Optimizer, params: list[Tensor]) -> Optional[Update]:
    """The functional update over `optimizer`'s own state, or None where unsupported."""
    if len(optimizer.param_groups) != 1 or [id(p) for p in optimizer.param_groups[0]["params"]] != [
        id(p) for p in params
    ]:
        return None
    group = optimizer.param_groups[0]
    state = [optimizer.state[p] for p in params]
    if isinstance(optimizer, torch.optim.Adam):  # AdamW is an Adam with decoupled weight decay
        return _adam(group, params, state)
    if isinstance(optimizer, torch.optim.SGD):
        return _sgd(group, params, state)
    if isinstance(optimizer, torch.optim.Adagrad):
        return _adagrad(group, params, state)
    if isinstance(optimizer, torch.optim.RMSprop):
        return _rmsprop(group, params, state)
    return None


def _adam(group: dict, params: list[Tensor], state: list[dict]) -> Update:
    from torch.optim.adam import adam

    exp_avgs = [s["exp_avg"] for s in state]
    exp_avg_sqs = [s["exp_avg_sq"] for s in state]
    max_exp_avg_sqs = [s["max_exp_avg_sq"] for s in state] if group["amsgrad"] else []
    steps = [s["step"] for s in state]

    def update(grads: Sequence[Tensor]) -> None:
        beta1, beta2 = group["betas"]
        adam(
            params,
            grads,
            exp_avgs,
            exp_avg_sqs,
            max_exp_avg_sqs,
            steps,
            amsgrad=group["amsgrad"],
            has_complex=False,
            beta1=beta1,
            beta2=beta2,
            lr=group["lr"],
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            maximize=group["maximize"],
            foreach=group["foreach"],
            capturable=group["capturable"],
            differentiable=group["differentiable"],
            fused=group["fused"],
            decoupled_weight_decay=group.get("decoupled_weight_decay", False),
        )

    return update


def _sgd(group: dict, params: list[Tensor], state: list[dict]) -> Update:
    from torch.optim.sgd import sgd

    # The momentum buffers exist after the first step and are updated in place.
    buffers = [s.get("momentum_buffer") for s in state] if group["momentum"] != 0 else [None] * len(params)

    def update(grads: Sequence[Tensor]) -> None:
        sgd(
            params,
            grads,
            buffers,
            weight_decay=group["weight_decay"],
            momentum=group["momentum"],
            lr=group["lr"],
            dampening=group["dampening"],
            nesterov=group["nesterov"],
            maximize=group["maximize"],
            has_sparse_grad=False,
            foreach=group["foreach"],
            fused=group["fused"],
        )

    return update


def _adagrad(group: dict, params: list[Tensor], state: list[dict]) -> Update:
    from torch.optim.adagrad import adagrad

    sums = [s["sum"] for s in state]
    steps = [s["step"] for s in state]

    def update(grads: Sequence[Tensor]) -> None:
        adagrad(
            params,
            grads,
            sums,
            steps,
            lr=group["lr"],
            weight_decay=group["weight_decay"],
            lr_decay=group["lr_decay"],
            eps=group["eps"],
            has_sparse_grad=False,
            foreach=group["foreach"],
            maximize=group["maximize"],
            differentiable=group["differentiable"],
            has_complex=False,
            fused=group["fused"],
        )

    return update


def _rmsprop(group: dict, params: list[Tensor], state: list[dict]) -> Update:
    from torch.optim.rmsprop import rmsprop

    square_avgs = [s["square_avg"] for s in state]
    grad_avgs = [s["grad_avg"] for s in state] if group["centered"] else []
    momentum_buffers = [s["momentum_buffer"] for s in state] if group["momentum"] > 0 else []
    steps = [s["step"] for s in state]

    def update(grads: Sequence[Tensor]) -> None:
        rmsprop(
            params,
            grads,
            square_avgs,
            grad_avgs,
            momentum_buffers,
            steps,
            lr=group["lr"],
            alpha=group["alpha"],
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            momentum=group["momentum"],
            centered=group["centered"],
            foreach=group["foreach"],
            maximize=group["maximize"],
            differentiable=group["differentiable"],
            capturable=group["capturable"],
            has_complex=False,
        )

    return update
