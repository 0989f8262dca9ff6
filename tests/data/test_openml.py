"""dataset=openml: loads from a cache folder offline; a clear, fast error otherwise.

No test here touches the network: the cache fixture holds OpenML's own answers
for dataset 61 (iris), and the unreachable case stubs the connection probe.
"""

import shutil
import socket
from pathlib import Path

import numpy as np
import pytest

from src.data import load_dataset
from src.data import openml as openml_loader
from src.errors import ConfigError, DataError
from src.job.runner import validate
from tests.conftest import make_spec

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "openml_cache"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A copy of the cache fixture (fetch_openml may rewrite a cache it distrusts)."""
    copy = tmp_path / "cache"
    shutil.copytree(FIXTURE, copy)

    def no_network(*args, **kwargs):
        raise AssertionError("the test tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr("urllib.request.urlopen", no_network)
    monkeypatch.setattr("sklearn.datasets._openml.urlopen", no_network)
    return copy


def _cfg(*overrides):
    return make_spec("dataset=openml", *overrides).dataset


def test_a_cached_dataset_loads_offline_with_its_default_target(cache):
    data = load_dataset(_cfg("dataset.openml_id=61", f"dataset.cache_dir='{cache}'"))
    assert data.task == "multiclass" and data.X.shape == (150, 4)
    assert data.class_names == ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
    assert data.target_name == "class" and data.X.dtypes.eq(np.float64).all()
    assert data.source == "https://www.openml.org/d/61" and data.source_kind == "http"


def test_another_target_and_task_can_be_chosen(cache):
    data = load_dataset(_cfg("dataset.openml_id=61", f"dataset.cache_dir='{cache}'", "dataset.target=petalwidth",
                             "dataset.task=regression"))  # fmt: skip
    assert data.task == "regression" and data.X.shape == (150, 4) and "class" in data.categorical


def test_the_cache_folder_can_come_from_the_environment(cache, monkeypatch):
    monkeypatch.setenv("MLVSDL_DATA_CACHE", str(cache))
    assert load_dataset(_cfg("dataset.openml_id=61")).n_rows == 150


def _count_fetches(monkeypatch) -> list:
    """Calls of fetch_openml (its retries are what make an uncached load slow)."""
    fetches = []

    def fetch_openml(*args, **kwargs):
        fetches.append(kwargs)
        raise AssertionError("fetch_openml was called")

    monkeypatch.setattr("sklearn.datasets.fetch_openml", fetch_openml)
    return fetches


# How fast these fail is measured by `make bench`, not here: a test asserts
# what makes them fast (no fetch, one probe with the short timeout).
def test_not_cached_and_download_off_fails_at_once(cache, monkeypatch):
    fetches = _count_fetches(monkeypatch)
    with pytest.raises(DataError, match=r"OpenML dataset 62 is not in the cache folder .* dataset.download=false"):
        load_dataset(_cfg("dataset.openml_id=62", f"dataset.cache_dir='{cache}'", "dataset.download=false"))
    assert fetches == []  # and no probe: the cache fixture fails any connection


def test_not_cached_and_no_network_fails_fast_with_one_clear_line(cache, monkeypatch):
    probes = []

    def unreachable(address, timeout=None):
        probes.append((address, timeout))
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "create_connection", unreachable)
    fetches = _count_fetches(monkeypatch)
    with pytest.raises(DataError) as raised:
        load_dataset(_cfg("dataset.openml_id=62", f"dataset.cache_dir='{cache}'", "dataset.timeout_s=2"))
    message = str(raised.value)
    assert message.startswith("OpenML dataset 62 is not in the cache folder") and "\n" not in message
    assert "openml.org cannot be reached (Name or service not known)" in message
    assert probes == [(("www.openml.org", 443), 2.0)]  # one probe, with the short timeout
    assert fetches == []  # no fetch_openml and its retries after the failed probe


def test_an_incomplete_cache_counts_as_not_cached(cache):
    next(cache.rglob("iris.arff.gz")).unlink()
    assert openml_loader.cached_description(cache / "openml", 61) is None
    with pytest.raises(DataError, match="not in the cache folder"):
        load_dataset(_cfg("dataset.openml_id=61", f"dataset.cache_dir='{cache}'", "dataset.download=false"))


def test_openml_without_an_id_is_refused_before_any_run():
    with pytest.raises(ConfigError, match="dataset.openml_id"):
        validate(make_spec("dataset=openml"))
