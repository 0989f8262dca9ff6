"""The store under faults: created by several processes at once, copied after a
kill -9, corrupt, read-only: never a lost run, always one line within seconds."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import ROOT, SleepMeter, make_spec, run_cli, runs_of, start_training


def _one_line(proc) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr[-3000:]
    return lines[0]


_START_AT_ONCE = """
import os, sys, time
from src.tracking.mlflow_run import TrackedRun
go = sys.argv[2]
open(go + "." + str(os.getpid()), "w").close()  # ready: MLflow imported
while not os.path.exists(go):
    time.sleep(0.005)
TrackedRun.start(sys.argv[1], "mlvsdl", "p" + str(os.getpid()), {}, nested=False).finish()
"""


def test_processes_creating_a_new_store_at_once_all_record_their_run(tmp_path):
    """Each process migrates a new store's schema unless they take turns; without the
    lock one of them failed with `duplicate column name` or `table ... already exists`."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    go = tmp_path / "go"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _START_AT_ONCE, uri, str(go)],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("go.*"))) < len(procs) and time.monotonic() < deadline:
        time.sleep(0.05)
    go.touch()  # both start creating the store within a few milliseconds
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], "\n".join(e[-1500:] for e in errors)
    from mlflow.tracking import MlflowClient

    runs = runs_of(MlflowClient(uri))
    assert len(runs) == 2 and {r.info.status for r in runs} == {"FINISHED"}


def test_two_sweeps_started_at_once_on_a_new_store_record_two_parents_and_every_child(tmp_path, tracking_uri):
    def sweep(name: str, *args: str) -> subprocess.Popen:
        env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri}
        env.pop("HYDRA_FULL_ERROR", None)
        command = [sys.executable, "-m", "src.train", "-m", "seed=0,1,2", *args, f"hydra.sweep.dir={tmp_path / name}"]
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    first = sweep("a", "model=logistic_regression")
    second = sweep("b", "model=mlp", "trainer.max_epochs=2")
    for proc in (first, second):
        _, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr[-3000:]
    from mlflow.tracking import MlflowClient

    runs = runs_of(MlflowClient(tracking_uri))
    parents = [r for r in runs if r.data.tags.get("sweep") == "true"]
    assert len(parents) == 2
    for parent in parents:
        children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
        assert [c.info.status for c in children] == ["FINISHED"] * 3
        assert parent.data.metrics["n_jobs"] == 3


def test_a_copy_of_the_database_file_alone_after_kill_9_holds_every_printed_run(tmp_path):
    """The README's promise: a plain copy of mlflow.db opens like any SQLite file and
    holds every run that had printed its result, even after a kill -9 (no exit hook)."""
    store = tmp_path / "store" / "mlflow.db"
    uri = f"sqlite:///{store}"
    # An existing store: on a new one, the schema's creation fills the log past SQLite's
    # automatic checkpoint (1000 pages), which would hide the fault.
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"from src.tracking.mlflow_run import client_for as c, ensure_experiment as e; e(c('{uri}'), 'mlvsdl')",
        ],
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    proc = start_training(uri, tmp_path, "-m", "model=logistic_regression,mlp", "trainer.max_epochs=1000000")
    watchdog = threading.Timer(180, proc.kill)
    watchdog.start()
    try:
        printed = ""
        while "test_accuracy=" not in printed:
            line = proc.stdout.readline()
            assert line, f"the sweep ended before its first job printed: {proc.stderr.read()[-2000:]}"
            printed = line
        os.kill(proc.pid, signal.SIGKILL)  # the second job (the MLP) is training
        proc.wait(timeout=60)
    finally:
        watchdog.cancel()
    run_id = printed.split("[mlflow run ")[1].rstrip("]\n")
    copy = tmp_path / "copy.db"
    shutil.copyfile(store, copy)  # the database file alone, not its -wal
    rows = sqlite3.connect(copy).execute("SELECT status FROM runs WHERE run_uuid = ?", (run_id,)).fetchall()
    assert rows == [("FINISHED",)]


def test_a_corrupt_store_fails_a_run_and_the_report_in_one_line_within_seconds(tmp_path):
    store = tmp_path / "mlflow.db"
    store.write_bytes(b"not a database, a stray file " * 200)
    uri = f"sqlite:///{store}"
    meter = SleepMeter(tmp_path)
    proc = run_cli(f"tracking.uri={uri}", "model=logistic_regression", env=meter.env, timeout=120)
    assert proc.returncode == 2
    line = _one_line(proc)
    assert uri in line and "file is not a database" in line
    report = subprocess.run(
        [sys.executable, "-m", "src.report", "--tracking-uri", uri],
        cwd=ROOT,
        env={**os.environ, **meter.env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert report.returncode == 2 and uri in _one_line(report)
    # Within seconds: no retry waits (MLflow's own retries slept 100 s and more), whatever the load.
    assert meter.processes() == 2 and meter.slept() < 1.0


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder on a read-only file system, holding a store (root ignores permission bits)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True)
    except OSError as exc:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {exc}; the read-only check runs without it below")
    if done.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs here (needs root): {done.stderr.decode().strip()}; "
            "the read-only check runs without it below"
        )
    sqlite3.connect(folder / "mlflow.db").close()  # an empty SQLite database
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


def test_a_read_only_store_fails_a_run_in_one_line_within_seconds(read_only_folder, tmp_path):
    uri = f"sqlite:///{read_only_folder / 'mlflow.db'}"
    meter = SleepMeter(tmp_path)
    proc = run_cli(f"tracking.uri={uri}", "model=logistic_regression", env=meter.env, timeout=120)
    assert proc.returncode == 2
    assert f"cannot write to the MLflow store at {uri}" in _one_line(proc) and "read-only" in proc.stderr
    assert meter.processes() == 1 and meter.slept() < 1.0  # no retry waits


def test_a_store_the_file_system_will_not_write_fails_a_run_in_one_line_without_a_mount(tmp_path, monkeypatch):
    """The read-only fault wherever a tmpfs cannot be mounted (no root): the file system refuses
    writes to the store and its folder (os.access, as on a read-only mount), so the run stops at
    the store's check, in one line naming it, and the store is not touched."""
    from src.errors import UserError
    from src.job.runner import run

    store = tmp_path / "mlflow.db"
    sqlite3.connect(store).close()  # an empty SQLite database
    before = store.read_bytes()
    refused = {str(store), str(tmp_path)}
    real_access = os.access

    def access(path, mode, **kwargs):
        return not (mode & os.W_OK and str(path) in refused) and real_access(path, mode, **kwargs)

    monkeypatch.setattr(os, "access", access)
    uri = f"sqlite:///{store}"
    with pytest.raises(UserError, match=f"cannot write to the MLflow store at {uri}: .* is read-only"):
        run(make_spec(f"tracking.uri={uri}", "model=logistic_regression"))
    assert store.read_bytes() == before
