"""The SQLite store's journal mode: WAL while this process writes, plain on disk after."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

from tests.conftest import ROOT


def test_wal_only_for_the_store_and_reset_at_exit(tmp_path):
    store, other = tmp_path / "mlflow.db", tmp_path / "other.db"
    script = textwrap.dedent(f"""
        import sqlite3
        from sqlalchemy import create_engine, text
        from src.tracking.mlflow_run import client_for, ensure_experiment

        ensure_experiment(client_for("sqlite:///{store}"), "x")
        with create_engine("sqlite:///{other}").connect() as unrelated:
            print(unrelated.execute(text("PRAGMA journal_mode")).scalar())
        reader = sqlite3.connect("{store}")
        print(reader.execute("PRAGMA journal_mode").fetchone()[0])
        reader.close()
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["delete", "wal"]  # the unrelated database untouched; the store in WAL
    # After the process: a plain SQLite file that a read-only copy or mount can open.
    assert sqlite3.connect(store).execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert not (tmp_path / "mlflow.db-wal").exists()
    read_only = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    assert read_only.execute("SELECT name FROM experiments WHERE name = 'x'").fetchone() == ("x",)


def test_store_left_in_wal_by_another_process_is_reset(tmp_path):
    store = tmp_path / "mlflow.db"
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"from src.tracking.mlflow_run import client_for; client_for('sqlite:///{store}').search_experiments()",
        ],
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    sqlite3.connect(store).execute("PRAGMA journal_mode=WAL").fetchone()  # as if a process had been SIGKILLed
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"from src.tracking.mlflow_run import client_for; client_for('sqlite:///{store}').search_experiments()",
        ],
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    assert sqlite3.connect(store).execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_a_top_level_run_ignores_the_sweep_parent_and_stays_open_until_finished(tmp_path, monkeypatch):
    """How a sweep's parent and a report start their runs: TrackedRun.start(nested=False)."""
    from mlflow.tracking import MlflowClient

    from src.tracking.mlflow_run import PARENT_RUN_ENV, TrackedRun

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv(PARENT_RUN_ENV, "some-other-sweep")
    parent = TrackedRun.start(uri, "x", "sweep-x", {"sweep": "true"}, nested=False)
    child = TrackedRun.start(uri, "x", "job", {})
    client = MlflowClient(uri)
    assert "mlflow.parentRunId" not in client.get_run(parent.run_id).data.tags
    assert client.get_run(child.run_id).data.tags["mlflow.parentRunId"] == "some-other-sweep"
    child.finish()
    assert client.get_run(parent.run_id).info.status == "RUNNING"
    parent.add_metrics({"n_jobs": 1})
    parent.finish("KILLED")
    finished = client.get_run(parent.run_id)
    assert finished.info.status == "KILLED" and finished.data.metrics["n_jobs"] == 1


def test_the_report_leaves_the_store_in_rollback_journal_mode(tmp_path):
    # Regression: the report opened the store with a plain MlflowClient before
    # client_for, and that untuned connection kept the reset from taking the file.
    store = tmp_path / "mlflow.db"
    env = {**__import__("os").environ, "MLFLOW_TRACKING_URI": f"sqlite:///{store}"}
    subprocess.run(
        [
            sys.executable,
            "-c",
            # One finished run of study main: a report of no runs is an error, not a report.
            f"from src.tracking.mlflow_run import TrackedRun; "
            f"r = TrackedRun.start('sqlite:///{store}', 'mlvsdl', 'r', "
            f"{{'study': 'main', 'model': 'm', 'dataset': 'd', 'main_metric': 'test_accuracy'}}); "
            f"r.add_metrics({{'test_accuracy': 0.5}}); r.finish()",
        ],
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    out = tmp_path / "report"
    report = subprocess.run(
        [sys.executable, "-m", "src.report", "--study", "main", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert report.returncode == 0, report.stderr
    assert "# Report: main" in (out / "report.md").read_text()
    assert "[mlflow report run " in report.stdout  # the report wrote its run into the store
    assert sqlite3.connect(store).execute("PRAGMA journal_mode").fetchone()[0] == "delete"
