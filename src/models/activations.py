"""Activation functions, including the perceptron's threshold unit."""

from __future__ import annotations

import torch
from torch import nn


class _StepSTE(torch.autograd.Function):
    """Heaviside step forward; hardtanh's derivative backward (straight-through)."""

    @staticmethod
    def forward(ctx, a: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(a)
        return (a > 0).to(a.dtype)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        (a,) = ctx.saved_tensors
        return grad_out * (a.abs() <= 1).to(grad_out.dtype)


class Step(nn.Module):
    """f(a) = 1 if a > 0 else 0, trained with a straight-through estimator."""

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return _StepSTE.apply(a)


def make_activation(name: str, negative_slope: float = 0.01, alpha: float = 1.0) -> nn.Module:
    factories = {
        "relu": nn.ReLU,
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
        "leaky_relu": lambda: nn.LeakyReLU(negative_slope),
        "elu": lambda: nn.ELU(alpha),
        "gelu": nn.GELU,
        "step": Step,
    }
    return factories[name]()
