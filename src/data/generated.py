"""Generated datasets: drawn locally by a seeded generator, never downloaded.

Each loader reads the fields of its own schema (src/config/dataset.py), named
for what they are: `noise_std`, `cluster_std`, `label_noise`, `noise_level`.
The same fields always give the same rows.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Optional

import numpy as np

from src.data.build import feature_frame, make_dataset
from src.data.generators import PLAYGROUND
from src.data.types import Dataset, Task
from src.errors import DataError

if TYPE_CHECKING:
    from src.config.dataset import DatasetConfig


def _n_samples(cfg: DatasetConfig) -> int:
    n = int(cfg.n_samples)
    if n < 2:
        raise DataError(f"dataset '{cfg.name}': dataset.n_samples={n}; generate at least 2 rows")
    return n


def _task_of(n_classes: int) -> Task:
    return Task.binary if n_classes == 2 else Task.multiclass


# --------------------------------------------------------------------------- the workshop


def workshop_regression(cfg: DatasetConfig) -> Dataset:
    from sklearn.datasets import make_regression

    X, y = make_regression(
        n_samples=_n_samples(cfg),
        n_features=cfg.n_features,
        noise=cfg.noise_std,
        bias=cfg.bias,
        random_state=cfg.random_state,
    )
    return make_dataset(cfg.name, Task.regression, X, y, "sklearn.datasets.make_regression")


def workshop_circles(cfg: DatasetConfig) -> Dataset:
    from sklearn.datasets import make_circles

    X, y = make_circles(
        n_samples=_n_samples(cfg), factor=cfg.factor, noise=cfg.noise_std, random_state=cfg.random_state
    )
    return make_dataset(cfg.name, Task.binary, X, y, "sklearn.datasets.make_circles")


# --------------------------------------------------------------------------- the TensorFlow Playground


def playground(cfg: DatasetConfig) -> Dataset:
    kind = cfg.name.removeprefix("playground_")
    X, y = PLAYGROUND[kind](_n_samples(cfg), float(cfg.noise_level), cfg.random_state)
    return make_dataset(cfg.name, Task.binary, X, y, f"TensorFlow Playground '{kind}' generator (ported)")


# --------------------------------------------------------------------------- sklearn.datasets.make_*


def moons(cfg: DatasetConfig) -> Dataset:
    from sklearn.datasets import make_moons

    X, y = make_moons(
        n_samples=_n_samples(cfg), noise=cfg.noise_std, shuffle=cfg.shuffle, random_state=cfg.random_state
    )
    return make_dataset(cfg.name, Task.binary, X, y, "sklearn.datasets.make_moons")


def blobs(cfg: DatasetConfig) -> Dataset:
    from sklearn.datasets import make_blobs

    X, y = make_blobs(
        n_samples=_n_samples(cfg),
        n_features=cfg.n_features,
        centers=cfg.n_classes,
        cluster_std=cfg.cluster_std,
        shuffle=cfg.shuffle,
        random_state=cfg.random_state,
    )
    return make_dataset(cfg.name, _task_of(cfg.n_classes), X, y, "sklearn.datasets.make_blobs")


def classification(cfg: DatasetConfig) -> Dataset:
    from sklearn.datasets import make_classification

    n_features, n_classes = cfg.n_features, cfg.n_classes
    n_informative = max(2, min(n_features, n_features // 2))
    if n_classes * 2 > 2**n_informative:
        raise DataError(
            f"dataset 'classification': {n_classes} classes need more informative features "
            f"than dataset.n_features={n_features} gives; raise dataset.n_features"
        )
    X, y = make_classification(
        n_samples=_n_samples(cfg),
        n_features=n_features,
        n_informative=n_informative,
        n_redundant=min(2, n_features - n_informative),
        n_classes=n_classes,
        flip_y=cfg.label_noise,
        shuffle=cfg.shuffle,
        random_state=cfg.random_state,
    )
    return make_dataset(cfg.name, _task_of(n_classes), X, y, "sklearn.datasets.make_classification")


def regression(cfg: DatasetConfig) -> Dataset:
    from sklearn.datasets import make_regression

    X, y = make_regression(
        n_samples=_n_samples(cfg),
        n_features=cfg.n_features,
        n_informative=max(1, cfg.n_features // 2),
        noise=cfg.noise_std,
        bias=cfg.bias,
        shuffle=cfg.shuffle,
        random_state=cfg.random_state,
    )
    return make_dataset(cfg.name, Task.regression, X, y, "sklearn.datasets.make_regression")


def friedman1(cfg: DatasetConfig) -> Dataset:
    from sklearn.datasets import make_friedman1

    if cfg.n_features < 5:
        raise DataError(f"dataset 'friedman1' needs dataset.n_features >= 5, got {cfg.n_features}")
    X, y = make_friedman1(
        n_samples=_n_samples(cfg), n_features=cfg.n_features, noise=cfg.noise_std, random_state=cfg.random_state
    )
    return make_dataset(cfg.name, Task.regression, X, y, "sklearn.datasets.make_friedman1")


# --------------------------------------------------------------------------- mnist1d


@lru_cache(maxsize=4)
def mnist1d_arrays(n_samples: Optional[int], seed: Optional[int]) -> dict[str, np.ndarray]:
    """The mnist1d package's arrays (x, y, x_test, y_test, ...); None: its default."""
    try:
        from mnist1d.data import get_dataset_args
        from mnist1d.data import make_dataset as make_mnist1d
    except ImportError as exc:  # optional at run time, required by pyproject
        raise DataError("dataset 'mnist1d' needs the 'mnist1d' package: pip install mnist1d") from exc

    args = get_dataset_args()
    if n_samples is not None:
        args.num_samples = n_samples  # the package splits it 80 / 20 into train / test
    if seed is not None:
        args.seed = seed
    return make_mnist1d(args)


def mnist1d(cfg: DatasetConfig) -> Dataset:
    if cfg.n_samples is not None and cfg.n_samples < 10:
        raise DataError(f"dataset 'mnist1d': dataset.n_samples={cfg.n_samples}; generate at least 10 rows")
    data = mnist1d_arrays(cfg.n_samples, cfg.random_state)
    X = np.concatenate([data["x"], data["x_test"]])
    y = np.concatenate([data["y"], data["y_test"]])
    test_mask = np.zeros(len(y), dtype=bool)
    test_mask[len(data["y"]) :] = True
    return make_dataset(
        cfg.name, Task.multiclass, feature_frame(X, prefix="t"), y, "mnist1d.data.make_dataset", test_mask=test_mask
    )
