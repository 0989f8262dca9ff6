"""dataset.scaling: standard, robust, quantile or none, fitted on the training rows only."""

import numpy as np
import pandas as pd
import pytest

from src.data import make_split, prepare
from src.data.preprocessing import PreprocessOptions
from src.data.types import Dataset
from src.errors import ConfigError
from tests.conftest import make_spec


def _skewed():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.lognormal(0, 1, 300), "b": rng.normal(5, 2, 300)})
    return Dataset("toy", "binary", X, rng.integers(0, 2, 300), "test", class_names=["0", "1"])


def _prepared(scaling, standardize=True):
    data = _skewed()
    split = make_split(data, seed=0, test_size=0.2, val_size=0.1)
    cfg = make_spec("dataset=iris", f"dataset.scaling={scaling}", f"dataset.standardize={standardize}").dataset
    return data, split, prepare(data, split, standardize=standardize, options=PreprocessOptions.from_config(cfg))


def _scaler(prepared):
    return prepared.preprocessor.named_transformers_["numeric"].named_steps["scale"]


def test_robust_scaling_uses_the_training_median_and_quartiles():
    data, split, prepared = _prepared("robust")
    train = data.X.iloc[split.train]
    assert np.allclose(_scaler(prepared).center_, train.median().to_numpy())
    assert not np.allclose(_scaler(prepared).center_, data.X.median().to_numpy())
    iqr = train.quantile(0.75) - train.quantile(0.25)
    expected = (data.X.iloc[split.test] - train.median()) / iqr
    np.testing.assert_allclose(prepared.X_test, expected.to_numpy(), rtol=1e-5, atol=1e-5)


def test_quantile_scaling_maps_the_training_rows_to_a_normal_and_others_through_them():
    data, split, prepared = _prepared("quantile")
    assert abs(np.median(prepared.X_train, axis=0)).max() < 0.05
    assert _scaler(prepared).n_quantiles_ == len(split.train)  # the grid comes from the training rows
    train_a = np.sort(data.X.iloc[split.train]["a"].to_numpy())
    test_a = data.X.iloc[split.test]["a"].to_numpy()
    # A test value's rank among the training values fixes where it lands.
    order = np.argsort(test_a)
    assert np.all(np.diff(prepared.X_test[order, 0]) >= 0)
    assert (prepared.X_test[:, 0] < -5).sum() == (test_a < train_a[0]).sum()


def test_no_scaling_and_standardize_false_leave_the_features_as_they_are():
    data, split, prepared = _prepared("none")
    np.testing.assert_allclose(prepared.X_test, data.X.iloc[split.test].to_numpy(), rtol=1e-6)
    data, split, prepared = _prepared("standard", standardize=False)
    np.testing.assert_allclose(prepared.X_test, data.X.iloc[split.test].to_numpy(), rtol=1e-6)
    with pytest.raises(ConfigError, match="standardize=false"):
        _prepared("robust", standardize=False)
