"""Schemas of the `dataset` group: where the rows come from, how they are split and preprocessed.

`DatasetConfig` holds what every source shares (the task, the split, the
preprocessing). Each kind of source adds only the fields it reads, and each
field means one thing: a generator's `noise_std` is always the standard
deviation of Gaussian noise, `cluster_std` a cluster's spread, `label_noise`
a fraction of flipped labels. Every `conf/dataset/<name>.yaml` pulls its
schema with `- /schema_dataset_<kind>@_here_`, so a key its source does not
read fails at composition, naming the key and the schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import List, Optional

from omegaconf import MISSING

from src.config.ranges import (
    SAMPLES,
    STATES,
    above,
    at_least,
    bounded,
    fraction,
    integer_at_least,
    number_in,
    optional,
    split_size,
)
from src.data.types import Task


class NumericImpute(str, Enum):
    mean = "mean"
    median = "median"
    most_frequent = "most_frequent"
    constant = "constant"  # fills 0


class CategoricalImpute(str, Enum):
    most_frequent = "most_frequent"
    constant = "constant"  # fills the category "missing"


class Scaling(str, Enum):
    standard = "standard"  # (x - mean) / std
    robust = "robust"  # (x - median) / interquartile range: outliers weigh less
    quantile = "quantile"  # to a standard normal through the training quantiles
    none = "none"


class CategoricalEncoding(str, Enum):
    onehot = "onehot"  # one column per category seen in training; unknown ones -> all zeros
    ordinal = "ordinal"  # one integer code per category; unknown ones -> -1


@dataclass
class DatasetConfig:
    """What every source shares."""

    name: str = MISSING
    # null: the task of the data itself (user tables and OpenML: inferred from the target).
    # Set, it is checked against the data, and lets a wrong model or loss fail before loading.
    task: Optional[Task] = None
    # Split sizes: a value in (0, 1] is a fraction of the rows, a value > 1 a count.
    test_size: float = bounded(0.2, split_size(zero=False, whole=False), unless="fit_only")
    val_size: float = bounded(
        0.1, split_size(zero=True, whole=False), unless="fit_only"
    )  # taken from the rows left after the test split: early stopping, best epoch
    # Cross-validated repeats: k folds; seed j tests fold j mod k of repeat j // k (test_size unused).
    # null: a random test split per seed. A dataset with its own test set (MNIST-1D) keeps it.
    cv_folds: Optional[int] = None
    # Rows outside the test set held out for model selection only: never trained on, never
    # watched by early stopping (a fraction of those rows, or a count; 0: none).
    select_size: float = 0.0
    # Fit-only tables (the slides' 4-8 row examples): train on every row, no split.
    fit_only: bool = False
    # Scale features (and standardize a regression target) with training statistics.
    # false: neither; `scaling` then must stay standard or be none.
    standardize: bool = True
    # How numeric feature columns are scaled (fit on the training rows; every model gets the same).
    scaling: Scaling = Scaling.standard
    # Subsample the training split: a fraction of the pool or an absolute count.
    train_size: Optional[float] = bounded(None, optional(split_size(zero=False, whole=True)), unless="fit_only")
    # Shared preprocessing of every dataset, fit on the training rows only.
    impute_numeric: NumericImpute = NumericImpute.median
    impute_categorical: CategoricalImpute = CategoricalImpute.most_frequent
    categorical_encoding: CategoricalEncoding = CategoricalEncoding.onehot
    max_categories: Optional[int] = bounded(
        None, optional(integer_at_least(1))
    )  # one-hot: rarer categories share one column


# ---------------------------------------------------------------- generated: drawn by a seeded generator
# The same fields always give the same rows. `random_state` seeds the
# generator; the run's `seed` draws the split.


@dataclass
class WorkshopRegressionConfig(DatasetConfig):
    """sklearn.datasets.make_regression with the workshop's arguments."""

    n_samples: int = bounded(100, SAMPLES)
    n_features: int = bounded(1, integer_at_least(1))
    noise_std: float = bounded(5.5, optional(at_least(0)))  # std of the Gaussian noise added to the target
    bias: float = 0.5  # the target's intercept
    random_state: int = bounded(42, STATES)


@dataclass
class WorkshopCirclesConfig(DatasetConfig):
    """sklearn.datasets.make_circles with the workshop's arguments."""

    n_samples: int = bounded(100, SAMPLES)
    factor: float = bounded(0.5, fraction(True, False))  # inner circle's radius / outer circle's
    noise_std: Optional[float] = bounded(
        None, optional(at_least(0))
    )  # std of the Gaussian noise added to the points; null: none
    random_state: Optional[int] = bounded(0, STATES)  # null: a different draw every run


@dataclass
class PlaygroundConfig(DatasetConfig):
    """The TensorFlow Playground's generators (src/data/generators.py)."""

    n_samples: int = bounded(500, SAMPLES)
    # The Playground's noise slider / 100, from 0 to 0.5: each generator's own
    # recipe (label blur for circle and xor, blob variance for gauss, point jitter for spiral).
    noise_level: float = bounded(0.0, number_in(0, 0.5))
    random_state: int = bounded(0, STATES)


