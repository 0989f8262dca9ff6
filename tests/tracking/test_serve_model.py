"""`mlflow models serve` of a logged model answers raw-row requests with the
run's labels (issue 24, item 5), run as `make serve` runs it: the venv's bin
first on PATH (mlflow starts uvicorn by name), nothing activated."""

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd

from src.training.runner import run
from tests.conftest import make_config


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
    result = run(make_config(*config, "dataset.target=label", "tracking.log_model=true"))
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
        [f"{venv_bin}/mlflow", "models", "serve", "-m", f"runs:/{result.run_id}/model", "--env-manager", "local",
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
