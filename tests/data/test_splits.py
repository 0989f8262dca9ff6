"""The shared split: deterministic, stratified, nested across training sizes."""

import numpy as np
import pytest

from src.data import load_dataset, make_split, prepare
from src.errors import DataError
from tests.conftest import make_spec


def _digits():
    return load_dataset(make_spec("dataset=digits").dataset)


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
    data = load_dataset(make_spec("dataset=mnist1d").dataset)
    split = make_split(data, seed=0, test_size=0.2, val_size=0.1)
    assert len(split.test) == 1000 and len(split.train) + len(split.val) == 4000


def test_preprocessing_statistics_come_from_the_training_rows_only():
    data = _digits()
    split = make_split(data, seed=0, test_size=0.2, val_size=0.1)
    prepared = prepare(data, split, standardize=True)
    scaler = prepared.preprocessor.named_transformers_["numeric"].named_steps["scale"]
    assert np.allclose(scaler.mean_, data.X.iloc[split.train].mean().to_numpy())
    assert not np.allclose(scaler.mean_, data.X.mean().to_numpy())


def test_imputer_and_one_hot_statistics_come_from_the_training_rows_only():
    import pandas as pd

    from src.data.types import Dataset

    rng = np.random.default_rng(0)
    n = 200
    X = pd.DataFrame(
        {
            "size": rng.normal(0, 1, n),
            "city": rng.choice(["paris", "lyon"], n).astype(object),
        }
    )
    y = rng.integers(0, 2, n)
    data = Dataset("toy", "binary", X, y, "test", class_names=["0", "1"], categorical=("city",))
    split = make_split(data, seed=0, test_size=0.2, val_size=0.1)
    held_out = np.concatenate([split.val, split.test])
    # Values and a category that exist only outside the training rows, and missing cells.
    X.loc[held_out, "size"] = 1000.0
    X.loc[held_out, "city"] = "atlantis"
    X.loc[split.train[:20], "size"] = np.nan
    X.loc[split.train[20:30], "city"] = np.nan

    prepared = prepare(data, split, standardize=True)
    numeric = prepared.preprocessor.named_transformers_["numeric"]
    categorical = prepared.preprocessor.named_transformers_["categorical"]
    train_sizes = X.loc[split.train, "size"]
    assert numeric.named_steps["impute"].statistics_[0] == pytest.approx(train_sizes.median())
    filled = train_sizes.fillna(train_sizes.median())
    assert numeric.named_steps["scale"].mean_[0] == pytest.approx(filled.mean())
    train_cities = X.loc[split.train, "city"]
    assert categorical.named_steps["impute"].statistics_[0] == train_cities.mode()[0]
    assert list(categorical.named_steps["encode"].categories_[0]) == ["lyon", "paris"]  # no 'atlantis'
    assert prepared.feature_names == ["size", "city_lyon", "city_paris"]
    assert (prepared.X_test[:, 1:] == 0).all()  # the unseen category encodes as all zeros
    assert prepared.n_imputed_cells == 30
