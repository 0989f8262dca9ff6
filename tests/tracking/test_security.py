"""Secrets in the environment never reach a run; the UI and the server listen
on loopback unless told otherwise."""

from __future__ import annotations

import inspect
import subprocess
from pathlib import Path

import pytest

from src.tracking import server
from src.training.runner import run
from tests.conftest import ROOT, make_config, runs_of

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
        run(make_config("dataset=workshop_circles", "trainer.max_epochs=2", f"model={model}"))
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
