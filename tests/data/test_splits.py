"""The shared split: deterministic, stratified, nested across training sizes."""

import numpy as np
import pytest

from src.data import load_dataset, make_split, prepare
from src.errors import DataError
from tests.conftest import make_config


def _digits():
    return load_dataset(make_config("dataset=digits").dataset)


def test_split_is_deterministic_and_disjoint():
    data = _digits()
    a = make_split(data, seed=3, test_size=0.2, val_size=0.1)
    b = make_split(data, seed=3, test_size=0.2, val_size=0.1)
    assert a.digest == b.digest and np.array_equal(a.train, b.train)
    rows = np.concatenate([a.train, a.val, a.test])
    assert len(rows) == len(set(rows)) == data.n_rows
    assert make_split(data, seed=4, test_size=0.2, val_size=0.1).digest != a.digest


def test_split_is_stratified():
    data = _digits()
    split = make_split(data, seed=0, test_size=0.2, val_size=0.1)
    overall = np.bincount(data.y) / data.n_rows
    in_test = np.bincount(data.y[split.test], minlength=10) / len(split.test)
    assert np.abs(in_test - overall).max() < 0.02


def test_train_size_subsets_are_nested_and_leave_val_and_test_alone():
    data = _digits()
    full = make_split(data, seed=1, test_size=0.2, val_size=0.1)
    previous = set()
    for size in (16, 64, 256, 0.5, 1.0):
        split = make_split(data, seed=1, test_size=0.2, val_size=0.1, train_size=size)
        assert split.digest == full.digest and np.array_equal(split.val, full.val)
        assert previous <= set(split.train)
        previous = set(split.train)
    assert len(previous) == len(full.train)


def test_train_size_larger_than_the_pool_fails_clearly():
    with pytest.raises(DataError, match="exceeds the training pool"):
        make_split(_digits(), seed=0, test_size=0.2, val_size=0.1, train_size=100000)


def test_mnist1d_keeps_its_own_4000_1000_split():
    data = load_dataset(make_config("dataset=mnist1d").dataset)
    split = make_split(data, seed=0, test_size=0.2, val_size=0.1)
    assert len(split.test) == 1000 and len(split.train) + len(split.val) == 4000


def test_preprocessing_statistics_come_from_the_training_rows_only():
    data = _digits()
    split = make_split(data, seed=0, test_size=0.2, val_size=0.1)
    prepared = prepare(data, split, standardize=True)
    scaler = prepared.preprocessor.named_transformers_["numeric"].named_steps["scale"]
    assert np.allclose(scaler.mean_, data.X.iloc[split.train].mean().to_numpy())
    assert not np.allclose(scaler.mean_, data.X.mean().to_numpy())
