"""Each run records its data: log_input (digest, schema, source) and descriptive params."""

import json

import numpy as np
import pandas as pd
import pytest

from src.job.runner import run
from tests.conftest import make_spec, runs_of

FAST = ("trainer.max_epochs=2", "model.hidden_sizes=[4]")


def _run(store, name, *overrides):
    run(make_spec(*overrides, *FAST, f"tracking.run_name={name}"))
    (record,) = [r for r in runs_of(store) if r.info.run_name == name]
    assert record.info.status == "FINISHED"
    return record


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 80
    frame = pd.DataFrame({"size": rng.normal(100, 20, n).round(1), "city": rng.choice(["paris", "lyon"], n)})
    frame["label"] = np.where(frame["size"] > 100, "big", "small")
    frame.loc[[1, 2], "size"] = np.nan
    frame.loc[3, "label"] = np.nan
    path = tmp_path_factory.mktemp("table") / "houses.csv"
    frame.to_csv(path, index=False)
    return path


def test_a_table_run_logs_its_training_set_as_an_mlflow_input(table, shared_store):
    record = _run(shared_store, "table-run", "dataset=table", f"dataset.path='{table}'", "dataset.target=label")
    params, tags = record.data.params, record.data.tags
    assert tags["dataset"].startswith("houses-") and tags["dataset_source"] == str(table) and tags["task"] == "binary"
    assert params["n_dropped_rows"] == "1" and params["n_features"] == "3" and params["n_classes"] == "2"
    assert 0 < int(params["n_imputed_cells"]) <= 2
    balance = json.loads(params["class_balance"])
    assert set(balance) == {"big", "small"} and sum(balance.values()) == pytest.approx(1, abs=1e-3)

    (entry,) = record.inputs.dataset_inputs
    assert {(t.key, t.value) for t in entry.tags} == {("mlflow.data.context", "train")}
    dataset = entry.dataset
    assert dataset.name == "table-train" and dataset.source_type == "local"
    assert json.loads(dataset.source)["uri"] == table.as_uri()
    schema = {c["name"]: c["type"] for c in json.loads(dataset.schema)["mlflow_colspec"]}
    assert schema == {"size": "double", "city": "string", "label": "string"}
    assert json.loads(dataset.profile)["num_rows"] == int(params["n_train"])
    assert len(dataset.digest) == 16


def test_a_regression_run_logs_the_target_mean_and_std_and_the_digest_follows_the_rows(shared_store):
    from src.data import load_dataset, make_split

    full = _run(shared_store, "weather-full", "dataset=seed_weather")
    small = _run(shared_store, "weather-small", "dataset=seed_weather", "dataset.train_size=8")
    again = _run(shared_store, "weather-again", "dataset=seed_weather", "dataset.train_size=8")
    params = full.data.params
    data = load_dataset(make_spec("dataset=seed_weather").dataset)
    split = make_split(data, seed=0, test_size=0.2, val_size=0.1)
    assert float(params["target_mean"]) == pytest.approx(data.y[split.train].mean(), rel=1e-5)
    assert float(params["target_std"]) == pytest.approx(data.y[split.train].std(), rel=1e-5)
    assert params["n_imputed_cells"] == "8" and "class_balance" not in params
    assert small.data.params["n_train"] == "8" and small.data.params["split_digest"] == params["split_digest"]
    digest = {r.info.run_name: r.inputs.dataset_inputs[0].dataset.digest for r in (full, small, again)}
    assert digest["weather-small"] == digest["weather-again"] != digest["weather-full"]
    assert full.inputs.dataset_inputs[0].dataset.source_type == "code"
