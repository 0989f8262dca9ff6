"""Typed schemas for the composed Hydra config.

Every config group has a dataclass here. `register_configs()` stores them in
Hydra's ConfigStore; `conf/config.yaml` starts its defaults list with
`config_schema`, so every YAML option is merged into a typed node and an
unknown key or a value of the wrong type fails at composition time, before
any data is loaded. Models differ in their hyperparameters, so each model
option pulls in its own schema (`/schema/model/<name>@_here_`).

This module must stay light: `python -m src.train --help` and config errors
have to answer without importing torch, Lightning or MLflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, List, Optional

from hydra.core.config_store import ConfigStore
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


class Init(str, Enum):
    small = "small"  # the workshop's "small random numbers close to 0 (but not 0)"
    xavier = "xavier"
    kaiming = "kaiming"


@dataclass
class MLPConfig:
    name: str = "mlp"
    family: str = "deep"
    hidden_sizes: List[int] = field(default_factory=lambda: [64, 64])
    dropout: float = 0.0
    batch_norm: bool = False
    init: Init = Init.xavier


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
    # Stop on the run's validation split (not scikit-learn's internal one).
    early_stopping: bool = False


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


CLASSICAL_SCHEMAS = {
    "linear_regression": LinearRegressionConfig,
    "ridge": RidgeConfig,
    "logistic_regression": LogisticRegressionConfig,
    "svm": SVMConfig,
    "linear_svm": LinearSVMConfig,
    "decision_tree": DecisionTreeConfig,
    "random_forest": RandomForestConfig,
    "gradient_boosting": GradientBoostingConfig,
    "knn": KNNConfig,
    "naive_bayes": NaiveBayesConfig,
    "perceptron": PerceptronConfig,
    "sklearn_mlp": SklearnMLPConfig,
}


class ActivationName(str, Enum):
    relu = "relu"
    tanh = "tanh"
    sigmoid = "sigmoid"
    leaky_relu = "leaky_relu"
    elu = "elu"
    gelu = "gelu"
    step = "step"


@dataclass
class ActivationConfig:
    name: ActivationName = MISSING
    negative_slope: float = 0.01  # leaky_relu
    alpha: float = 1.0  # elu


class LossName(str, Enum):
    auto = "auto"
    mse = "mse"
    mae = "mae"
    huber = "huber"
    bce = "bce"
    cross_entropy = "cross_entropy"


@dataclass
class LossConfig:
    name: LossName = MISSING
    huber_delta: float = 1.0


class OptimizerName(str, Enum):
    batch_gd = "batch_gd"
    sgd = "sgd"
    minibatch_sgd = "minibatch_sgd"
    momentum = "momentum"
    nesterov = "nesterov"
    adagrad = "adagrad"
    rmsprop = "rmsprop"
    adam = "adam"
    adamw = "adamw"


@dataclass
class OptimizerConfig:
    name: OptimizerName = MISSING
    lr: float = 1e-3
    # Examples per update; null means the whole training set (batch gradient descent).
    batch_size: Optional[int] = 32
    weight_decay: float = 0.0
    momentum: float = 0.0
    nesterov: bool = False
    # Multiplicative learning-rate decay applied after every epoch (1.0 = none).
    lr_decay: float = 1.0


@dataclass
class TrainerConfig:
    name: str = "default"
    accelerator: str = "auto"  # auto | cpu | gpu
    devices: Any = "auto"  # "auto", a count, or a list of device ids
    strategy: str = "auto"  # auto | ddp | ddp_spawn
    num_nodes: int = 1
    max_epochs: int = 100
    # Stop when val_loss has not improved for this many epochs (null = off).
    early_stopping_patience: Optional[int] = None
    deterministic: bool = False
    precision: str = "32-true"
    # null: show Lightning's progress bar only on a terminal.
    progress_bar: Optional[bool] = None
    # CPU threads for torch. Small tabular nets run fastest on one thread (and
    # parallel sweep jobs should not oversubscribe the cores); null = torch's default.
    cpu_threads: Optional[int] = 1
    # Log each layer's mean gradient norm per epoch (grad_norm_layer_<i>), to see
    # vanishing or exploding gradients; costs a little per step.
    log_grad_norms: bool = False
    # Save last.ckpt every N epochs (null = never), so that `resume=true`
    # continues a killed run; under <checkpoint_dir or repo/checkpoints>/<config_hash>/.
    checkpoint_every_n_epochs: Optional[int] = None
    checkpoint_dir: Optional[str] = None


@dataclass
class TrackingConfig:
    # null: $MLFLOW_TRACKING_URI, else sqlite:///<repository root>/mlflow.db
    uri: Optional[str] = None
    experiment: str = "mlvsdl"
    run_name: Optional[str] = None
    log_model: bool = False
    # Per-run pictures (loss curves, confusion matrix, decision regions, ...), opt-in:
    # drawing them costs 0.2-0.4 s, more than the rest of a small run's fixed cost, and
    # MLflow's UI already charts every logged metric. The report draws cross-run figures.
    plots: bool = False
    # Permutation importance on the test split (every model, through its predict)
    # and tree importances where they exist: feature_importance.csv and .png per run.
    log_importance: bool = False


@dataclass
class Config:
    seed: int = 0
    dataset: DatasetConfig = MISSING
    model: Any = MISSING
    activation: ActivationConfig = MISSING
    loss: LossConfig = MISSING
    optimizer: OptimizerConfig = MISSING
    trainer: TrainerConfig = MISSING
    tracking: TrackingConfig = MISSING
    # Free-form label of the study a run belongs to, logged as the `study` tag.
    study: Optional[str] = None
    # Skip a configuration that already has a FINISHED run in the experiment
    # (matched by the `config_hash` tag); continue a killed run from its checkpoint.
    resume: bool = False
    # Train the MLP for all these seeds at once, as one vectorized model (one
    # MLflow run per seed, each equal to the single run with that seed).
    seeds: Optional[List[int]] = None
    # The metric a run returns to a sweeper (hparams_search: Optuna), e.g. val_accuracy;
    # null: the task's main test metric. A name the run does not log is a ConfigError.
    optimized_metric: Optional[str] = None


def register_configs() -> None:
    cs = ConfigStore.instance()
    cs.store(name="config_schema", node=Config)
    cs.store(group="schema/model", name="mlp", node=MLPConfig)
    for name, node in CLASSICAL_SCHEMAS.items():
        cs.store(group="schema/model", name=name, node=node)


def option(value: Any) -> str:
    """The plain string of a config choice (enum fields come back as Enum members)."""
    return str(value.value) if isinstance(value, Enum) else str(value)


def check_schema(cfg: Any) -> None:
    """Refuse keys that no schema declares, including those added with `+key=`.

    Hydra's `+` appends a key even to a typed node; such a key would be
    ignored at best and, named `_target_`, reads as code to instantiate. The
    project's config groups are data, so any key outside the schemas is an
    error that names it."""
    import dataclasses

    from omegaconf import DictConfig

    from src.errors import ConfigError

    def walk(node: Any, path: str) -> None:
        if not isinstance(node, DictConfig):
            return
        schema = node._metadata.object_type
        if dataclasses.is_dataclass(schema):
            declared = {f.name for f in dataclasses.fields(schema)}
            for key in node.keys():
                if key not in declared:
                    raise ConfigError(
                        f"config key '{path}{key}' is not in {schema.__name__}; config groups are data and "
                        f"take only their declared keys: {', '.join(sorted(declared))}"
                    )
        for key in node.keys():
            walk(node._get_node(key), f"{path}{key}.")

    walk(cfg, "")
