"""The multilayer perceptron as a plain torch module."""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn


def build_mlp(
    n_inputs: int,
    hidden_sizes: Sequence[int],
    n_outputs: int,
    activation: Callable[[], nn.Module],
    dropout: float = 0.0,
    batch_norm: bool = False,
) -> nn.Sequential:
    """Linear -> [BatchNorm] -> activation -> [Dropout] per hidden layer, then a
    linear output layer. The output non-linearity (sigmoid / softmax) lives in
    the loss, which is the numerically stable way to pair them."""
    layers: list[nn.Module] = []
    width = n_inputs
    for size in hidden_sizes:
        layers.append(nn.Linear(width, size))
        if batch_norm:
            layers.append(nn.BatchNorm1d(size))
        layers.append(activation())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = size
    layers.append(nn.Linear(width, n_outputs))
    return nn.Sequential(*layers)


def initialize(net: nn.Module, scheme: str, generator: torch.Generator) -> None:
    """small: U(-0.05, 0.05), the workshop's 'small numbers close to 0 (but not 0)';
    xavier: Glorot uniform (Keras' default, as in the workshop's code);
    kaiming: He uniform, suited to ReLU. Biases start at zero, except with
    torch: torch's nn.Linear default, weights and biases U(+-1/sqrt(fan_in))."""
    for module in net.modules():
        if not isinstance(module, nn.Linear):
            continue
        with torch.no_grad():
            if scheme == "small":
                module.weight.uniform_(-0.05, 0.05, generator=generator)
            elif scheme == "xavier":
                fan_out, fan_in = module.weight.shape
                bound = (6.0 / (fan_in + fan_out)) ** 0.5
                module.weight.uniform_(-bound, bound, generator=generator)
            elif scheme == "torch":
                bound = 1.0 / module.weight.shape[1] ** 0.5
                module.weight.uniform_(-bound, bound, generator=generator)
                module.bias.uniform_(-bound, bound, generator=generator)
                continue
            elif scheme == "kaiming":
                fan_in = module.weight.shape[1]
                bound = (6.0 / fan_in) ** 0.5
                module.weight.uniform_(-bound, bound, generator=generator)
            else:
                raise ValueError(f"unknown init scheme '{scheme}'")
            module.bias.zero_()


def linear_layers(net: nn.Module) -> list[nn.Linear]:
    return [m for m in net.modules() if isinstance(m, nn.Linear)]
