"""Cross-validated repeats (dataset.cv_folds) and the selection split (dataset.select_size)."""

import numpy as np
import pandas as pd
import pytest

from src.data.splits import check_split_settings, make_split
from src.data.types import Dataset, Task
from src.errors import DataError


def _dataset(n=200, classes=2, test_mask=None) -> Dataset:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = np.arange(n) % classes
    task = Task.binary if classes == 2 else Task.multiclass
    return Dataset("toy", task, X, y, "test", test_mask=test_mask)


def test_the_folds_of_one_repeat_test_every_row_once_and_a_second_repeat_reshuffles():
    data = _dataset()
    folds = [make_split(data, seed, 0.2, 0.1, cv_folds=5, select_size=0.2) for seed in range(10)]
    first = np.concatenate([f.test for f in folds[:5]])
    assert sorted(first) == list(range(200))  # a partition: each row tested exactly once
    assert sorted(np.concatenate([f.test for f in folds[5:]])) == list(range(200))
    assert not np.array_equal(folds[0].test, folds[5].test)  # repeat 1 is a new shuffle
    assert [(f.fold, f.repeat, f.scheme) for f in folds[:2]] == [(0, 0, "cv"), (1, 0, "cv")]
    assert (folds[7].fold, folds[7].repeat) == (2, 1)
    for f in folds:  # stratified: each test fold holds both classes equally
        assert len(f.test) == 40 and np.bincount(data.y[f.test]).tolist() == [20, 20]


@pytest.mark.parametrize("train_size", [None, 0.25, 16])
def test_test_selection_validation_and_training_rows_never_overlap(train_size):
    data = _dataset()
    for seed in range(5):
        split = make_split(data, seed, 0.2, 0.1, train_size=train_size, cv_folds=5, select_size=0.2)
        parts = [split.train, split.val, split.select, split.test]
        together = np.concatenate(parts)
        assert len(np.unique(together)) == len(together), "a row sits in two splits"
        assert len(split.select) == 32 and len(split.val) == 16  # 20% and 10% of the 160 rows outside the fold


def test_the_selection_and_validation_rows_do_not_depend_on_the_training_size():
    data = _dataset()
    small = make_split(data, 3, 0.2, 0.1, train_size=16, cv_folds=5, select_size=0.2)
    full = make_split(data, 3, 0.2, 0.1, cv_folds=5, select_size=0.2)
    assert np.array_equal(small.select, full.select) and np.array_equal(small.val, full.val)
    assert set(small.train) <= set(full.train)  # nested


def test_a_fixed_test_set_stays_fixed_across_seeds():
    mask = np.zeros(200, dtype=bool)
    mask[150:] = True
    data = _dataset(test_mask=mask)
    a, b = (make_split(data, seed, 0.2, 0.1, cv_folds=5, select_size=0.2) for seed in (0, 1))
    assert a.scheme == "fixed" and np.array_equal(a.test, np.arange(150, 200)) and np.array_equal(a.test, b.test)
    assert not np.array_equal(a.train, b.train)


def test_without_cv_folds_and_selection_the_split_is_what_it_was():
    data = _dataset()
    split = make_split(data, 4, 0.2, 0.1)
    assert split.scheme == "random" and len(split.select) == 0 and len(split.test) == 40


@pytest.mark.parametrize(
    "folds, select, message",
    [(1, 0.2, "cv_folds=1"), (2.5, 0.2, "cv_folds=2.5"), (5, 1.0, "select_size=1.0"), (5, -0.1, "select_size=-0.1")],
)
def test_bad_settings_are_refused_before_any_data_loads(folds, select, message):
    with pytest.raises(DataError, match=message.replace(".", r"\.")):
        check_split_settings(folds, select)


def test_more_folds_than_rows_is_refused():
    with pytest.raises(DataError, match="exceeds the table's 6 rows"):
        make_split(_dataset(n=6), 0, 0.2, 0.1, cv_folds=10)


def test_every_fold_has_the_same_split_sizes_even_when_the_rows_do_not_divide():
    data = _dataset(n=203)  # 5 folds of 41 or 40 rows
    folds = [make_split(data, seed, 0.2, 0.1, cv_folds=5, select_size=0.2) for seed in range(5)]
    assert sorted({len(f.test) for f in folds}) == [40, 41]
    assert len({(len(f.train), len(f.val), len(f.select)) for f in folds}) == 1
    assert len(folds[0].train) == 203 - 41 - 32 - 16  # sized on the largest fold: 162 rows outside it
