"""Numeric feature embeddings (Gorishniy et al. 2022, "On Embeddings for
Numerical Features in Tabular Deep Learning"): each input column becomes
`d_embedding` values before the first layer, so that the MLP sees a richer
function of every feature than the raw number.

Both modules take inputs of shape (..., B, F) and return (..., B, F * d).
Their parameters may carry a leading member axis K (shape (K, F, ...)), in
which case the inputs are (K, B, F): `stacked(modules)` turns K single
embeddings into one such module, `member(k)` takes member k back out. That is
how the stacked replicas and the ensemble batch them (src/models/stacked.py).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class MemberStack(nn.Module):
    """Stacking along a leading member axis for modules whose forward accepts one."""

    def __init__(self, tensors: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor]):
        super().__init__()
        for name, value in tensors.items():
            self.register_parameter(name, nn.Parameter(value))
        for name, value in buffers.items():
            self.register_buffer(name, value)

    @classmethod
    def stacked(cls, modules: Sequence[MemberStack]) -> MemberStack:
        first = modules[0]
        tensors = {n: torch.stack([m.get_parameter(n).detach() for m in modules]) for n, _ in first.named_parameters()}
        buffers = {n: torch.stack([m.get_buffer(n) for m in modules]) for n, _ in first.named_buffers()}
        return cls(tensors, buffers)

    def member(self, k: int) -> MemberStack:
        tensors = {n: p.detach()[k].clone() for n, p in self.named_parameters()}
        buffers = {n: b[k].clone() for n, b in self.named_buffers()}
        return type(self)(tensors, buffers)


class PeriodicEmbedding(MemberStack):
    """PLR-lite: per feature j, ReLU(W_j [sin 2 pi c_j x_j, cos 2 pi c_j x_j] + b_j),
    with k trainable frequencies c_j ~ N(0, sigma)."""

    @classmethod
    def create(
        cls, n_features: int, n_frequencies: int, sigma: float, d_embedding: int, generator: torch.Generator
    ) -> PeriodicEmbedding:
        bound = 1.0 / math.sqrt(2 * n_frequencies)  # torch's nn.Linear init for the per-feature layer
        tensors = {
            "frequencies": torch.randn(n_features, n_frequencies, generator=generator) * sigma,
            "weight": torch.empty(n_features, 2 * n_frequencies, d_embedding).uniform_(
                -bound, bound, generator=generator
            ),
            "bias": torch.empty(n_features, d_embedding).uniform_(-bound, bound, generator=generator),
        }
        return cls(tensors, {})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        angles = 2 * math.pi * x.unsqueeze(-1) * self.frequencies.unsqueeze(-3)  # (..., B, F, k)
        periodic = torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)
        out = torch.einsum("...bfi,...fid->...bfd", periodic, self.weight) + self.bias.unsqueeze(-3)
        return F.relu(out).flatten(-2)


class PiecewiseLinearEmbedding(MemberStack):
    """PLE: per feature, quantile bins of the training rows; bin t encodes x as
    0 below it, 1 above it and linearly inside it (the first bin is open to the
    left, the last to the right), then Linear(n_bins -> d) + ReLU."""

    @classmethod
    def create(cls, X_train: np.ndarray, n_bins: int, d_embedding: int, generator: torch.Generator):
        quantiles = np.linspace(0.0, 1.0, n_bins + 1)
        edges = [np.unique(np.quantile(X_train[:, j], quantiles)) for j in range(X_train.shape[1])]
        n_features, width = len(edges), n_bins  # features with fewer distinct edges get masked bins
        low = torch.zeros(n_features, width)
        span = torch.ones(n_features, width)
        mask = torch.zeros(n_features, width)
        for j, e in enumerate(edges):
            e = torch.as_tensor(e, dtype=torch.float32)
            t = len(e) - 1
            if t < 1:  # a constant column: one bin of width 1 at its value
                low[j, 0], mask[j, 0] = e[0], 1.0
                continue
            low[j, :t] = e[:-1]
            span[j, :t] = (e[1:] - e[:-1]).clamp_min(1e-6)
            mask[j, :t] = 1.0
        bound = 1.0 / math.sqrt(width)
        tensors = {
            "weight": torch.empty(n_features, width, d_embedding).uniform_(-bound, bound, generator=generator),
            "bias": torch.empty(n_features, d_embedding).uniform_(-bound, bound, generator=generator),
        }
        return cls(tensors, {"low": low, "span": span, "mask": mask})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = (x.unsqueeze(-1) - self.low.unsqueeze(-3)) / self.span.unsqueeze(-3)  # (..., B, F, T)
        # Bins are clipped to [0, 1] except the first (open below) and the last used one
        # (open above); a feature with fewer distinct edges has fewer used bins.
        last = self.mask.sum(-1, keepdim=True).long().unsqueeze(-3) - 1  # (..., 1, F, 1)
        position = torch.arange(r.shape[-1], device=r.device)
        open_below, open_above = position == 0, position == last
        encoded = torch.where(open_below, r.clamp_max(1.0), r.clamp(0.0, 1.0))
        encoded = torch.where(open_above, r.clamp_min(0.0), encoded)
        r = torch.where(open_below & open_above, r, encoded)
        r = r * self.mask.unsqueeze(-3)
        out = torch.einsum("...bft,...ftd->...bfd", r, self.weight) + self.bias.unsqueeze(-3)
        return F.relu(out).flatten(-2)


def make_embedding(
    kind: str,
    X_train: np.ndarray,
    generator: torch.Generator,
    n_frequencies: int,
    frequency_sigma: float,
    d_embedding: int,
    n_bins: int,
) -> nn.Module:
    if kind == "periodic":
        return PeriodicEmbedding.create(X_train.shape[1], n_frequencies, frequency_sigma, d_embedding, generator)
    if kind == "piecewise_linear":
        return PiecewiseLinearEmbedding.create(X_train, n_bins, d_embedding, generator)
    raise ValueError(f"unknown embedding '{kind}'")
