"""Deterministic train / validation / selection / test splits, shared by every model family.

The split depends only on the dataset, the seed and the split settings -- never
on the model -- so a classical and a deep run with the same seed see the same
rows. `split_digest` fingerprints the test rows so that this can be checked
from MLflow.

Three schemes draw the test rows (`Split.scheme`):
- `cv`: with `dataset.cv_folds = k`, seed j is fold j mod k of the (stratified)
  k-fold partition of repeat j // k, so seeds 0..k-1 test every row once, and
  seeds k..2k-1 do it again on a new shuffle (repeated k-fold, TabArena style);
- `fixed`: a dataset with its own test set (MNIST-1D) keeps it for every seed;
  the seed then only redraws the rows below;
- `random`: a stratified random test split of `dataset.test_size` per seed.

From the rows outside the test set come, in this order, the selection split
(`dataset.select_size`: scored only, never trained on and never watched by early
stopping: what the report picks each side's best model on), the validation split
(`dataset.val_size`: early stopping and best-epoch choice) and the training pool,
which `dataset.train_size` subsamples (nested: a smaller subset lies in every
larger one). None of them depends on `train_size`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from src.data.types import Dataset, Task
from src.errors import DataError

CV, FIXED, RANDOM, FIT_ONLY = "cv", "fixed", "random", "fit_only"


@dataclass(frozen=True)
class Split:
    train: np.ndarray  # row indices into the dataset
    val: np.ndarray  # early stopping and best-epoch choice
    test: np.ndarray
    fit_only: bool = False
    select: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # model selection only
    scheme: str = RANDOM  # how the test rows were drawn: cv, fixed, random (or fit_only)
    fold: Optional[int] = None  # cv: the test fold and the repeat of the k-fold partition
    repeat: Optional[int] = None

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


def check_split_settings(cv_folds: Optional[int], select_size: float) -> None:
    """The cross-validation and selection settings, before any data is loaded."""
    if cv_folds is not None and (cv_folds != int(cv_folds) or cv_folds < 2):
        raise DataError(f"dataset.cv_folds={cv_folds}: use a whole number of folds >= 2, or null for a random split")
    if not 0 <= select_size < 1 and not (select_size > 1 and select_size == int(select_size)):
        raise DataError(
            f"dataset.select_size={select_size}: use a fraction in [0, 1) of the rows outside the test set, "
            "or a whole number of rows"
        )


def cv_test_fold(all_rows: np.ndarray, labels: Optional[np.ndarray], folds: int, seed: int) -> np.ndarray:
    """Fold `seed mod folds` of repeat `seed // folds` of a shuffled (stratified) k-fold partition."""
    import warnings

    from sklearn.model_selection import KFold, StratifiedKFold

    repeat, fold = divmod(seed, folds)
    if labels is None:
        splitter = KFold(folds, shuffle=True, random_state=repeat)
    else:
        splitter = StratifiedKFold(folds, shuffle=True, random_state=repeat)
    with warnings.catch_warnings():  # a class rarer than the folds: sklearn warns, the folds stay valid
        warnings.simplefilter("ignore", UserWarning)
        _, test = list(splitter.split(all_rows, labels if labels is not None else None))[fold]
    return np.sort(all_rows[test])


def make_split(
    dataset: Dataset,
    seed: int,
    test_size: float,
    val_size: float,
    fit_only: bool = False,
    train_size: Optional[float] = None,
    cv_folds: Optional[int] = None,
    select_size: float = 0.0,
) -> Split:
    """Split rows into train / val / select / test, stratified for classification (module doc)."""
    n = dataset.n_rows
    all_rows = np.arange(n)
    if fit_only:
        return Split(train=all_rows, val=all_rows[:0], test=all_rows[:0], fit_only=True, scheme=FIT_ONLY)

    labels = None if dataset.task == Task.regression else dataset.y
    fold = repeat = None
    if dataset.test_mask is not None:
        scheme, test, rest = FIXED, np.flatnonzero(dataset.test_mask), np.flatnonzero(~dataset.test_mask)
    elif cv_folds is not None:
        if cv_folds > n:
            raise DataError(f"{dataset.label}: dataset.cv_folds={cv_folds} exceeds the table's {n} rows")
        scheme, test = CV, cv_test_fold(all_rows, labels, int(cv_folds), seed)
        rest = np.setdiff1d(all_rows, test, assume_unique=True)
        repeat, fold = divmod(seed, int(cv_folds))
    else:
        n_test = _count(test_size, n, "dataset.test_size")
        if n_test >= n:
            raise DataError(
                f"{dataset.label}: {n} rows, fewer than the split needs: a test split of {n_test} "
                "leaves nothing to train on; lower dataset.test_size or use a bigger table"
            )
        scheme, (test, rest) = RANDOM, _take(stratified_order(all_rows, labels, seed), n_test)

    rest_labels = None if labels is None else labels[rest]
    order = stratified_order(rest, rest_labels, seed + 1)
    # k folds of n rows differ by a row at most; sized on the largest test fold, every fold's
    # selection, validation and training splits have the same counts (so its seeds pair and stack).
    n_rest = n - -(-n // int(cv_folds)) if scheme == CV else len(rest)
    n_select = _count(select_size, n_rest, "dataset.select_size")
    n_val = _count(val_size, n_rest, "dataset.val_size")
    # The selection rows first, then validation; both fixed whatever train_size is.
    select, order = _take(order, n_select)
    val, pool_order = _take(order, n_val)  # pool_order keeps its stratified order, so train_size prefixes nest
    pool_order = pool_order[: max(0, n_rest - n_select - n_val)]
    if len(pool_order) == 0:
        raise DataError(
            f"{dataset.label}: {n} rows, fewer than the split needs: nothing left to train on after "
            f"{len(test)} test, {len(select)} selection and {len(val)} validation rows; lower "
            "dataset.test_size / dataset.select_size / dataset.val_size"
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
    return Split(train=train, val=val, test=test, select=select, scheme=scheme, fold=fold, repeat=repeat)


def _check_classes(dataset: Dataset, train: np.ndarray, test: np.ndarray) -> None:
    if len(test) and dataset.n_classes > len(test):
        raise DataError(
            f"{dataset.label}: the target has {dataset.n_classes} classes but the test split only "
            f"{len(test)} rows; raise dataset.test_size or use a bigger table"
        )
    if len(np.unique(dataset.y[train])) < 2:
        raise DataError(f"{dataset.label}: the training split holds a single class; use more rows or another seed")
