"""Deterministic train / validation / test splits, shared by every model family.

The split depends only on the dataset, the seed and the split sizes -- never
on the model -- so a classical and a deep run with the same seed see the same
rows. `split_digest` fingerprints the test rows so that this can be checked
from MLflow.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Optional

import numpy as np

from src.data.types import Dataset, Task
from src.errors import DataError


@dataclass(frozen=True)
class Split:
    train: np.ndarray  # row indices into the dataset
    val: np.ndarray
    test: np.ndarray
    fit_only: bool = False

    @property
    def digest(self) -> str:
        return split_digest(self.test)


def split_digest(test_rows: np.ndarray) -> str:
    """A short, order-independent fingerprint of the test rows."""
    rows = np.sort(np.asarray(test_rows, dtype=np.int64))
    return hashlib.sha256(rows.tobytes()).hexdigest()[:16]


def _count(size: float, n: int, what: str) -> int:
    """A fraction in (0, 1] of n rows (1 = all of them), or an absolute count > 1."""
    if size < 0:
        raise DataError(f"{what} must be >= 0, got {size}")
    if size == 0:
        return 0
    if size <= 1:
        return max(1, int(round(size * n)))
    if size != int(size):
        raise DataError(f"{what}={size}: use a fraction in (0, 1] or a whole number of rows")
    return int(size)


def stratified_order(rows: np.ndarray, labels: Optional[np.ndarray], seed: int) -> np.ndarray:
    """Order rows so that every prefix is a (nearly) stratified random sample.

    Each class is shuffled, and its k-th member gets the key (k + 0.5) / n_class;
    sorting by key interleaves the classes in proportion. Taking the first m
    rows therefore gives nested, stratified subsets for every m.
    """
    rng = np.random.default_rng(seed)
    rows = np.asarray(rows)
    if labels is None:
        return rows[rng.permutation(len(rows))]
    keys = np.empty(len(rows))
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        members = members[rng.permutation(len(members))]
        keys[members] = (np.arange(len(members)) + 0.5) / len(members)
    # Random tie-breaking between classes with equal keys.
    order = np.lexsort((rng.random(len(rows)), keys))
    return rows[order]


def _take(order: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.sort(order[:k]), order[k:]


def make_split(
    dataset: Dataset,
    seed: int,
    test_size: float,
    val_size: float,
    fit_only: bool = False,
    train_size: Optional[float] = None,
) -> Split:
    """Split rows into train / val / test, stratified for classification.

    The test split is drawn first, then validation from what is left; both are
    independent of `train_size`, which only subsamples the remaining pool
    (nested: a smaller subset is contained in every larger one).
    """
    n = dataset.n_rows
    all_rows = np.arange(n)
    if fit_only:
        return Split(train=all_rows, val=all_rows[:0], test=all_rows[:0], fit_only=True)

    labels = None if dataset.task == Task.regression else dataset.y
    if dataset.test_mask is not None:
        test = np.flatnonzero(dataset.test_mask)
        rest = np.flatnonzero(~dataset.test_mask)
    else:
        n_test = _count(test_size, n, "dataset.test_size")
        if n_test >= n:
            raise DataError(
                f"{dataset.label}: {n} rows, fewer than the split needs: a test split of {n_test} "
                "leaves nothing to train on; lower dataset.test_size or use a bigger table"
            )
        test, rest = _take(stratified_order(all_rows, labels, seed), n_test)

    rest_labels = None if labels is None else labels[rest]
    n_val = _count(val_size, len(rest), "dataset.val_size")
    order = stratified_order(rest, rest_labels, seed + 1)
    val, pool = _take(order, n_val)
    pool_order = order[n_val:]  # stratified order kept, so train_size prefixes nest
    if len(pool) == 0:
        raise DataError(
            f"{dataset.label}: {n} rows, fewer than the split needs: nothing left to train on after "
            f"{len(test)} test and {len(val)} validation rows; lower dataset.test_size / dataset.val_size"
        )

    if train_size is None:
        train = np.sort(pool_order)
    else:
        k = _count(train_size, len(pool_order), "dataset.train_size")
        if k > len(pool_order):
            raise DataError(
                f"{dataset.label}: dataset.train_size={train_size:g} exceeds the training pool of "
                f"{len(pool_order)} rows"
            )
        train = np.sort(pool_order[:k])
    if labels is not None:
        _check_classes(dataset, train, test)
    return Split(train=train, val=val, test=test)


def _check_classes(dataset: Dataset, train: np.ndarray, test: np.ndarray) -> None:
    if len(test) and dataset.n_classes > len(test):
        raise DataError(
            f"{dataset.label}: the target has {dataset.n_classes} classes but the test split only "
            f"{len(test)} rows; raise dataset.test_size or use a bigger table"
        )
    if len(np.unique(dataset.y[train])) < 2:
        raise DataError(f"{dataset.label}: the training split holds a single class; use more rows or another seed")
