"""The dataset catalogue: `dataset=<name>` -> a `Dataset` (features, target, task).

Every loader builds its data locally -- generated, bundled with a package, or
literal -- so that nothing is downloaded at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Optional

import numpy as np
import pandas as pd

from src.errors import DataError

REGRESSION, BINARY, MULTICLASS = "regression", "binary", "multiclass"


@dataclass(frozen=True)
class Dataset:
    """A supervised dataset before splitting.

    `y` holds floats for regression and class indices 0..K-1 for
    classification (`class_names[k]` is the original label of class k).
    """

    name: str
    task: str
    X: pd.DataFrame
    y: np.ndarray
    source: str
    class_names: Optional[list[str]] = None
    # Boolean mask of rows that form the dataset's own, predefined test split.
    test_mask: Optional[np.ndarray] = None

    @property
    def n_rows(self) -> int:
        return len(self.y)

    @property
    def feature_names(self) -> list[str]:
        return [str(c) for c in self.X.columns]

    @property
    def n_classes(self) -> int:
        return len(self.class_names) if self.class_names is not None else 0


def _frame(X: np.ndarray, prefix: str = "x") -> pd.DataFrame:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    names = [prefix] if X.shape[1] == 1 else [f"{prefix}{i + 1}" for i in range(X.shape[1])]
    return pd.DataFrame(X, columns=names)


def _encode_classes(y: Any) -> tuple[np.ndarray, list[str]]:
    labels, codes = np.unique(np.asarray(y), return_inverse=True)
    return codes.astype(np.int64), [str(label) for label in labels]


def make_dataset(name: str, task: str, X: Any, y: Any, source: str, **kwargs: Any) -> Dataset:
    """Wrap raw arrays, encoding class labels and checking them against the task."""
    frame = X if isinstance(X, pd.DataFrame) else _frame(X)
    if task == REGRESSION:
        return Dataset(name, task, frame, np.asarray(y, dtype=np.float64), source, **kwargs)
    codes, class_names = _encode_classes(y)
    if task == BINARY and len(class_names) != 2:
        raise DataError(f"dataset '{name}' is declared binary but its target has {len(class_names)} classes")
    if len(class_names) < 2:
        raise DataError(f"dataset '{name}': the target has a single class ({class_names[0]}); nothing to classify")
    return Dataset(name, task, frame, codes, source, class_names=class_names, **kwargs)


# --------------------------------------------------------------------------- loaders


def _workshop_regression(cfg: Any) -> Dataset:
    from sklearn.datasets import make_regression

    X, y = make_regression(
        n_samples=cfg.n_samples or 100,
        n_features=cfg.n_features or 1,
        noise=5.5 if cfg.noise is None else cfg.noise,
        bias=0.5 if cfg.bias is None else cfg.bias,
        random_state=42 if cfg.random_state is None else cfg.random_state,
    )
    return make_dataset(cfg.name, REGRESSION, X, y, "sklearn.datasets.make_regression")


def _workshop_circles(cfg: Any) -> Dataset:
    from sklearn.datasets import make_circles

    X, y = make_circles(
        n_samples=cfg.n_samples or 100,
        factor=0.5 if cfg.factor is None else cfg.factor,
        noise=cfg.noise,
        random_state=cfg.random_state,
    )
    return make_dataset(cfg.name, BINARY, X, y, "sklearn.datasets.make_circles")


def _seed_table(cfg: Any) -> Dataset:
    from src.data.seed_tables import SEED_TABLES

    table, target = SEED_TABLES[cfg.name]
    X = table.drop(columns=[target]).astype(np.float64)
    return make_dataset(cfg.name, REGRESSION, X, table[target], "workshop slides (shared/seed)")


def _digits(cfg: Any) -> Dataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    X = pd.DataFrame(bunch.data, columns=[f"pixel_{i}" for i in range(bunch.data.shape[1])])
    return make_dataset(cfg.name, MULTICLASS, X, bunch.target, "sklearn.datasets.load_digits")


@lru_cache(maxsize=4)
def _mnist1d_arrays(n_samples: Optional[int], seed: Optional[int]) -> dict[str, np.ndarray]:
    try:
        from mnist1d.data import get_dataset_args, make_dataset as make_mnist1d
    except ImportError as exc:  # optional at run time, required by pyproject
        raise DataError("dataset 'mnist1d' needs the 'mnist1d' package: pip install mnist1d") from exc

    args = get_dataset_args()
    if n_samples is not None:
        args.num_samples = n_samples
    if seed is not None:
        args.seed = seed
    return make_mnist1d(args)


def _mnist1d(cfg: Any) -> Dataset:
    data = _mnist1d_arrays(cfg.n_samples, cfg.random_state)
    X = np.concatenate([data["x"], data["x_test"]])
    y = np.concatenate([data["y"], data["y_test"]])
    test_mask = np.zeros(len(y), dtype=bool)
    test_mask[len(data["y"]) :] = True
    return make_dataset(
        cfg.name, MULTICLASS, _frame(X, prefix="t"), y, "mnist1d.data.make_dataset", test_mask=test_mask
    )


LOADERS: dict[str, Callable[[Any], Dataset]] = {
    "workshop_regression": _workshop_regression,
    "workshop_circles": _workshop_circles,
    "seed_table1": _seed_table,
    "seed_table2": _seed_table,
    "seed_noisy_table": _seed_table,
    "seed_study_hours": _seed_table,
    "digits": _digits,
    "mnist1d": _mnist1d,
}


def load_dataset(cfg: Any) -> Dataset:
    """Load the dataset a `DatasetConfig` names and check its declared task."""
    try:
        loader = LOADERS[cfg.name]
    except KeyError:
        raise DataError(f"unknown dataset '{cfg.name}'; known: {', '.join(sorted(LOADERS))}") from None
    dataset = loader(cfg)
    declared = str(getattr(cfg.task, "value", cfg.task))
    if declared != "auto" and declared != dataset.task:
        raise DataError(f"dataset '{cfg.name}' is declared {declared} but its target is {dataset.task}")
    return dataset
