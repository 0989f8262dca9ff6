"""Secrets in the environment never reach a run; the UI and the server listen
on loopback unless told otherwise."""

from __future__ import annotations

import inspect
import subprocess
from pathlib import Path

import pytest

from src.job.runner import run
from src.tracking import server
from tests.conftest import ROOT, free_port, make_spec, runs_of

PLANTED = {
    "MLFLOW_TRACKING_USERNAME": "planted-user-5e6f",
    "MLFLOW_TRACKING_PASSWORD": "planted-secret-123",
    "MLFLOW_TRACKING_TOKEN": "planted-token-0a1b",
    "AWS_ACCESS_KEY_ID": "AKIAPLANTED0000XYZ",
    "AWS_SECRET_ACCESS_KEY": "planted-aws-secret-9q8w",
    "AZURE_STORAGE_ACCESS_KEY": "planted-azure-key-3c4d",
    "GOOGLE_APPLICATION_CREDENTIALS": "/planted/gcp-credentials.json",
}


def test_planted_secrets_reach_no_param_tag_or_artifact(mlflow_client, monkeypatch, tmp_path):
    for name, value in PLANTED.items():
        monkeypatch.setenv(name, value)
    for model in ("mlp", "logistic_regression"):  # a deep and a classical run
        run(make_spec("dataset=workshop_circles", "trainer.max_epochs=2", f"model={model}"))
    records = runs_of(mlflow_client)
    assert len(records) == 2
    for record in records:
        assert record.info.status == "FINISHED"
        fields = {**record.data.params, **record.data.tags, "run_name": record.info.run_name}
        assert len(record.data.params) > 20  # the whole resolved config was logged, and is searched
        local = Path(mlflow_client.download_artifacts(record.info.run_id, "", str(tmp_path / record.info.run_id)))
        files = [p for p in local.rglob("*") if p.is_file()]
        assert any(p.name == "config.yaml" for p in files)
        for secret in PLANTED.values():
            leaks = [key for key, value in fields.items() if secret in str(value)]
            leaks += [str(p.relative_to(local)) for p in files if secret.encode() in p.read_bytes()]
            assert not leaks, f"{secret} leaked into {leaks} of {record.info.run_name}"


def _dry_run(target: str) -> str:
    return subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("target", ["ui", "server"])
def test_the_ui_and_the_server_bind_to_loopback_by_default(target):
    commands = _dry_run(target)
    assert "--host 127.0.0.1" in commands
    assert "0.0.0.0" not in commands


def test_the_server_helpers_default_to_loopback():
    assert inspect.signature(server.server_command).parameters["host"].default == "127.0.0.1"
    command = server.server_command("postgresql://x@127.0.0.1/db", "/tmp/a")
    assert command[command.index("--host") + 1] == "127.0.0.1"


SECRET = "planted-pw-77"


def _files_holding(folder: Path, secret: str) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


@pytest.mark.parametrize("sweep", [(), ("-m", "seed=0,1")], ids=["run", "sweep"])
def test_an_unreachable_database_uri_with_a_password_fails_fast_without_showing_it(sweep, tmp_path):
    from tests.conftest import SleepMeter, run_cli

    uri = f"postgresql+psycopg://alice:{SECRET}@127.0.0.1:{free_port()}/mlflow"  # nothing listens there
    meter = SleepMeter(tmp_path / "meter")
    proc = run_cli(*sweep, "model=logistic_regression", f"hydra.run.dir={tmp_path / 'run'}",
                   f"hydra.sweep.dir={tmp_path / 'sweep'}", env={"MLFLOW_TRACKING_URI": uri, **meter.env},
                   timeout=120)  # fmt: skip
    assert meter.processes() == 1 and meter.slept() < 1.0  # fails fast: no connection retries, whatever the load
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "alice:***@127.0.0.1" in lines[0] and "cannot be reached" in lines[0], proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
    assert not _files_holding(tmp_path, SECRET)


def test_a_password_on_the_command_line_is_refused_before_hydra_writes_anything(tmp_path):
    from tests.conftest import run_cli

    uri = f"postgresql+psycopg://alice:{SECRET}@db.example:5432/mlflow"
    proc = run_cli(f"tracking.uri={uri}", f"hydra.run.dir={tmp_path / 'run'}", timeout=60)
    assert proc.returncode == 2
    assert "alice:***@db.example" in proc.stderr and "PGPASSWORD" in proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
    assert not (tmp_path / "run").exists()


def test_a_password_in_a_configured_uri_reaches_no_param_artifact_or_error_tag(mlflow_client, tracking_uri):
    from omegaconf import OmegaConf

    from src.tracking.mlflow_run import TrackedRun, flatten

    cfg = make_spec(f"tracking.uri=postgresql+psycopg://alice:{SECRET}@db.example/mlflow")
    recorded = cfg.recorded()  # what becomes the params and the config.yaml artifact
    assert recorded["tracking"]["uri"] == "postgresql+psycopg://alice:***@db.example/mlflow"
    assert SECRET not in str(flatten(recorded)) and SECRET not in OmegaConf.to_yaml(recorded)

    with pytest.raises(RuntimeError), TrackedRun.start(tracking_uri, "mlvsdl", "r", {}):
        raise RuntimeError(f"could not reach mysql://bob:{SECRET}@db.example/x")
    (record,) = runs_of(mlflow_client)
    assert record.data.tags["error"] == "could not reach mysql://bob:***@db.example/x"


@pytest.mark.parametrize(
    "text, shown",
    [
        ("postgresql+psycopg://alice:p@ss:w0rd@db:5432/mlflow", "postgresql+psycopg://alice:***@db:5432/mlflow"),
        ("error at mysql://bob:pw@h/db; retry", "error at mysql://bob:***@h/db; retry"),
        ("https://:token@host/path", "https://:***@host/path"),
        ("sqlite:////tmp/a:b/mlflow.db", "sqlite:////tmp/a:b/mlflow.db"),  # no password to hide
        ("http://user@host:5000", "http://user@host:5000"),
    ],
)
def test_every_uri_password_is_masked_and_nothing_else(text, shown):
    from src.tracking.secrets import has_password, mask_secrets

    assert mask_secrets(text) == shown
    assert has_password(text) == (shown != text)
