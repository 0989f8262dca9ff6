"""What a user meets after the run (issue 18): the store that `make ui` serves,
with the runs, their metrics and the report's self-contained report.html, and
the URL that opens the runs table."""

import os
import subprocess
import sys

import pytest

from src.tracking.links import runs_url
from src.tracking.record import VIEW_KEY, VIEW_TAG
from src.tracking.ui import main
from tests.conftest import ROOT, mlflow_ui, run_cli, runs_of


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    """The issue's sweep and its report, in a store of its own."""
    folder = tmp_path_factory.mktemp("ui-store")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    env = {"MLFLOW_TRACKING_URI": uri, "MLFLOW_PARENT_RUN_ID": ""}
    proc = run_cli(
        "-m", "dataset=digits", "model=mlp,logistic_regression", "dataset.train_size=64,512",
        "trainer.max_epochs=3", f"hydra.sweep.dir={folder / 'multirun'}", env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = subprocess.run(
        [sys.executable, "-m", "src.report", "--sweep", "latest", "--out", str(folder / "report")],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr[-2000:]
    return uri


def test_every_job_is_named_by_its_training_size_and_keeps_its_confusion_matrix(store):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(store)
    jobs = [r for r in runs_of(client) if r.data.tags.get("mlflow.parentRunId")]
    assert len(jobs) == 4
    for job in jobs:
        assert f"-n{job.data.params['n_train']}-" in job.info.run_name
        names = {a.path for a in client.list_artifacts(job.info.run_id)}
        assert {"confusion_matrix.csv", "predictions.parquet"} <= names, job.info.run_name


def test_mlflow_ui_serves_the_runs_their_metrics_and_the_report_page(store, tmp_path):
    import requests

    with mlflow_ui(store, tmp_path) as base:
        api = f"{base}/api/2.0/mlflow"
        experiment = requests.get(f"{api}/experiments/get-by-name", params={"experiment_name": "mlvsdl"}, timeout=30)
        experiment = experiment.json()["experiment"]
        tags = {t["key"]: t["value"] for t in experiment.get("tags", [])}
        assert VIEW_TAG in tags and "metrics.`test_accuracy`" in tags[VIEW_TAG]
        assert tags["mlflow.experimentKind"] == "custom_model_development"

        found = requests.post(f"{api}/runs/search", json={"experiment_ids": [experiment["experiment_id"]]}, timeout=30)
        runs = found.json()["runs"]
        jobs = [r for r in runs if any(t["key"] == "mlflow.parentRunId" for t in r["data"].get("tags", []))]
        assert len(jobs) == 4
        for job in jobs:
            metrics = {m["key"]: m for m in job["data"]["metrics"]}
            assert 0 <= metrics["test_accuracy"]["value"] <= 1 and metrics["test_accuracy"]["step"] == 0
        (report,) = [r for r in runs if r["info"]["run_name"].startswith("report-")]
        page = requests.get(
            f"{base}/get-artifact", params={"path": "report.html", "run_uuid": report["info"]["run_id"]}, timeout=30
        )
        assert page.status_code == 200, page.text[:500]
        assert page.text.startswith("<!DOCTYPE html>") and "<table>" in page.text
        assert page.text.count('src="data:image/png;base64,') >= 3  # the figures, inside the page
        assert requests.get(base, timeout=30).status_code == 200  # the UI itself


def test_the_printed_url_opens_the_runs_table_with_the_saved_view(store, capsys):
    from mlflow.tracking import MlflowClient

    experiment = MlflowClient(store).get_experiment_by_name("mlvsdl")
    assert main(["--tracking-uri", store, "--port", "5055"]) == 0
    url = runs_url("http://127.0.0.1:5055", experiment.experiment_id)
    assert url in capsys.readouterr().out
    assert "workflowType=machine_learning" in url and f"viewStateShareKey={VIEW_KEY}" in url
