"""tracking.log_model=true logs the whole fitted pipeline as one MLflow model
that predicts on the user's raw rows (issue 18 point 6)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from src.job.runner import run
from tests.conftest import ROOT, make_spec, run_cli

FAST = {"mlp": ("trainer.max_epochs=20",), "lightgbm": ("model.n_estimators=50",)}


@pytest.fixture
def raw_table(tmp_path) -> Path:
    """A CSV with a text column, missing cells in both kinds of column, and string labels."""
    rng = np.random.default_rng(0)
    n = 300
    x, x2 = rng.normal(size=n), rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], size=n).astype(object)
    label = np.where((x > 0) ^ (colour == "red"), "yes", "no")
    frame = pd.DataFrame({"x": x, "colour": colour, "x2": x2, "label": label})
    frame.loc[rng.choice(n, 30, replace=False), "x"] = np.nan
    frame.loc[rng.choice(n, 30, replace=False), "colour"] = None
    path = tmp_path / "raw.csv"
    frame.to_csv(path, index=False)
    return path


def _table(path: Path) -> tuple[str, ...]:
    return ("dataset=table", f"dataset.path='{path}'", "dataset.target=label")


def _model_files(client, model_uri: str, folder: Path) -> Path:
    """The logged model's files (MLmodel, requirements, input example, code), downloaded."""
    import mlflow.artifacts

    location = client.get_logged_model(model_uri.removeprefix("models:/")).artifact_location
    folder.mkdir(parents=True, exist_ok=True)
    return Path(mlflow.artifacts.download_artifacts(artifact_uri=location, dst_path=str(folder)))


@pytest.mark.parametrize("model", ["mlp", "lightgbm"])
def test_the_logged_model_predicts_raw_rows_in_the_original_labels(model, raw_table, mlflow_client, tmp_path):
    import mlflow.pyfunc

    result = run(make_spec(f"model={model}", *_table(raw_table), *FAST[model], "tracking.log_model=true"))
    predictions = pd.read_parquet(mlflow_client.download_artifacts(result.run_id, "predictions.parquet", str(tmp_path)))
    raw = pd.read_csv(raw_table)
    rows = raw.drop(columns="label").iloc[predictions["row_id"]]
    assert rows[["x", "colour"]].isna().any().all()  # missing cells in the text column and in a numeric one

    logged = mlflow.pyfunc.load_model(result.model_uri)
    predicted = np.asarray(logged.predict(rows))
    assert predicted.tolist() == predictions["y_pred"].tolist()  # the run's own predictions
    assert set(predicted) <= {"yes", "no"}
    accuracy = (predicted == raw["label"].iloc[predictions["row_id"]].to_numpy()).mean()
    assert accuracy == pytest.approx(result.metrics["test_accuracy"])

    inputs = logged.metadata.signature.inputs.input_names()
    assert inputs == ["x", "colour", "x2"]  # the raw columns, not the encoded features
    example = _model_files(mlflow_client, result.model_uri, tmp_path / "model") / "input_example.json"
    assert json.loads(example.read_text())["columns"] == ["x", "colour", "x2"]


def test_mlflow_models_predict_takes_a_csv_of_raw_rows_and_register_as_registers(raw_table, tracking_uri, tmp_path):
    from mlflow.tracking import MlflowClient

    result = run(
        make_spec(
            "model=lightgbm",
            *_table(raw_table),
            *FAST["lightgbm"],
            "tracking.log_model=true",
            "tracking.register_as=raw_rows",
        )  # fmt: skip
    )
    client = MlflowClient(tracking_uri)
    versions = client.search_model_versions("name='raw_rows'")
    assert [(int(v.version), v.run_id) for v in versions] == [(1, result.run_id)]
    # Issue 24 item 5: the version is described, the model carries the run's final metrics and
    # params, its requirements install from an index (no '+cpu') and the project's code travels with it.
    run_record = client.get_run(result.run_id)
    description = versions[0].description
    assert (
        run_record.info.run_name in description and "model=lightgbm" in description and "test_accuracy=" in description
    )
    model = client.get_logged_model(run_record.outputs.model_outputs[0].model_id)
    assert model.params == run_record.data.params
    metrics = {m.key: m.value for m in model.metrics}
    assert metrics["test_accuracy"] == pytest.approx(result.metrics["test_accuracy"])
    local = _model_files(client, result.model_uri, tmp_path / "model")
    requirements = (local / "requirements.txt").read_text().split()
    assert any(r.startswith("lightgbm==") for r in requirements) and not [r for r in requirements if "+" in r]
    assert (local / "code" / "src" / "data" / "preprocessing.py").is_file()

    rows = pd.read_csv(raw_table).drop(columns="label").head(20)
    rows.to_csv(tmp_path / "rows.csv", index=False)
    out = tmp_path / "predicted.json"
    mlflow = Path(sys.executable).parent / "mlflow"
    proc = subprocess.run(
        [
            str(mlflow),
            "models",
            "predict",
            "-m",
            "models:/raw_rows/1",
            "-i",
            str(tmp_path / "rows.csv"),
            "-t",
            "csv",
            "-o",
            str(out),
            "--env-manager",
            "local",
        ],  # fmt: skip
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # this checkout's src, as the model pickled it
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    served = json.loads(out.read_text())["predictions"]
    import mlflow.pyfunc

    assert served == list(mlflow.pyfunc.load_model(result.model_uri).predict(rows))
    assert set(served) <= {"yes", "no"} and len(served) == 20


def test_a_classical_run_logs_its_model_and_loads_it_back_without_torch(raw_table, tmp_path):
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    proc = run_cli(
        "model=lightgbm", *_table(raw_table), *FAST["lightgbm"], "tracking.log_model=true",
        env={"PYTHONPROFILEIMPORTTIME": "1", "MLFLOW_TRACKING_URI": store},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    modules = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "lightgbm.sklearn" in modules and "mlflow.pyfunc" in modules  # the check sees the run's imports
    assert not {m for m in modules if m.split(".")[0] in ("torch", "pytorch_lightning", "lightning")}
    load = (
        "import sys, mlflow, pandas as pd\n"
        "from mlflow.tracking import MlflowClient\n"
        "model = MlflowClient().search_logged_models(['1'])[0]\n"
        f"rows = pd.read_csv({str(raw_table)!r}).drop(columns='label').head(5)\n"
        "print(list(mlflow.pyfunc.load_model(f'models:/{model.model_id}').predict(rows)))\n"
        "print('torch' in sys.modules)\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", load], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "MLFLOW_TRACKING_URI": store},
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    predicted, torch_loaded = loaded.stdout.strip().splitlines()[-2:]
    assert set(eval(predicted)) <= {"yes", "no"} and torch_loaded == "False"


@pytest.fixture
def awkward_table(tmp_path) -> Path:
    """Issue 23 item 8: the rows a table reader accepts and a logged model refused --
    a category empty on the first rows, an integer column declared categorical,
    a numeric column with 'unknown' cells; integer class labels."""
    rng = np.random.default_rng(1)
    n = 200
    x = rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], size=n).astype(object)
    colour[:150] = None  # the example rows (the first training rows) have no colour
    zone = rng.integers(1, 4, size=n)
    x2 = rng.normal(size=n).round(3).astype(object)
    x2[rng.choice(n, 10, replace=False)] = "unknown"
    label = ((x > 0) ^ (zone == 2)).astype(int)
    path = tmp_path / "awkward.csv"
    pd.DataFrame({"x": x, "colour": colour, "zone": zone, "x2": x2, "label": label}).to_csv(path, index=False)
    return path


