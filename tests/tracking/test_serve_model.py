"""`mlflow models serve` of a logged model answers raw-row requests with the
run's labels (issue 24, item 5), run as `make serve` runs it: the venv's bin
first on PATH (mlflow starts uvicorn by name), nothing activated."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from src.job.runner import run
from tests.conftest import make_spec


def _free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_mlflow_models_serve_answers_raw_rows_with_the_runs_labels(tracking_uri, mlflow_client, tmp_path):
    rng = np.random.default_rng(0)
    n = 240
    raw = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n), "colour": rng.choice(["red", "blue"], n)})
    raw["label"] = np.where((raw["x1"] > 0) ^ (raw["colour"] == "red"), "yes", "no")
    raw.loc[[3, 8], "colour"] = None
    path = tmp_path / "t.csv"
    raw.to_csv(path, index=False)
    config = ("model=lightgbm", "model.n_estimators=30", "dataset=table", f"dataset.path='{path}'")
    result = run(make_spec(*config, "dataset.target=label", "tracking.log_model=true"))
    predictions = pd.read_parquet(mlflow_client.download_artifacts(result.run_id, "predictions.parquet", str(tmp_path)))
    rows = pd.read_csv(path).drop(columns="label").iloc[predictions["row_id"]]

    port = _free_loopback_port()
    venv_bin = str(Path(sys.executable).parent)
    env = {
        "PATH": f"{venv_bin}:/usr/bin:/bin",  # as `make serve` sets it; no activated venv
        "HOME": str(tmp_path),
        "MLFLOW_TRACKING_URI": tracking_uri,
    }
    server = subprocess.Popen(
        [f"{venv_bin}/mlflow", "models", "serve", "-m", result.model_uri, "--env-manager", "local",
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.time() + 120
        while True:
            assert server.poll() is None, server.stdout.read()[-2000:]
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
                break
            except OSError:
                assert time.time() < deadline, "the model server did not answer /ping in 120 s"
                time.sleep(0.5)
        body = {"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}
        served = _post(f"http://127.0.0.1:{port}/invocations", body)["predictions"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert served == predictions["y_pred"].tolist()  # the run's own labels, missing cells included


@pytest.mark.slow
def test_the_models_environment_builds_from_the_package_index_and_predicts(tracking_uri, tmp_path):
    """`--env-manager virtualenv`: a fresh environment from the model's own
    requirements (pyenv's Python, pip from this machine's index) and its bundled
    code. Skipped, saying why, where the index cannot serve the requirements.
    """
    from importlib import metadata

    try:
        socket.getaddrinfo("www.python.org", 443)
    except OSError:
        # `mlflow models predict/serve --env-manager virtualenv` hands pyenv a fresh root of
        # its own (not ~/.pyenv), so pyenv downloads CPython's source and builds it.
        pytest.skip("www.python.org cannot be reached: pyenv cannot fetch the Python the environment needs")
    wanted = f"mlflow=={metadata.version('mlflow')}"
    probe = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(tmp_path / "probe"), wanted],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if probe.returncode != 0:
        pytest.skip(f"this machine's package index has no {wanted}, which the model requires")
    path = tmp_path / "t.csv"
    rng = np.random.default_rng(0)
    raw = pd.DataFrame({"x1": rng.normal(size=200), "colour": rng.choice(["red", "blue"], 200)})
    raw["label"] = np.where(raw["x1"] > 0, "yes", "no")
    raw.to_csv(path, index=False)
    config = ("model=lightgbm", "model.n_estimators=20", "dataset=table", f"dataset.path='{path}'")
    result = run(make_spec(*config, "dataset.target=label", "tracking.log_model=true"))
    raw.drop(columns="label").head(10).to_csv(tmp_path / "rows.csv", index=False)
    venv_bin = str(Path(sys.executable).parent)
    predicted = subprocess.run(
        [f"{venv_bin}/mlflow", "models", "predict", "-m", result.model_uri, "-i", "rows.csv",
         "-t", "csv", "-o", "out.json", "--env-manager", "virtualenv"],
        cwd=tmp_path, capture_output=True, text=True, timeout=1800,
        env={**os.environ, "PATH": f"{venv_bin}:{os.environ['PATH']}", "MLFLOW_TRACKING_URI": tracking_uri,
             "PYTHONPATH": ""},
    )  # fmt: skip
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    assert set(json.loads((tmp_path / "out.json").read_text())["predictions"]) <= {"yes", "no"}
