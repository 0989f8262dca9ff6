"""Shared fixtures: composed configs and a throwaway MLflow store per test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from hydra import compose, initialize_config_dir

from src.config import register_configs

ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = ROOT / "conf"
# What Hydra writes in the working directory unless told otherwise: no test may leave them in the checkout.
HYDRA_OUTPUT_DIRS = ("outputs", "multirun")

register_configs()


def _hydra_outputs() -> set[Path]:
    return {entry for name in HYDRA_OUTPUT_DIRS if (ROOT / name).is_dir() for entry in (ROOT / name).iterdir()}


@pytest.fixture(autouse=True)
def no_hydra_outputs_in_the_checkout(request):
    """Fail the test that leaves a Hydra output folder in the checkout (folders
    a user's own `make run` left there before are not the test's)."""
    before = _hydra_outputs()
    yield
    left = sorted(str(p.relative_to(ROOT)) for p in _hydra_outputs() - before)
    if left:
        pytest.fail(f"{request.node.nodeid} left Hydra outputs in the checkout: {', '.join(left)}")


def skip_or_fail_under_ci(reason: str) -> None:
    """Skip a test this machine cannot run; under CI (CI=true) that is a failure."""
    if os.environ.get("CI", "").lower() in ("1", "true"):
        pytest.fail(reason + " (CI must run this test)")
    pytest.skip(reason)


def make_config(*overrides: str):
    """The config `python -m src.train <overrides>` would run with."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def make_spec(*overrides: str):
    """The run spec `python -m src.train <overrides>` hands the runner (the config checked, then resolved)."""
    from src.config.checks import check_config
    from src.config.spec import RunSpec

    cfg = make_config(*overrides)
    check_config(cfg)
    return RunSpec.from_config(cfg)


@pytest.fixture
def tracking_uri(tmp_path, monkeypatch) -> str:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.delenv("MLFLOW_PARENT_RUN_ID", raising=False)
    return uri


@pytest.fixture
def mlflow_client(tracking_uri):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri)


def runs_of(client, experiment: str = "mlvsdl"):
    exp = client.get_experiment_by_name(experiment)
    return [] if exp is None else client.search_runs([exp.experiment_id])


def hydra_dirs(folder: Path, args: tuple[str, ...] = ()) -> list[str]:
    """Overrides that put Hydra's run and sweep folders under `folder` (those `args` set stay theirs)."""
    return [
        f"hydra.{kind}.dir={folder / kind}"
        for kind in ("run", "sweep")
        if not any(arg.startswith(f"hydra.{kind}.dir=") for arg in args)
    ]


def run_cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `python -m src.train ...` from the repository root, as a user would;
    Hydra's output folders go to a temporary folder, not into the checkout."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("HYDRA_FULL_ERROR", None)
    with tempfile.TemporaryDirectory(prefix="mlvsdl-hydra-") as folder:
        return subprocess.run(
            [sys.executable, "-m", "src.train", *args, *hydra_dirs(Path(folder), args)],
            cwd=ROOT,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def mlflow_ui(store_uri: str, folder: Path) -> Iterator[str]:
    """`mlflow ui` on `store_uri` (what `make ui` runs) on a free loopback port; yields its base URL
    once it answers, and stops it on the way out. Its log is `folder/ui.log`."""
    from src.tracking.server import wait_for_server

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = folder / "ui.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "mlflow"), "ui", "--backend-store-uri", store_uri,
             "--host", "127.0.0.1", "--port", str(port)],  # fmt: skip
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=folder,
        )  # fmt: skip
    try:
        try:
            wait_for_server(base, process, timeout=240)
        except Exception as exc:
            pytest.fail(f"{exc}\n{log.read_text()[-3000:]}")
        yield base
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


class SleepMeter:
    """The seconds the processes of a command spend in `time.sleep` (retries, back-offs,
    polls), through tests/fixtures/sleep_meter/sitecustomize.py: a bound on the waiting a
    command does that holds on a loaded machine, where a wall-clock bound does not."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.log = folder / "slept.log"
        meter = ROOT / "tests" / "fixtures" / "sleep_meter"
        self.env = {"MLVSDL_SLEEP_LOG": str(self.log), "PYTHONPATH": os.pathsep.join([str(meter), str(ROOT)])}

    def processes(self) -> int:
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0

    def slept(self) -> float:
        if not self.log.exists():
            return 0.0
        return sum(float(line.split()[1]) for line in self.log.read_text().splitlines())


def wait_until_training(client, timeout: float = 120, count: int = 1) -> list:
    """The RUNNING runs, once `count` of them have their data prepared and
    logged (their dataset input): the fit comes next. Fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = [r for r in runs_of(client) if r.info.status == "RUNNING" and r.inputs.dataset_inputs]
        if len(running) >= count:
            return running
        time.sleep(0.2)
    pytest.fail(f"no run reached its training within {timeout} s: {[r.info.status for r in runs_of(client)]}")


def start_training(tracking_uri: str, tmp_path: Path, *args: str) -> subprocess.Popen:
    """`python -m src.train ...` in the background, Hydra's folders under `tmp_path`."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri}
    env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.Popen(
        [sys.executable, "-m", "src.train", *args, *hydra_dirs(tmp_path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
