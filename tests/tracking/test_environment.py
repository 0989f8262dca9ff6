"""Environment faults: the store cannot be written, the disk is full, a package is missing."""

import subprocess

import pytest

from src.errors import DataError
from src.job.runner import run
from tests.conftest import make_spec, run_cli, runs_of


def _one_line(proc) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_an_unwritable_store_fails_in_one_line():
    proc = run_cli("tracking.uri=sqlite:////etc/hostname/mlflow.db", "trainer.max_epochs=1")
    assert proc.returncode == 2
    assert "cannot write to the MLflow store at sqlite:////etc/hostname/mlflow.db" in _one_line(proc)


def test_a_full_disk_under_the_store_fails_in_one_line():
    proc = run_cli("tracking.uri=sqlite:////dev/full", "trainer.max_epochs=1")
    assert proc.returncode == 2
    assert "database or disk is full" in _one_line(proc)


@pytest.fixture
def tiny_disk(tmp_path):
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(mount_point)], capture_output=True, text=True
        )
        failure = done.stderr.strip() if done.returncode != 0 else None
    except OSError as exc:  # no mount program
        failure = str(exc)
    if failure is not None:
        pytest.skip(
            f"cannot mount a small tmpfs here to fill a disk (needs root): {failure}; the next test runs without it"
        )
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=False)


def test_a_full_artifact_disk_marks_the_run_failed_and_keeps_its_metrics(mlflow_client, tiny_disk):
    mlflow_client.create_experiment("mlvsdl", artifact_location=str(tiny_disk))
    # The pictures (tens of kB) do not fit in the 16 kB disk.
    proc = run_cli("experiment=workshop_circles", "trainer.max_epochs=3", "tracking.plots=true")
    assert proc.returncode == 1
    assert "No space left on device" in _one_line(proc)
    (record,) = runs_of(mlflow_client)
    assert record.info.status == "FAILED" and "No space left" in record.data.tags["error"]
    assert "test_accuracy" in record.data.metrics  # what was computed is kept


def test_an_artifact_write_that_finds_the_disk_full_marks_the_run_failed_and_keeps_its_metrics(
    mlflow_client, monkeypatch
):
    """The full disk wherever a tmpfs cannot be mounted (no root): MLflow's artifact store
    raises ENOSPC, as it does on a full disk."""
    import errno

    from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(LocalArtifactRepository, "log_artifacts", full)
    with pytest.raises(OSError, match="No space left on device"):
        run(make_spec("experiment=workshop_circles", "trainer.max_epochs=3"))
    (record,) = runs_of(mlflow_client)
    assert record.info.status == "FAILED" and "No space left" in record.data.tags["error"]
    assert "test_accuracy" in record.data.metrics  # what was computed is kept


def test_a_missing_optional_package_names_it(mlflow_client, monkeypatch):
    import sys

    from src.data.generated import mnist1d_arrays

    mnist1d_arrays.cache_clear()
    monkeypatch.setitem(sys.modules, "mnist1d", None)
    monkeypatch.setitem(sys.modules, "mnist1d.data", None)
    with pytest.raises(DataError, match="needs the 'mnist1d' package"):
        run(make_spec("dataset=mnist1d", "trainer.max_epochs=1"))
    (record,) = runs_of(mlflow_client)
    assert record.info.status == "FAILED"
    mnist1d_arrays.cache_clear()
