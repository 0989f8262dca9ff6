"""The model registry: every `model=` option, what it can do and how it is built.

An entry declares the option's family ("deep" or "classical"), the tasks it
can do, the schema of its config node and its builder, a "module:function"
string called as `builder(cfg, task, n_classes)` with the composed config.
Builders are imported only when a model is built, so reading the registry
(config validation, `--help`, the task check) imports no estimator library,
and a run imports only its own model's: a classical run never loads torch or
Lightning, a LightGBM run neither XGBoost nor CatBoost.

Options wrapping a library's classifier / regressor pair (scikit-learn, the
gradient-boosting libraries) name the pair as "module:Class" strings; their
tasks follow from which of the two exist, and the dataset's task picks one.

An option that takes categorical columns in its library's native form declares
`native_categorical=True`: its runs get them as integer codes (not one-hot,
src/data/preprocessing.py) unless its config says `native_categorical: false`,
and its builder is called with `categorical_features=` the indices of those
columns, to hand to the library.

The registry is the one place a family is declared: the config, the sweeper,
the runner and model logging all ask it (`spec_of(name).family`, or
`family_of(estimator)` for a built estimator).

Adding a model: a schema (src/config/models.py, with the bounds of its fields
in their metadata), a YAML (conf/model/<name>.yaml) and one entry below (or
`register(...)` from anywhere before the config is composed).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence

import src.config.models as schemas
from src.data.types import Task
from src.errors import ConfigError

if TYPE_CHECKING:
    from src.config.spec import RunSpec
    from src.models.contract import Estimator

DEEP, CLASSICAL = "deep", "classical"
ALL_TASKS = (Task.regression, Task.binary, Task.multiclass)
CLASSIFICATION = (Task.binary, Task.multiclass)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str  # DEEP or CLASSICAL
    tasks: tuple[Task, ...]
    schema: type  # the dataclass of its `model` node
    builder: str  # "module:function", called as builder(cfg, task, n_classes)
    # "module:Class" (or a factory) of the estimator per kind of task: the
    # library's pair that a classical builder wraps, the class a deep builder
    # returns; None where there is none.
    classifier: Optional[str] = None
    regressor: Optional[str] = None
    # Takes categorical columns as integer codes at `categorical_features` (the builder's keyword).
    native_categorical: bool = False

    def estimator_class(self, task: str) -> Callable[..., Any]:
        """The classifier or the regressor of the pair, imported now."""
        path = self.regressor if task == Task.regression else self.classifier
        if path is None:
            raise ConfigError(refusal(self.name, task))
        return load(path)


def _argument(value: Any) -> Any:
    """A config value as an estimator takes it (enums -> their values, lists -> tuples)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple)) or type(value).__name__ == "ListConfig":
        return tuple(_argument(v) for v in value)
    return value


def arguments_by_name(target: Callable[..., Any], model_cfg: Any, exclude: Sequence[str] = ()) -> dict[str, Any]:
    """The one way a `model` node becomes estimator arguments, for every family:
    each field whose name is a parameter of `target` (all of them where it
    takes **kwargs), but `exclude`, which the wrapper handles itself."""
    parameters = inspect.signature(target).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    fields = (
        {f.name: getattr(model_cfg, f.name) for f in dataclasses.fields(model_cfg)}
        if dataclasses.is_dataclass(model_cfg)
        else dict(model_cfg.items())  # a plain mapping of the same fields
    )
    return {
        key: _argument(value)
        for key, value in fields.items()
        if key != "name" and key not in exclude and (takes_any or key in parameters)
    }


def load(path: str) -> Any:
    """The object a "module:name" string names, importing its module."""
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def pair(
    name: str,
    schema: type,
    classifier: Optional[str] = None,
    regressor: Optional[str] = None,
    builder: str = "src.models.classical:from_config",
    native_categorical: bool = False,
) -> ModelSpec:
    """A classical option wrapping a classifier and/or a regressor."""
    tasks = ((Task.regression,) if regressor else ()) + (CLASSIFICATION if classifier else ())
    return ModelSpec(name, CLASSICAL, tasks, schema, builder, classifier, regressor, native_categorical)


