"""Schemas of the `model` group: the MLP and one schema per classical option.

Which option uses which schema is declared in src/models/registry.py;
src.config.register_configs stores each under schema_model_<name>."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, List, Optional

from omegaconf import MISSING


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
    family: str = "deep"
    hidden_sizes: List[int] = field(default_factory=lambda: [64, 64])
    dropout: float = 0.0
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
    hidden_sizes: List[int] = field(default_factory=lambda: [512])
    dropout: float = 0.1
    init: Init = Init.torch
    embedding: Embedding = Embedding.periodic
    ensemble_size: int = 4


# ---------------------------------------------------------------- classical models
# One schema per classical option. Apart from `name` and `family`, the fields
# are scikit-learn's own hyperparameter names and are passed to the estimator
# as they are (src/models/classical.py); a field that only one of the
# classifier / regressor pair takes (e.g. SVR's `epsilon`) is ignored by the other.


@dataclass
class ClassicalConfig:
    name: str = MISSING
    family: str = "classical"


@dataclass
class LinearRegressionConfig(ClassicalConfig):
    name: str = "linear_regression"
    fit_intercept: bool = True


@dataclass
class RidgeConfig(ClassicalConfig):
    name: str = "ridge"
    alpha: float = 1.0
    fit_intercept: bool = True


@dataclass
class LogisticRegressionConfig(ClassicalConfig):
    name: str = "logistic_regression"
    C: float = 1.0
    max_iter: int = 1000
    fit_intercept: bool = True


class Kernel(str, Enum):
    linear = "linear"
    poly = "poly"
    rbf = "rbf"
    sigmoid = "sigmoid"


@dataclass
class SVMConfig(ClassicalConfig):
    name: str = "svm"
    C: float = 1.0
    kernel: Kernel = Kernel.rbf
    gamma: Any = "scale"  # "scale", "auto" or a positive float
    degree: int = 3  # poly kernel
    epsilon: float = 0.1  # SVR only


@dataclass
class LinearSVMConfig(ClassicalConfig):
    name: str = "linear_svm"
    C: float = 1.0
    max_iter: int = 1000
    epsilon: float = 0.0  # LinearSVR only


@dataclass
class DecisionTreeConfig(ClassicalConfig):
    name: str = "decision_tree"
    max_depth: Optional[int] = None
    min_samples_split: int = 2
    min_samples_leaf: int = 1


@dataclass
class RandomForestConfig(ClassicalConfig):
    name: str = "random_forest"
    n_estimators: int = 100
    max_depth: Optional[int] = None
    min_samples_leaf: int = 1
    n_jobs: Optional[int] = None


@dataclass
class GradientBoostingConfig(ClassicalConfig):
    name: str = "gradient_boosting"
    max_iter: int = 100  # boosting rounds (one tree per round and class)
    learning_rate: float = 0.1
    max_depth: Optional[int] = None
    max_leaf_nodes: Optional[int] = 31
    min_samples_leaf: int = 20
    l2_regularization: float = 0.0
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
    n_neighbors: int = 5
    weights: KNNWeights = KNNWeights.uniform
    p: float = 2.0  # Minkowski power: 1 Manhattan, 2 Euclidean


@dataclass
class NaiveBayesConfig(ClassicalConfig):
    name: str = "naive_bayes"
    var_smoothing: float = 1e-9


@dataclass
class PerceptronConfig(ClassicalConfig):
    name: str = "perceptron"
    penalty: Optional[str] = None  # null | l2 | l1 | elasticnet
    alpha: float = 1e-4
    eta0: float = 1.0
    max_iter: int = 1000
    tol: Optional[float] = 1e-3


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
    hidden_layer_sizes: List[int] = field(default_factory=lambda: [100])
    activation: SklearnActivation = SklearnActivation.relu
    solver: SklearnSolver = SklearnSolver.adam
    alpha: float = 1e-4
    learning_rate_init: float = 1e-3
    batch_size: Optional[int] = None  # null: scikit-learn's "auto", min(200, n)
    max_iter: int = 200
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
    n_estimators: int = 1000
    learning_rate: float = 0.1
    max_depth: int = 6
    min_child_weight: float = 1.0
    subsample: float = 1.0
    colsample_bytree: float = 1.0
    reg_lambda: float = 1.0
    reg_alpha: float = 0.0
    gamma: float = 0.0
    max_bin: int = 256
    early_stopping_rounds: Optional[int] = 50
    native_categorical: bool = True


@dataclass
class LightGBMConfig(ClassicalConfig):
    name: str = "lightgbm"
    n_estimators: int = 1000
    learning_rate: float = 0.1
    num_leaves: int = 31
    max_depth: int = -1  # -1: no limit
    min_child_samples: int = 20
    subsample: float = 1.0
    subsample_freq: int = 0  # 0: no bagging
    colsample_bytree: float = 1.0
    reg_lambda: float = 0.0
    reg_alpha: float = 0.0
    min_split_gain: float = 0.0
    max_bin: int = 255
    early_stopping_rounds: Optional[int] = 50
    native_categorical: bool = True
    # LightGBM's categorical splits (its defaults): fewer rows than min_data_per_group
    # in a category group and no split on it -- on a small table, lower it.
    min_data_per_group: int = 100
    cat_smooth: float = 10.0
    max_cat_to_onehot: int = 4


@dataclass
class CatBoostConfig(ClassicalConfig):
    name: str = "catboost"
    iterations: int = 1000
    learning_rate: Optional[float] = None  # null: CatBoost picks it from the data size
    depth: int = 6
    l2_leaf_reg: float = 3.0
    random_strength: float = 1.0
    bagging_temperature: float = 1.0
    border_count: int = 254
    early_stopping_rounds: Optional[int] = 50
    native_categorical: bool = True
