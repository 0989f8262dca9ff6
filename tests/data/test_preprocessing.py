"""The shared preprocessing's categorical encodings: one-hot, ordinal, and the
integer codes a model that takes categories natively gets, all fitted on the
training rows only, with the same numeric columns whatever the encoding."""

import numpy as np
import pandas as pd
import pytest

from src.data import make_split, prepare
from src.data.preprocessing import PreprocessOptions
from src.data.types import Dataset

COLOURS = np.array(["red", "green", "blue", "amber", "violet"])


def _table(n: int = 300) -> Dataset:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(3, 2, n), "colour": rng.choice(COLOURS, n).astype(object)})
    X.loc[rng.choice(n, 10, replace=False), "colour"] = np.nan  # imputed (most frequent training category)
    y = rng.integers(0, 2, n)
    return Dataset("toy", "binary", X, y, "test", class_names=["0", "1"], categorical=("colour",))


def _native(data: Dataset, split, **options):
    return prepare(data, split, standardize=True, options=PreprocessOptions(**options).for_model(True))


def test_native_encoding_gives_one_code_column_per_categorical_at_known_indices():
    data = _table()
    split = make_split(data, seed=0, test_size=0.2, val_size=0.1)
    native = _native(data, split)
    onehot = prepare(data, split, standardize=True)
    assert native.categorical_encoding == "native" and onehot.categorical_encoding == "onehot"
    assert native.n_features == 2 and native.categorical_features == (1,)
    assert onehot.categorical_features == () and onehot.n_features == 1 + len(COLOURS)
    # The codes are the training categories in sorted order, imputed as the one-hot path imputes.
    imputed = data.X["colour"].fillna(data.X["colour"].iloc[split.train].mode()[0])
    expected = np.searchsorted(np.sort(COLOURS), imputed.to_numpy(dtype=str))
    np.testing.assert_array_equal(native.X_train[:, 1], expected[split.train])
    np.testing.assert_array_equal(native.X_test[:, 1], expected[split.test])
    # Only the categorical encoding differs: the numeric column is the same.
    for part in ("X_train", "X_val", "X_test"):
        np.testing.assert_array_equal(getattr(native, part)[:, 0], getattr(onehot, part)[:, 0], err_msg=part)


def test_a_category_seen_only_outside_the_training_rows_is_missing_not_a_training_code():
    data = _table()
    split = make_split(data, seed=0, test_size=0.2, val_size=0.1)
    data.X.loc[data.X.index[split.test[:5]], "colour"] = "never_in_training"
    native = _native(data, split)
    assert np.isnan(native.X_test[:5, 1]).all()
    assert not np.isnan(native.X_test[5:, 1]).any() and not np.isnan(native.X_train).any()
    ordinal = prepare(data, split, standardize=True, options=PreprocessOptions(categorical_encoding="ordinal"))
    assert (ordinal.X_test[:5, 1] == -1).all() and ordinal.categorical_encoding == "ordinal"


def test_native_codes_are_fitted_on_the_training_rows_only():
    data = _table()
    split = make_split(data, seed=0, test_size=0.2, val_size=0.1)
    data.X.loc[data.X.index[split.test], "colour"] = "aaa_test_only"  # would sort first, shifting every code
    native = _native(data, split)
    encoder = native.preprocessor.named_transformers_["categorical"].named_steps["encode"]
    assert "aaa_test_only" not in encoder.categories_[0]
    assert np.nanmin(native.X_train[:, 1]) == 0  # amber, the first training category


def test_max_categories_caps_the_native_codes():
    data = _table()
    split = make_split(data, seed=0, test_size=0.2, val_size=0.1)
    native = _native(data, split, max_categories=3)
    assert set(np.unique(native.X_train[:, 1])) == {0.0, 1.0, 2.0}


def test_a_table_without_categorical_columns_records_no_encoding():
    rng = np.random.default_rng(0)
    data = Dataset("toy", "binary", pd.DataFrame({"x": rng.normal(size=50)}), rng.integers(0, 2, 50), "test")
    split = make_split(data, seed=0, test_size=0.2, val_size=0.1)
    native = _native(data, split)
    assert native.categorical_encoding is None and native.categorical_features == ()


@pytest.mark.parametrize("native", [True, False])
def test_for_model_switches_only_the_categorical_encoding(native):
    options = PreprocessOptions(categorical_encoding="ordinal", scaling="robust", max_categories=7)
    chosen = options.for_model(native)
    assert chosen.categorical_encoding == ("native" if native else "ordinal")
    assert (chosen.scaling, chosen.max_categories) == ("robust", 7)


@pytest.mark.parametrize("native", [False, True])
def test_the_raw_row_pipeline_makes_the_runs_own_features_from_raw_rows(native):
    """A logged model's preprocessing: the user's raw rows (columns in any order,
    extra columns, numbers as text, a category read back as a number) give
    exactly the features the run's own rows got, and outputs decode to labels."""
    data = _table()
    split = make_split(data, seed=0, test_size=0.2, val_size=0.1)
    prepared = prepare(data, split, standardize=True, options=PreprocessOptions().for_model(native))
    pipeline = prepared.raw_row_pipeline(data)
    raw = data.X.iloc[split.test].copy()
    as_read = raw.assign(x=raw["x"].astype(str), extra=1)[["extra", "colour", "x"]]
    np.testing.assert_array_equal(pipeline.features(as_read), prepared.X_test)
    assert pipeline.decode(np.array([1, 0])).tolist() == [1, 0]  # integer class labels come back as integers
    with pytest.raises(ValueError, match="'colour'"):
        pipeline.features(raw.drop(columns="colour"))


def test_the_raw_row_pipeline_types_categories_as_the_table_reader_does_and_unscales_targets():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"x": rng.normal(size=60), "grade": rng.choice(["1", "2", "3"], 60).astype(object)})
    data = Dataset("toy", "regression", X, rng.normal(50, 10, 60), "test", categorical=("grade",))
    split = make_split(data, seed=0, test_size=0.2, val_size=0.0)
    prepared = prepare(data, split, standardize=True)
    pipeline = prepared.raw_row_pipeline(data)
    read_back = X.iloc[split.test].assign(grade=X["grade"].iloc[split.test].astype(float))  # 2.0, as pandas reads "2"
    np.testing.assert_array_equal(pipeline.features(read_back), prepared.X_test)
    np.testing.assert_allclose(pipeline.decode(prepared.y_test), data.y[split.test])
