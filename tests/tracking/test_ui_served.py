"""What a real `mlflow ui` serves for this project's store (issue 24), checked through
its REST API: the experiment's saved runs view groups by model and training size, a
search's run names say their trial and seed (and training size), and the report run's
description links report.html, which the server serves.

The store is built with the project's own commands in a temporary folder: a sweep of
two classical models at two sizes, a two-trial search, and the report of it all."""

import json
import os
import re
import subprocess
import sys

import pytest

from src.tracking.record import DESCRIPTION_TAG, VIEW_TAG, Tag
from tests.conftest import ROOT, mlflow_ui, run_cli

pytestmark = pytest.mark.slow

PREFIX = "logistic_regression-breast_cancer"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(base URL, REST API root, the experiment, its runs) of `mlflow ui` on the built store."""
    import requests

    folder = tmp_path_factory.mktemp("served")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    env = {"MLFLOW_TRACKING_URI": uri, "MLFLOW_PARENT_RUN_ID": ""}
    sweep = run_cli(
        "-m", "model=dummy,logistic_regression", "dataset=breast_cancer", "dataset.train_size=64,1.0",
        f"hydra.sweep.dir={folder / 'sweep'}", env=env,
    )  # fmt: skip
    assert sweep.returncode == 0, sweep.stderr[-2000:]
    search = run_cli(
        "-m", "hparams_search=logistic_regression", "dataset=breast_cancer", "hydra.sweeper.n_trials=2",
        "hydra.sweeper.selection_seeds=[0,1]", "hydra.sweeper.final_seeds=[0]", f"hydra.sweep.dir={folder / 'search'}",
        env=env,
    )  # fmt: skip
    assert search.returncode == 0, search.stderr[-2000:]
    report = subprocess.run(
        [sys.executable, "-m", "src.report", "--experiment", "mlvsdl", "--out", str(folder / "report")],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr[-2000:]
    with mlflow_ui(uri, folder) as base:
        api = f"{base}/ajax-api/2.0/mlflow"  # what the UI itself calls
        answer = requests.get(f"{api}/experiments/get-by-name", params={"experiment_name": "mlvsdl"}, timeout=30)
        experiment = answer.json()["experiment"]
        found = requests.post(
            f"{api}/runs/search",
            json={"experiment_ids": [experiment["experiment_id"]], "max_results": 1000},
            timeout=30,
        )
        yield base, api, experiment, found.json()["runs"]


def _tags(entity) -> dict:
    return {t["key"]: t["value"] for t in entity.get("tags", [])}


def _params(run) -> dict:
    return {p["key"]: p["value"] for p in run["data"].get("params", [])}


def test_the_saved_runs_view_groups_by_model_and_training_size(served):
    _, _, experiment, _ = served
    tags = _tags(experiment)
    assert tags["mlflow.experimentKind"] == "custom_model_development"
    view = json.loads(tags[VIEW_TAG])
    keys = [(k["mode"], k["groupByData"]) for k in view["groupBy"]["groupByKeys"]]
    assert keys == [("tag", "model"), ("param", "n_train")]
    assert {"tags.`model`", "params.`n_train`", "tags.`search_stage`"} <= set(view["selectedColumns"])


def test_a_searchs_run_names_carry_the_trial_or_stage_the_seed_and_the_training_size(served):
    _, _, _, runs = served
    searched = [r for r in runs if Tag.SEARCH_STAGE in _tags(r["data"])]
    stages = sorted(_tags(r["data"])[Tag.SEARCH_STAGE] for r in searched)
    assert stages == ["default", "final"] + ["trial"] * 4  # 2 trials x 2 selection seeds, 1 final seed
    for run in searched:
        tags, name = _tags(run["data"]), run["info"]["run_name"]
        stage = tags[Tag.SEARCH_STAGE]
        middle = {"trial": f"t{tags.get(Tag.TRIAL_NUMBER)}", "final": "tuned", "default": "default"}[stage]
        found = re.fullmatch(rf"{PREFIX}-n(\d+|\{{n_train\}})-{middle}-s{tags[Tag.SEED]}", name)
        assert found, name
        # The run's own training size once the runner fills in the token; the token until then.
        assert found.group(1) in (_params(run)["n_train"], "{n_train}"), name


def test_the_report_runs_description_links_report_html_and_the_server_serves_it(served):
    import requests

    base, _, experiment, runs = served
    (report,) = [r for r in runs if _tags(r["data"]).get(Tag.REPORT) == "true"]
    run_id = report["info"]["run_id"]
    note = _tags(report["data"])[DESCRIPTION_TAG]
    route = f"#/experiments/{experiment['experiment_id']}/runs/{run_id}/artifacts/report.html"
    assert f"({route}?workflowType=machine_learning)" in note
    links = re.findall(r"\]\(([^)]+)\)", note)
    assert all("workflowType=machine_learning" in link for link in links if link.startswith("#/"))
    (download,) = [link for link in links if link.startswith("get-artifact?")]
    assert download == f"get-artifact?path=report.html&run_uuid={run_id}"
    page = requests.get(f"{base}/{download}", timeout=30)  # relative to the UI's address
    assert page.status_code == 200, page.text[:500]
    assert page.text.startswith("<!DOCTYPE html>") and "<table>" in page.text
    assert "Default against tuned" in page.text  # the search's section: the report read the search