def test_the_logged_model_takes_every_row_its_table_reader_takes(awkward_table, mlflow_client, tmp_path):
    import warnings

    import mlflow.pyfunc

    config = make_spec(
        "model=lightgbm", *_table(awkward_table), *FAST["lightgbm"], "tracking.log_model=true",
        "dataset.categorical_columns=[zone]",
    )  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run(config)
    assert not [w for w in caught if "type hint" in str(w.message)]  # was printed twice per model
    logged = mlflow.pyfunc.load_model(result.model_uri)
    predictions = pd.read_parquet(mlflow_client.download_artifacts(result.run_id, "predictions.parquet", str(tmp_path)))

    raw = pd.read_csv(awkward_table).drop(columns="label")
    assert not pd.api.types.is_numeric_dtype(raw["x2"]) and raw["zone"].dtype == np.int64  # as the reader gets them
    test_rows = raw.iloc[predictions["row_id"]]
    predicted = logged.predict(test_rows)
    assert predicted.tolist() == predictions["y_pred"].astype(int).tolist()  # the run's own predictions
    assert all(type(v) in (int, np.int64) for v in predicted.tolist())  # integer labels stay integers

    parquet = tmp_path / "awkward.parquet"
    raw.assign(x2=pd.to_numeric(raw["x2"], errors="coerce")).to_parquet(parquet)
    assert logged.predict(pd.read_parquet(parquet).iloc[predictions["row_id"]]).tolist() == predicted.tolist()

    one = raw.head(1).assign(colour=None)  # a missing category
    assert len(logged.predict(one)) == 1
    assert len(logged.predict(raw.iloc[:0])) == 0  # zero rows, zero predictions


def test_the_logged_model_is_named_after_its_run_and_loads_by_model_id_and_by_run(raw_table, mlflow_client, tmp_path):
    """The experiment's Models tab tells the models apart by their runs' names; models:/<model_id>
    (the run's line prints it) loads the model, and so does runs:/<run_id>/<its name>."""
    import mlflow.pyfunc

    result = run(make_spec("model=logistic_regression", *_table(raw_table), "tracking.log_model=true"))
    source = mlflow_client.get_run(result.run_id)
    experiment_id = source.info.experiment_id
    (logged,) = mlflow_client.search_logged_models([experiment_id], filter_string=f"source_run_id = '{result.run_id}'")
    assert logged.name == source.info.run_name.replace(".", "_") and logged.name.startswith("logistic_regression-raw")
    rows = pd.read_csv(raw_table).drop(columns="label").head(20)
    by_id = mlflow.pyfunc.load_model(f"models:/{logged.model_id}").predict(rows)
    by_run = mlflow.pyfunc.load_model(f"runs:/{result.run_id}/{logged.name}").predict(rows)
    assert result.model_uri == f"models:/{logged.model_id}" and list(by_id) == list(by_run)
    assert [a.path for a in mlflow_client.list_artifacts(result.run_id) if a.path == "model"] == []  # one copy only


def test_a_model_name_has_none_of_the_characters_mlflow_refuses():
    from src.tracking.models import model_name

    assert model_name("mlp-workshop_regression-n16-s0-lr=0.01") == "mlp-workshop_regression-n16-s0-lr=0_01"
    assert model_name("a/b:c%d'e\"f") == "a_b_c_d_e_f"
    assert model_name(None) == "model" and model_name("") == "model"
