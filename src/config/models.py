"""Schemas of the `model` group: the MLP and one schema per classical option.

Which option uses which schema, and its family (deep or classical), is
declared in src/models/registry.py; src.config.register_configs stores each
under schema_model_<name>.

The defaults here are the only ones: the YAMLs of conf/model/ set what differs
from them, and MLPEstimator takes its defaults from MLPConfig. A field with a
range carries it in its metadata (`bounded`, src/config/ranges.py); src/config/checks.py refuses a
value out of it before any data loads, whichever option the schema is for."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, List, Optional

from omegaconf import MISSING

from src.config.ranges import (
    Range,
    above,
    at_least,
    bounded,
    choice,
    each,
    fraction,
    integer_at_least,
    integer_in,
    optional,
    svm_gamma,
)

LAYERS = "a list of integers >= 1, the units of each hidden layer ([] for none)"
N_JOBS = Range(lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and v != 0),
               "null or an integer other than 0", 0)  # fmt: skip


class Init(str, Enum):
    small = "small"  # the workshop's "small random numbers close to 0 (but not 0)"
    xavier = "xavier"
    kaiming = "kaiming"
    # torch's nn.Linear default: weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    torch = "torch"


class Embedding(str, Enum):
    none = "none"  # the features enter the first layer as they are
    # Per feature: n_frequencies trainable frequencies c ~ N(0, frequency_sigma),
    # [sin 2 pi c x, cos 2 pi c x] -> Linear(2 n_frequencies -> d_embedding) -> ReLU
    # ("PLR-lite", Gorishniy et al. 2022, "On Embeddings for Numerical Features").
    periodic = "periodic"
    # Per feature: n_bins quantile bins of the training rows, x encoded piecewise
    # linearly over them -> Linear(n_bins -> d_embedding) -> ReLU (same paper).
    piecewise_linear = "piecewise_linear"


@dataclass
class MLPConfig:
    name: str = "mlp"
    hidden_sizes: List[int] = bounded([64, 64], each(integer_at_least(1), LAYERS))
    dropout: float = bounded(0.0, fraction(True, False))
    batch_norm: bool = False
    init: Init = Init.xavier
    # Numeric embeddings: every input column becomes d_embedding values first.
    embedding: Embedding = Embedding.none
    n_frequencies: int = 8  # periodic
    frequency_sigma: float = 0.1  # periodic
    d_embedding: int = 8
    n_bins: int = 16  # piecewise_linear
    # K > 1: K nets (own initial weights, own batch order, same split) trained
    # together as one batched model; predictions average their probabilities
    # (their outputs for regression). 1 is a single net.
    ensemble_size: int = 1


@dataclass
class MLPPlusConfig(MLPConfig):
    """The MLP with a modern recipe (conf/model/mlp_plus.yaml sets its training too)."""

    name: str = "mlp_plus"
    hidden_sizes: List[int] = bounded([512], each(integer_at_least(1), LAYERS))
    dropout: float = bounded(0.1, fraction(True, False))
    init: Init = Init.torch
    embedding: Embedding = Embedding.periodic
    ensemble_size: int = 4


# ---------------------------------------------------------------- classical models
# One schema per classical option. Apart from `name`, the fields
# are scikit-learn's own hyperparameter names and are passed to the estimator
# as they are (src/models/classical.py); a field that only one of the
# classifier / regressor pair takes (e.g. SVR's `epsilon`) is ignored by the other.


@dataclass
class ClassicalConfig:
    name: str = MISSING


@dataclass
class LinearRegressionConfig(ClassicalConfig):
    name: str = "linear_regression"
    fit_intercept: bool = True


@dataclass
class RidgeConfig(ClassicalConfig):
    name: str = "ridge"
    alpha: float = bounded(1.0, at_least(0))
    fit_intercept: bool = True


@dataclass
class LogisticRegressionConfig(ClassicalConfig):
    name: str = "logistic_regression"
    C: float = bounded(1.0, above(0))
    max_iter: int = bounded(1000, integer_at_least(1))
    fit_intercept: bool = True


class Kernel(str, Enum):
    linear = "linear"
    poly = "poly"
    rbf = "rbf"
    sigmoid = "sigmoid"


@dataclass
class SVMConfig(ClassicalConfig):
    name: str = "svm"
    C: float = bounded(1.0, above(0))
    kernel: Kernel = Kernel.rbf
    gamma: Any = bounded("scale", Range(svm_gamma, "'scale', 'auto' or a number > 0", 0))
    degree: int = bounded(3, integer_at_least(0))  # poly kernel
    epsilon: float = bounded(0.1, at_least(0))  # SVR only


@dataclass
class LinearSVMConfig(ClassicalConfig):
    name: str = "linear_svm"
    C: float = bounded(1.0, above(0))
    max_iter: int = bounded(1000, integer_at_least(1))
    epsilon: float = bounded(0.0, at_least(0))  # LinearSVR only


@dataclass
class DecisionTreeConfig(ClassicalConfig):
    name: str = "decision_tree"
    max_depth: Optional[int] = bounded(None, optional(integer_at_least(1)))
    min_samples_split: int = bounded(2, integer_at_least(2))
    min_samples_leaf: int = bounded(1, integer_at_least(1))


@dataclass
class RandomForestConfig(ClassicalConfig):
    name: str = "random_forest"
    n_estimators: int = bounded(100, integer_at_least(1))
    max_depth: Optional[int] = bounded(None, optional(integer_at_least(1)))
    min_samples_leaf: int = bounded(1, integer_at_least(1))
    n_jobs: Optional[int] = bounded(None, N_JOBS)


@dataclass
class GradientBoostingConfig(ClassicalConfig):
    name: str = "gradient_boosting"
    max_iter: int = bounded(100, integer_at_least(1))  # boosting rounds (one tree per round and class)
    learning_rate: float = bounded(0.1, optional(above(0)))
    max_depth: Optional[int] = bounded(None, optional(integer_at_least(1)))
    max_leaf_nodes: Optional[int] = bounded(31, optional(integer_at_least(2)))
    min_samples_leaf: int = bounded(20, integer_at_least(1))
    l2_regularization: float = bounded(0.0, at_least(0))
    # Stop on the run's validation split (not scikit-learn's internal one) and
    # keep the best round (src/models/classical.py).
    early_stopping: bool = False
    # Categorical columns as scikit-learn's native categorical_features (false: one-hot).
    native_categorical: bool = True


class KNNWeights(str, Enum):
    uniform = "uniform"
    distance = "distance"


@dataclass
class KNNConfig(ClassicalConfig):
    name: str = "knn"
    n_neighbors: int = bounded(5, integer_at_least(1))
    weights: KNNWeights = KNNWeights.uniform
    p: float = bounded(2.0, above(0))  # Minkowski power: 1 Manhattan, 2 Euclidean


@dataclass
class NaiveBayesConfig(ClassicalConfig):
    name: str = "naive_bayes"
    var_smoothing: float = bounded(1e-9, at_least(0))


@dataclass
class PerceptronConfig(ClassicalConfig):
    name: str = "perceptron"
    penalty: Optional[str] = bounded(None, optional(choice(("l2", "l1", "elasticnet"))))
    alpha: float = bounded(1e-4, at_least(0))
    eta0: float = bounded(1.0, above(0))
    max_iter: int = bounded(1000, integer_at_least(1))
    tol: Optional[float] = bounded(1e-3, optional(at_least(0)))


class SklearnActivation(str, Enum):
    identity = "identity"
    logistic = "logistic"
    tanh = "tanh"
    relu = "relu"


class SklearnSolver(str, Enum):
    lbfgs = "lbfgs"
    sgd = "sgd"
    adam = "adam"


@dataclass
class SklearnMLPConfig(ClassicalConfig):
    name: str = "sklearn_mlp"
    hidden_layer_sizes: List[int] = bounded([100], each(integer_at_least(1), LAYERS))
    activation: SklearnActivation = SklearnActivation.relu
    solver: SklearnSolver = SklearnSolver.adam
    alpha: float = bounded(1e-4, at_least(0))
    learning_rate_init: float = bounded(1e-3, above(0))
    # null: scikit-learn's "auto", min(200, n)
    batch_size: Optional[int] = bounded(None, optional(integer_at_least(1)))
    max_iter: int = bounded(200, integer_at_least(1))
    early_stopping: bool = False


@dataclass
class DummyConfig(ClassicalConfig):
    """The constant baseline: the majority class, or the training mean."""

    name: str = "dummy"


# ------------------------------------------------------- gradient-boosting libraries
# Each library's own scikit-learn API names. `n_estimators` / `iterations` is
# the most rounds; with `early_stopping_rounds` set (the default) training
# stops that many rounds after the best validation round and keeps the best.
# null trains every round on the training split alone. Threads come from
# trainer.cpu_threads, the seed from `seed` (src/models/boosting.py).
# native_categorical (also gradient_boosting's): categorical columns reach the
# library as integer codes in its native categorical form; false: one-hot (or
# dataset.categorical_encoding), as for the other models -- an ablation.


@dataclass
class XGBoostConfig(ClassicalConfig):
    name: str = "xgboost"
    n_estimators: int = bounded(1000, integer_at_least(1))
    learning_rate: float = bounded(0.1, optional(above(0)))
    max_depth: int = bounded(6, integer_at_least(0))
    min_child_weight: float = bounded(1.0, at_least(0))
    subsample: float = bounded(1.0, fraction(False, True))
    colsample_bytree: float = bounded(1.0, fraction(False, True))
    reg_lambda: float = bounded(1.0, at_least(0))
    reg_alpha: float = bounded(0.0, at_least(0))
    gamma: float = bounded(0.0, at_least(0))
    max_bin: int = bounded(256, integer_at_least(2))
    early_stopping_rounds: Optional[int] = bounded(50, optional(integer_at_least(1)))
    native_categorical: bool = True


@dataclass
class LightGBMConfig(ClassicalConfig):
    name: str = "lightgbm"
    n_estimators: int = bounded(1000, integer_at_least(1))
    learning_rate: float = bounded(0.1, optional(above(0)))
    num_leaves: int = bounded(31, integer_at_least(2))
    max_depth: int = -1  # -1: no limit
    min_child_samples: int = bounded(20, integer_at_least(0))
    subsample: float = bounded(1.0, fraction(False, True))
    subsample_freq: int = bounded(0, integer_at_least(0))  # 0: no bagging
    colsample_bytree: float = bounded(1.0, fraction(False, True))
    reg_lambda: float = bounded(0.0, at_least(0))
    reg_alpha: float = bounded(0.0, at_least(0))
    min_split_gain: float = bounded(0.0, at_least(0))
    max_bin: int = bounded(255, integer_at_least(2))
    early_stopping_rounds: Optional[int] = bounded(50, optional(integer_at_least(1)))
    native_categorical: bool = True
    # LightGBM's categorical splits (its defaults): fewer rows than min_data_per_group
    # in a category group and no split on it -- on a small table, lower it.
    min_data_per_group: int = 100
    cat_smooth: float = 10.0
    max_cat_to_onehot: int = 4


@dataclass
class CatBoostConfig(ClassicalConfig):
    name: str = "catboost"
    iterations: int = bounded(1000, integer_at_least(1))
    # null: CatBoost picks it from the data size
    learning_rate: Optional[float] = bounded(None, optional(above(0)))
    depth: int = bounded(6, integer_in(1, 16))
    l2_leaf_reg: float = bounded(3.0, at_least(0))
    random_strength: float = bounded(1.0, at_least(0))
    bagging_temperature: float = bounded(1.0, at_least(0))
    border_count: int = bounded(254, integer_in(1, 65535))
    early_stopping_rounds: Optional[int] = bounded(50, optional(integer_at_least(1)))
    native_categorical: bool = True
