"""resume=true identifies a run by its configuration and by its data (issue 14, item 5)."""

import numpy as np
import pandas as pd

from src.data.digest import data_digest
from src.job.runner import run
from tests.conftest import make_spec, runs_of


def _table(path, flipped=False):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=80).round(3), "b": rng.normal(size=80).round(3)})
    positive = frame["a"] + frame["b"] > 0
    frame["y"] = np.where(positive != flipped, "yes", "no")  # flipped: the same bytes' length, other labels
    frame.to_csv(path, index=False)


def _cfg(path):
    return make_spec(
        "dataset=table", f"dataset.path='{path}'", "dataset.target=y", "model=logistic_regression", "resume=true"
    )


def test_a_rerun_after_the_labels_changed_trains_again(tmp_path, mlflow_client):
    path = tmp_path / "labels.csv"
    _table(path)
    first = run(_cfg(path))
    again = run(_cfg(path))
    assert not first.skipped and again.skipped and again.run_id == first.run_id  # same data: skipped

    _table(path, flipped=True)
    relabelled = run(_cfg(path))
    assert not relabelled.skipped and relabelled.run_id != first.run_id  # new labels: trained again
    assert relabelled.metrics["weight_1"] * first.metrics["weight_1"] < 0  # a model of the new labels
    hashes = {r.info.run_id: r.data.tags["config_hash"] for r in runs_of(mlflow_client)}
    assert len(hashes) == 2 and hashes[first.run_id] != hashes[relabelled.run_id]


def test_only_a_file_adds_a_data_digest(tmp_path):
    path = tmp_path / "t.csv"
    _table(path)
    assert data_digest(_cfg(path).dataset) is not None
    assert data_digest(make_spec("dataset=digits").dataset) is None  # fixed by its config
    # A file that cannot be read has no digest; loading it then fails naming it.
    assert data_digest(_cfg(tmp_path / "missing.csv").dataset) is None
    assert _cfg(tmp_path / "missing.csv").config_hash != _cfg(path).config_hash
