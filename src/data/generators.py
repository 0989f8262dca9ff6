"""The TensorFlow Playground's four classification sets, ported to numpy.

The slides send readers to playground.tensorflow.org; these are its
generators (src/dataset.ts of the Playground, Apache-2.0), formula for
formula, with the Playground's -1 / +1 labels. `noise` is the Playground's
slider divided by 100 (0 to 0.5); its default is 0, its size 500 points.
Drawn from a seeded numpy generator instead of Math.random, so a given
(n_samples, noise, random_state) always gives the same points. Sizes: the
Playground draws n/2 points per class (one more each for an odd n); here the
first class gets the extra point, so exactly n points come back.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

Generator = Callable[[int, float, int], tuple[np.ndarray, np.ndarray]]


def _halves(n: int) -> tuple[int, int]:
    return n - n // 2, n // 2


def circle(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A disc of +1 inside a ring of -1. The label is taken at the noisy
    position while the clean point is kept, as in the Playground: noise blurs
    the labels near the boundary, not the points."""
    rng = np.random.default_rng(seed)
    radius = 5.0
    parts = []
    for count, (r_min, r_max) in zip(_halves(n), [(0.0, radius * 0.5), (radius * 0.7, radius)]):
        r = rng.uniform(r_min, r_max, count)
        angle = rng.uniform(0.0, 2 * np.pi, count)
        x, y = r * np.sin(angle), r * np.cos(angle)
        noise_x = rng.uniform(-radius, radius, count) * noise
        noise_y = rng.uniform(-radius, radius, count) * noise
        label = np.where(np.hypot(x + noise_x, y + noise_y) < radius * 0.5, 1, -1)
        parts.append((np.column_stack([x, y]), label))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def xor(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Four quadrants: +1 where x*y >= 0 (taken at the noisy position)."""
    rng = np.random.default_rng(seed)
    padding = 0.3
    x = rng.uniform(-5, 5, n)
    x += np.where(x > 0, padding, -padding)
    y = rng.uniform(-5, 5, n)
    y += np.where(y > 0, padding, -padding)
    noise_x = rng.uniform(-5, 5, n) * noise
    noise_y = rng.uniform(-5, 5, n) * noise
    label = np.where((x + noise_x) * (y + noise_y) >= 0, 1, -1)
    return np.column_stack([x, y]), label


def gauss(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs at (2, 2) (+1) and (-2, -2) (-1); noise widens them:
    the variance goes linearly from 0.5 (noise 0) to 4 (noise 0.5)."""
    rng = np.random.default_rng(seed)
    variance = 0.5 + (4.0 - 0.5) * (noise / 0.5)
    parts = []
    for count, (center, label) in zip(_halves(n), [(2.0, 1), (-2.0, -1)]):
        points = center + np.sqrt(variance) * rng.standard_normal((count, 2))
        parts.append((points, np.full(count, label)))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def spiral(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals, the second turned by pi; noise jitters the points."""
    rng = np.random.default_rng(seed)
    parts = []
    for count, (delta, label) in zip(_halves(n), [(0.0, 1), (np.pi, -1)]):
        i = np.arange(count)
        r = i / count * 5
        t = 1.75 * i / count * 2 * np.pi + delta
        x = r * np.sin(t) + rng.uniform(-1, 1, count) * noise
        y = r * np.cos(t) + rng.uniform(-1, 1, count) * noise
        parts.append((np.column_stack([x, y]), np.full(count, label)))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


PLAYGROUND: dict[str, Generator] = {"circle": circle, "xor": xor, "gauss": gauss, "spiral": spiral}
