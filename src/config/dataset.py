"""Schemas of the `dataset` group: where the rows come from, how they are split and preprocessed."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import List, Optional

from omegaconf import MISSING


class Task(str, Enum):
    regression = "regression"
    binary = "binary"
    multiclass = "multiclass"
    auto = "auto"  # user tables: inferred from the target column


class NumericImpute(str, Enum):
    mean = "mean"
    median = "median"
    most_frequent = "most_frequent"
    constant = "constant"  # fills 0


class CategoricalImpute(str, Enum):
    most_frequent = "most_frequent"
    constant = "constant"  # fills the category "missing"


class CategoricalEncoding(str, Enum):
    onehot = "onehot"  # one column per category seen in training; unknown ones -> all zeros
    ordinal = "ordinal"  # one integer code per category; unknown ones -> -1


@dataclass
class DatasetConfig:
    name: str = MISSING
    task: Task = MISSING
    # Split sizes: a value in (0, 1] is a fraction of the rows, a value > 1 a count.
    test_size: float = 0.2
    val_size: float = 0.1  # taken from the rows left after the test split
    # Fit-only tables (the slides' 4-8 row examples): train on every row, no split.
    fit_only: bool = False
    # Standardize features (and a regression target) with training statistics.
    standardize: bool = True
    # Subsample the training split: a fraction of the pool or an absolute count.
    train_size: Optional[float] = None
    # Generator arguments, used by the datasets that declare them.
    n_samples: Optional[int] = None
    noise: Optional[float] = None
    n_features: Optional[int] = None
    factor: Optional[float] = None
    bias: Optional[float] = None
    random_state: Optional[int] = None
    shuffle: bool = True
    n_classes: Optional[int] = None  # blobs (centers), classification
    # dataset=table: the user's CSV or Parquet file and its target column
    # (dataset=openml: the target, null = OpenML's default target).
    path: Optional[str] = None
    target: Optional[str] = None
    sep: Optional[str] = None  # CSV delimiter; null: ',' (tab for .tsv)
    encoding: str = "utf-8"
    na_values: List[str] = field(default_factory=list)  # extra missing-value markers, e.g. ['?']
    drop_columns: List[str] = field(default_factory=list)  # e.g. row ids
    categorical_columns: List[str] = field(default_factory=list)  # force categorical (e.g. zip codes)
    numeric_columns: List[str] = field(default_factory=list)  # force numeric
    # Shared preprocessing of every dataset, fit on the training rows only.
    impute_numeric: NumericImpute = NumericImpute.median
    impute_categorical: CategoricalImpute = CategoricalImpute.most_frequent
    categorical_encoding: CategoricalEncoding = CategoricalEncoding.onehot
    max_categories: Optional[int] = None  # one-hot: rarer categories share one column
    # dataset=openml: the dataset id, the local cache and the network policy.
    openml_id: Optional[int] = None
    cache_dir: Optional[str] = None  # null: $MLVSDL_DATA_CACHE, else <repo>/data_cache
    download: bool = True  # false: use the cache only, never the network
    timeout_s: float = 10.0