@dataclass
class MoonsConfig(DatasetConfig):
    """sklearn.datasets.make_moons."""

    n_samples: int = bounded(500, SAMPLES)
    noise_std: float = bounded(0.2, optional(at_least(0)))  # std of the Gaussian noise added to the points
    shuffle: bool = True
    random_state: int = bounded(0, STATES)


@dataclass
class BlobsConfig(DatasetConfig):
    """sklearn.datasets.make_blobs: one isotropic Gaussian cluster per class."""

    n_samples: int = bounded(500, SAMPLES)
    n_features: int = bounded(2, integer_at_least(1))
    n_classes: int = bounded(3, integer_at_least(2))  # the number of clusters (2 needs task=binary)
    cluster_std: float = bounded(1.0, at_least(0))  # each cluster's standard deviation
    shuffle: bool = True
    random_state: int = bounded(0, STATES)


@dataclass
class ClassificationConfig(DatasetConfig):
    """sklearn.datasets.make_classification: clusters on the vertices of a hypercube."""

    n_samples: int = bounded(1000, SAMPLES)
    n_features: int = bounded(20, integer_at_least(1))
    n_classes: int = bounded(2, integer_at_least(2))  # more than 2 needs task=multiclass
    label_noise: float = bounded(0.01, fraction(True, True))  # the fraction of labels flipped at random (flip_y)
    shuffle: bool = True
    random_state: int = bounded(0, STATES)


@dataclass
class RegressionGeneratorConfig(DatasetConfig):
    """sklearn.datasets.make_regression: a random linear model of half of the features."""

    n_samples: int = bounded(1000, SAMPLES)
    n_features: int = bounded(10, integer_at_least(1))
    noise_std: float = bounded(10.0, optional(at_least(0)))  # std of the Gaussian noise added to the target
    bias: float = 0.0  # the target's intercept
    shuffle: bool = True
    random_state: int = bounded(0, STATES)


@dataclass
class Friedman1Config(DatasetConfig):
    """sklearn.datasets.make_friedman1: a non-linear regression of the first five features."""

    n_samples: int = bounded(1000, SAMPLES)
    n_features: int = bounded(10, integer_at_least(5))  # at least 5; the rest are irrelevant
    noise_std: float = bounded(1.0, optional(at_least(0)))  # std of the Gaussian noise added to the target
    random_state: int = bounded(0, STATES)


@dataclass
class MNIST1DConfig(DatasetConfig):
    """The mnist1d package's generator; the package's own 80 / 20 test split is kept."""

    n_samples: Optional[int] = bounded(None, SAMPLES)  # null: the package's default (5000)
    random_state: Optional[int] = bounded(None, STATES)  # null: the package's default seed


# ---------------------------------------------------------------- fixed rows


@dataclass
class BundledConfig(DatasetConfig):
    """Rows fixed by their source (scikit-learn's bundled sets, the slides' small
    tables): nothing to set but the task, the split and the preprocessing."""


@dataclass
class TabularConfig(DatasetConfig):
    """A table read with the column checks and typing of src/data/tables.py: the
    slides' weather sheet and the real tables shipped in packages use it as it
    is; user tables and OpenML add where the table comes from."""

    drop_columns: List[str] = field(default_factory=list)  # e.g. row ids
    categorical_columns: List[str] = field(default_factory=list)  # force categorical (e.g. zip codes)
    numeric_columns: List[str] = field(default_factory=list)  # force numeric


@dataclass
class TableConfig(TabularConfig):
    """dataset=table: the user's CSV or Parquet file."""

    path: Optional[str] = None
    target: Optional[str] = None
    sep: Optional[str] = None  # CSV delimiter; null: ',' (tab for .tsv)
    decimal: str = "."  # the CSV's decimal mark: ',' for 1,5 (with sep=';')
    encoding: str = "utf-8"
    na_values: List[str] = field(default_factory=list)  # extra missing-value markers, e.g. ['?']


@dataclass
class OpenMLConfig(TabularConfig):
    """dataset=openml: a dataset by id, through a local cache folder."""

    openml_id: Optional[int] = bounded(None, optional(integer_at_least(1)))
    target: Optional[str] = None  # null: OpenML's default target
    cache_dir: Optional[str] = None  # null: $MLVSDL_DATA_CACHE, else <repo>/data_cache
    download: bool = True  # false: use the cache only, never the network
    timeout_s: float = bounded(10.0, above(0))


# kind -> schema; conf/dataset/<name>.yaml pulls its kind with `- /schema_dataset_<kind>@_here_`.
DATASET_SCHEMAS = {
    "workshop_regression": WorkshopRegressionConfig,
    "workshop_circles": WorkshopCirclesConfig,
    "playground": PlaygroundConfig,
    "moons": MoonsConfig,
    "blobs": BlobsConfig,
    "classification": ClassificationConfig,
    "regression": RegressionGeneratorConfig,
    "friedman1": Friedman1Config,
    "mnist1d": MNIST1DConfig,
    "bundled": BundledConfig,
    "tabular": TabularConfig,
    "table": TableConfig,
    "openml": OpenMLConfig,
}