_BOOSTING = "src.models.boosting"
REGISTRY: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Add (or replace) an option. Call before the config is composed: the
    schema is stored by src.config.register_configs()."""
    if spec.family not in (DEEP, CLASSICAL):
        raise ValueError(f"model {spec.name}: family must be '{DEEP}' or '{CLASSICAL}', not {spec.family!r}")
    REGISTRY[spec.name] = spec
    return spec


_MLP = "src.models.deep:MLPEstimator"
_MLP_BUILDER = "src.models.deep_config:mlp_from_config"

for _spec in (
    ModelSpec("mlp", DEEP, ALL_TASKS, schemas.MLPConfig, _MLP_BUILDER, _MLP, _MLP),
    pair("linear_regression", schemas.LinearRegressionConfig, None, "sklearn.linear_model:LinearRegression"),
    pair("ridge", schemas.RidgeConfig, "sklearn.linear_model:RidgeClassifier", "sklearn.linear_model:Ridge"),
    pair("logistic_regression", schemas.LogisticRegressionConfig, "sklearn.linear_model:LogisticRegression"),
    pair("svm", schemas.SVMConfig, "sklearn.svm:SVC", "sklearn.svm:SVR"),
    pair("linear_svm", schemas.LinearSVMConfig, "sklearn.svm:LinearSVC", "sklearn.svm:LinearSVR"),
    pair(
        "decision_tree",
        schemas.DecisionTreeConfig,
        "sklearn.tree:DecisionTreeClassifier",
        "sklearn.tree:DecisionTreeRegressor",
    ),
    pair(
        "random_forest",
        schemas.RandomForestConfig,
        "sklearn.ensemble:RandomForestClassifier",
        "sklearn.ensemble:RandomForestRegressor",
    ),
    pair(
        "gradient_boosting",
        schemas.GradientBoostingConfig,
        "sklearn.ensemble:HistGradientBoostingClassifier",
        "sklearn.ensemble:HistGradientBoostingRegressor",
        native_categorical=True,
    ),
    pair("knn", schemas.KNNConfig, "sklearn.neighbors:KNeighborsClassifier", "sklearn.neighbors:KNeighborsRegressor"),
    pair("naive_bayes", schemas.NaiveBayesConfig, "sklearn.naive_bayes:GaussianNB"),
    pair("perceptron", schemas.PerceptronConfig, "sklearn.linear_model:Perceptron"),
    pair(
        "sklearn_mlp",
        schemas.SklearnMLPConfig,
        "sklearn.neural_network:MLPClassifier",
        "sklearn.neural_network:MLPRegressor",
    ),
    pair(
        "xgboost",
        schemas.XGBoostConfig,
        "xgboost:XGBClassifier",
        "xgboost:XGBRegressor",
        builder=f"{_BOOSTING}:xgboost_from_config",
        native_categorical=True,
    ),
    pair(
        "lightgbm",
        schemas.LightGBMConfig,
        "lightgbm:LGBMClassifier",
        "lightgbm:LGBMRegressor",
        builder=f"{_BOOSTING}:lightgbm_from_config",
        native_categorical=True,
    ),
    pair(
        "catboost",
        schemas.CatBoostConfig,
        "catboost:CatBoostClassifier",
        "catboost:CatBoostRegressor",
        builder=f"{_BOOSTING}:catboost_from_config",
        native_categorical=True,
    ),
    pair("dummy", schemas.DummyConfig, "src.models.dummy:majority_class", "src.models.dummy:training_mean"),
    ModelSpec("mlp_plus", DEEP, ALL_TASKS, schemas.MLPPlusConfig, _MLP_BUILDER, _MLP, _MLP),
):
    register(_spec)


def spec_of(name: str) -> ModelSpec:
    if name not in REGISTRY:
        raise ConfigError(f"unknown model '{name}'; models: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def family_of(estimator: Any) -> str:
    """The family of a built estimator: deep when its class is the one a deep
    option builds (its `classifier` / `regressor`), classical otherwise."""
    path = f"{type(estimator).__module__}:{type(estimator).__qualname__}"
    deep = any(path in (spec.classifier, spec.regressor) for spec in REGISTRY.values() if spec.family == DEEP)
    return DEEP if deep else CLASSICAL


def models_for(task: str) -> list[str]:
    """The options that can do `task`, in registry order."""
    return [name for name, spec in REGISTRY.items() if task in spec.tasks]


def refusal(name: str, task: str) -> str:
    return f"model={name} cannot do a {task} task; models that can: {', '.join(models_for(task))}"


def check_task(name: str, task: str) -> None:
    """ConfigError naming the models that can, if `name` cannot do `task`.

    A task not known yet (null: inferred from a table's target) passes; the
    runner checks again with the loaded dataset's task before fitting."""
    if task not in ALL_TASKS:
        return
    if task not in spec_of(name).tasks:
        raise ConfigError(refusal(name, task))


def takes_native_categorical(model_cfg: Any) -> bool:
    """Whether this model's runs get categorical columns as integer codes for
    its library (the option can, and `model.native_categorical` is not false)."""
    return spec_of(str(model_cfg.name)).native_categorical and bool(getattr(model_cfg, "native_categorical", True))


def build(cfg: RunSpec, task: str, n_classes: int, categorical_features: Sequence[int] = ()) -> Estimator:
    """The unfitted estimator of the config's `model` option for this task;
    `categorical_features`: the indices of the columns of categorical codes
    (PreparedData.categorical_features), for an option that takes them natively."""
    spec = spec_of(str(cfg.model.name))
    check_task(spec.name, task)
    builder = load(spec.builder)
    if spec.native_categorical:
        return builder(cfg, task, n_classes, categorical_features=tuple(categorical_features))
    if categorical_features:
        raise ValueError(f"model={spec.name} takes no native categorical columns")
    return builder(cfg, task, n_classes)
