"""dataset=openml: an OpenML dataset by id, through a local cache folder.

`dataset.openml_id=<id>` loads https://www.openml.org/d/<id> with
scikit-learn's `fetch_openml`, whose cache is a plain folder: the API's JSON
answers and the ARFF data file, gzipped, under
`<cache_dir>/openml/openml.org/<path of the URL>.gz`
(e.g. `api/v1/json/data/61.gz`, `data/v1/download/61/iris.arff.gz`). Once a
dataset is there, it loads without a network; a cache filled on one machine
can be copied to another.

The cache folder is `dataset.cache_dir`, else $MLVSDL_DATA_CACHE, else
`data_cache/` at the repository root. When the cache lacks the dataset and
`dataset.download=true`, openml.org is tried once with a short timeout
(`dataset.timeout_s`); when neither has it, the error says so in one line.
The target is OpenML's default target unless `dataset.target` names another
column; the columns then go through the same checks and typing as a user's
table (src/data/tables.py).
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Optional
from urllib.parse import urlparse

from src.data.tables import TableOptions, frame_to_dataset, resolve_path
from src.data.types import Dataset
from src.errors import DataError

if TYPE_CHECKING:
    from src.config.dataset import DatasetConfig

OPENML_HOST = "www.openml.org"
CACHE_ENV = "MLVSDL_DATA_CACHE"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def cache_root(cache_dir: Optional[str]) -> Path:
    """The data cache folder: dataset.cache_dir, $MLVSDL_DATA_CACHE, or <repo>/data_cache."""
    if cache_dir:
        return resolve_path(cache_dir)
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser().resolve()
    return PROJECT_ROOT / "data_cache"


def _cached_file(openml_home: Path, url: str) -> Path:
    """Where fetch_openml keeps the answer to `url` (see sklearn.datasets._openml)."""
    return openml_home / "openml.org" / (urlparse(url).path.lstrip("/") + ".gz")


def cached_description(openml_home: Path, data_id: int) -> Optional[dict]:
    """The cached description of a dataset, if the cache holds every file
    fetch_openml reads: the description, the feature list, the qualities and
    the data file."""
    api = f"https://{OPENML_HOST}/api/v1/json/data"
    description_file = _cached_file(openml_home, f"{api}/{data_id}")
    if not description_file.is_file():
        return None
    try:
        with gzip.open(description_file, "rt", encoding="utf-8") as f:
            description = json.load(f)["data_set_description"]
    except (OSError, ValueError, KeyError):
        return None
    needed = [
        _cached_file(openml_home, f"{api}/features/{data_id}"),
        _cached_file(openml_home, f"{api}/qualities/{data_id}"),
        _cached_file(openml_home, description.get("url", "")),
    ]
    return description if all(f.is_file() for f in needed) else None


def _check_reachable(timeout_s: float) -> None:
    """One quick connection to openml.org, so that an offline machine fails in
    a moment instead of after fetch_openml's retries."""
    with socket.create_connection((OPENML_HOST, 443), timeout=timeout_s):
        pass


def load_openml(cfg: DatasetConfig) -> Dataset:
    data_id = int(cfg.openml_id)
    where = f"OpenML dataset {data_id}"
    cache = cache_root(cfg.cache_dir)
    openml_home = cache / "openml"  # fetch_openml's own layout below data_home
    description = cached_description(openml_home, data_id)
    if description is None:
        if not cfg.download:
            raise DataError(
                f"{where} is not in the cache folder {cache} and dataset.download=false; "
                "fill the cache on a machine with a network, or set dataset.cache_dir"
            )
        try:
            _check_reachable(float(cfg.timeout_s))
        except OSError as exc:
            raise DataError(
                f"{where} is not in the cache folder {cache} and openml.org cannot be reached "
                f"({exc.strerror or exc}); run once with a network, or copy a filled cache there"
            ) from None

    from sklearn.datasets import fetch_openml

    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(float(cfg.timeout_s))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # retry and parser notices
            bunch = fetch_openml(
                data_id=data_id, data_home=str(cache), as_frame=True, parser="pandas",
                target_column=None, n_retries=1, delay=1.0,
            )  # fmt: skip
    except OSError as exc:  # URLError, timeouts
        raise DataError(f"{where}: download from openml.org failed ({exc}); cache folder {cache}") from None
    except Exception as exc:
        detail = " ".join(str(exc).split())
        raise DataError(f"{where}: {detail}") from None
    finally:
        socket.setdefaulttimeout(previous_timeout)

    details = bunch.details or {}
    target = cfg.target or details.get("default_target_attribute")
    if target and "," in str(target):
        raise DataError(f"{where} has several default targets ({target}); choose one with dataset.target")
    return frame_to_dataset(
        bunch.frame,
        name=cfg.name,
        target=target,
        task=cfg.task,
        source=f"https://{OPENML_HOST}/d/{data_id}",
        where=where,
        options=TableOptions.from_config(cfg),
        source_kind="http",
    )
