"""The shared tracking server, on real components: PostgreSQL, `mlflow server`,
parallel sweeps through the joblib launcher, and moving runs from SQLite.

PostgreSQL comes from Debian's `postgresql` package. `.ci/run` installs it and
exports MLVSDL_TEST_POSTGRES_URI (a throwaway cluster on loopback); without
that variable the tests start a throwaway cluster of their own from the
installed programs. They are skipped only where PostgreSQL cannot be started,
and under CI (CI=true) that is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from src.errors import UserError
from src.tracking import migrate as migration
from src.tracking.postgres import LocalPostgres, create_database, postgres_bindir
from src.tracking.remote_store import check_server
from src.tracking.server import server_command, wait_for_server
from tests.conftest import free_port, run_cli, skip_or_fail_under_ci
from tests.tracking.test_launchers import assert_every_metric_arrived

SECRETS = {
    "MLFLOW_TRACKING_USERNAME": "planted-user-7f3a",
    "MLFLOW_TRACKING_PASSWORD": "planted-secret-123",
    "AWS_SECRET_ACCESS_KEY": "planted-aws-key-9q8w",
}
TINY = ("dataset=workshop_circles", "trainer.max_epochs=2")


# ------------------------------------------------------------ fail fast, no PostgreSQL needed


def _one_line_error(proc) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize("sweep", [(), ("-m", "hydra/launcher=joblib", "seed=0,1")], ids=["run", "joblib-sweep"])
def test_an_unreachable_server_fails_fast_naming_its_url(sweep, tmp_path):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    proc = run_cli(
        *sweep,
        "tracking=server",
        *TINY,
        f"hydra.sweep.dir={tmp_path / 'multirun'}",
        env={"MLFLOW_SERVER_URI": url},
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    line = _one_line_error(proc)
    # How fast (MLflow's own retries would take minutes) is measured by `make bench`.
    assert url in line and "unreachable" in line and "Connection refused" in line


def test_a_server_that_never_answers_times_out_quickly():
    with socket.socket() as listener:  # accepts connections (backlog), never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with pytest.raises(UserError, match="unreachable") as info:
            check_server(url, timeout=0.5)
    assert url in str(info.value) and "timed out" in str(info.value)


def test_credentials_in_the_tracking_uri_are_refused_without_echoing_them():
    with pytest.raises(UserError) as info:
        check_server("http://alice:s3cret@127.0.0.1:5001")
    assert "s3cret" not in str(info.value) and "MLFLOW_TRACKING_PASSWORD" in str(info.value)


# ------------------------------------------------------------ migration, SQLite -> SQLite


def _populate(uri: str, artifact_dir: Path) -> dict[str, str]:
    """A source store: an experiment with a parent, a child with metric
    history and nested artifacts, and a failed run."""
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    exp = client.create_experiment("legacy", artifact_location=str(artifact_dir), tags={"team": "ml"})
    parent = client.create_run(exp, run_name="sweep", start_time=1_700_000_000_000, tags={"sweep": "true"})
    child = client.create_run(
        exp,
        run_name="mlp-s0",
        start_time=1_700_000_001_000,
        tags={"mlflow.parentRunId": parent.info.run_id, "model": "mlp"},
    )
    failed = client.create_run(exp, run_name="bad", start_time=1_700_000_002_000)
    history = [Metric("train_loss", 1.0 / (step + 1), 1_700_000_001_000 + step, step) for step in range(1500)]
    client.log_batch(child.info.run_id, metrics=history[:1000])
    client.log_batch(
        child.info.run_id,
        metrics=history[1000:] + [Metric("test_accuracy", 0.875, 1_700_000_009_000, 0)],
        params=[Param("optimizer.lr", "0.01"), Param("model.hidden_sizes", "[4]")],
        tags=[RunTag("status_reason", "ok")],
    )
    files = tempfile.mkdtemp()
    Path(files, "plots").mkdir()
    Path(files, "config.yaml").write_text("model: mlp\n")
    Path(files, "plots", "loss.png").write_bytes(b"\x89PNG fake")
    client.log_artifacts(child.info.run_id, files)
    shutil.rmtree(files)
    client.set_terminated(child.info.run_id, "FINISHED", end_time=1_700_000_010_000)
    client.set_tag(failed.info.run_id, "error", "boom")
    client.set_terminated(failed.info.run_id, "FAILED", end_time=1_700_000_003_000)
    client.set_terminated(parent.info.run_id, "FINISHED", end_time=1_700_000_011_000)
    return {"parent": parent.info.run_id, "child": child.info.run_id, "failed": failed.info.run_id}


def _check_copy(source: str, destination: str, ids: dict[str, str]) -> dict:
    from mlflow.tracking import MlflowClient

    src, dst = MlflowClient(source), MlflowClient(destination)
    exp = dst.get_experiment_by_name("legacy")
    assert exp is not None and exp.tags.get("team") == "ml"
    copies = {r.data.tags[migration.MIGRATED_FROM]: r for r in dst.search_runs([exp.experiment_id])}
    assert set(copies) == set(ids.values())
    for source_id, copy in copies.items():
        original = src.get_run(source_id)
        assert copy.info.run_name == original.info.run_name
        assert copy.info.status == original.info.status
        assert (copy.info.start_time, copy.info.end_time) == (original.info.start_time, original.info.end_time)
        assert copy.data.params == original.data.params
        assert copy.data.metrics == original.data.metrics
        for key, value in original.data.tags.items():
            if key != "mlflow.parentRunId":
                assert copy.data.tags.get(key) == value, key
    child = copies[ids["child"]]
    assert child.data.tags["mlflow.parentRunId"] == copies[ids["parent"]].info.run_id
    history = dst.get_metric_history(child.info.run_id, "train_loss")
    assert [(m.step, m.value, m.timestamp) for m in sorted(history, key=lambda m: m.step)] == [
        (step, 1.0 / (step + 1), 1_700_000_001_000 + step) for step in range(1500)
    ]
    top = {a.path for a in dst.list_artifacts(child.info.run_id)}
    assert top == {"config.yaml", "plots"}
    assert [a.path for a in dst.list_artifacts(child.info.run_id, "plots")] == ["plots/loss.png"]
    with tempfile.TemporaryDirectory() as tmp:
        local = dst.download_artifacts(child.info.run_id, "plots/loss.png", tmp)
        assert Path(local).read_bytes() == b"\x89PNG fake"
    return copies


def test_migrate_copies_runs_metrics_history_and_artifacts_and_is_resumable(tmp_path, capsys):
    source = f"sqlite:///{tmp_path / 'old.db'}"
    destination = f"sqlite:///{tmp_path / 'new.db'}"
    ids = _populate(source, tmp_path / "old-artifacts")

    # An interrupted earlier copy of the child: incomplete, so it is replaced.
    from mlflow.tracking import MlflowClient

    dst = MlflowClient(destination)
    exp = dst.create_experiment("legacy", artifact_location=str(tmp_path / "new-artifacts"))
    half = dst.create_run(exp, tags={migration.MIGRATED_FROM: ids["child"]}).info.run_id

    assert migration.main(["--from", source, "--to", destination]) == 0
    assert "3 run(s) copied" in capsys.readouterr().out
    _check_copy(source, destination, ids)
    assert dst.get_run(half).info.lifecycle_stage == "deleted"

    # A second call copies nothing twice.
    assert migration.main(["--from", source, "--to", destination]) == 0
    out = capsys.readouterr().out
    assert "0 run(s) copied" in out and "3 already there" in out
    assert len(dst.search_runs([exp])) == 3


def test_migrate_dry_run_reports_what_it_would_copy_and_writes_nothing(tmp_path, capsys):
    from mlflow.tracking import MlflowClient

    source = f"sqlite:///{tmp_path / 'old.db'}"
    ids = _populate(source, tmp_path / "old-artifacts")
    fresh = tmp_path / "new.db"
    assert migration.main(["--from", source, "--to", f"sqlite:///{fresh}", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "experiment legacy: 3 run(s) to copy, 0 already there (dry run)" in out
    assert "dry run: 3 run(s) would be copied from 1 experiment(s); 0 already there" in out
    assert not fresh.exists()  # not even an empty store

    # A destination holding one complete copy and one cut short: neither is touched.
    destination = f"sqlite:///{tmp_path / 'partial.db'}"
    dst = MlflowClient(destination)
    exp = dst.create_experiment("legacy", artifact_location=str(tmp_path / "partial-artifacts"))
    done = dst.create_run(exp, tags={migration.MIGRATED_FROM: ids["parent"], migration.COMPLETE: "true"})
    half = dst.create_run(exp, tags={migration.MIGRATED_FROM: ids["child"]})
    before = {r.info.run_id: (r.info.lifecycle_stage, r.data.tags) for r in dst.search_runs([exp])}
    assert migration.main(["--from", source, "--to", destination, "--dry-run"]) == 0
    assert "2 run(s) would be copied from 1 experiment(s); 1 already there" in capsys.readouterr().out
    after = {r.info.run_id: (r.info.lifecycle_stage, r.data.tags) for r in dst.search_runs([exp])}
    assert after == before and set(after) == {done.info.run_id, half.info.run_id}
    assert dst.get_run(half.info.run_id).info.lifecycle_stage == "active"


def test_migrate_refuses_a_missing_source(tmp_path, capsys):
    code = migration.main(["--from", f"sqlite:///{tmp_path / 'none.db'}", "--to", f"sqlite:///{tmp_path / 'x.db'}"])
    assert code == 2 and "no SQLite store" in capsys.readouterr().err


# ------------------------------------------------------------ PostgreSQL + mlflow server


@dataclass
class Server:
    uri: str
    store: str
    artifacts: Path


def _unavailable(reason: str):
    skip_or_fail_under_ci(
        f"PostgreSQL cannot be started here, so the tracking-server test cannot run: {reason} "
        "(.ci/run installs PostgreSQL)"
    )


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    """The admin URI of a PostgreSQL server on loopback."""
    if os.environ.get("MLVSDL_TEST_POSTGRES_URI"):
        yield os.environ["MLVSDL_TEST_POSTGRES_URI"]
        return
    if postgres_bindir() is None:
        _unavailable("no initdb found (install Debian's postgresql package: apt-get install postgresql)")
    if os.geteuid() == 0:
        # PostgreSQL runs as the `postgres` user, which cannot enter pytest's
        # private /tmp/pytest-of-root: a directory of its own under /tmp.
        datadir = Path(tempfile.mkdtemp(prefix="mlvsdl-pg-"))
        datadir.chmod(0o755)
    else:
        datadir = tmp_path_factory.mktemp("pg")
    cluster = LocalPostgres(datadir / "data", free_port(), throwaway=True)
    try:
        cluster.start()
    except UserError as exc:
        _unavailable(str(exc))
    try:
        yield cluster.uri("postgres")
    finally:
        cluster.stop()
        if os.geteuid() == 0:
            shutil.rmtree(datadir, ignore_errors=True)


@pytest.fixture(scope="module")
def server(postgres, tmp_path_factory):
    """`mlflow server` on a fresh PostgreSQL database, artifacts in a local folder."""
    workdir = tmp_path_factory.mktemp("mlflow-server")
    store = create_database(postgres, f"mlflow_{uuid.uuid4().hex[:10]}")
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    log = workdir / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            server_command(store, workdir / "artifacts", port=port, workers=2),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        try:
            wait_for_server(uri, process, timeout=240)
        except UserError as exc:
            pytest.fail(f"{exc}\n{log.read_text()[-3000:]}")
        yield Server(uri, store, workdir / "artifacts")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # a throwaway: its data is in PostgreSQL already
            process.wait(timeout=30)


def _sweep(server: Server, experiment: str, sweep_dir: Path, *overrides: str, n_jobs: int):
    proc = run_cli(
        "-m",
        "tracking=server",
        f"tracking.experiment={experiment}",
        "hydra/launcher=joblib",
        f"hydra.launcher.n_jobs={n_jobs}",
        f"hydra.sweep.dir={sweep_dir}",
        *overrides,
        env={"MLFLOW_SERVER_URI": server.uri, **SECRETS},
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    from mlflow.tracking import MlflowClient

    client = MlflowClient(server.uri)
    exp = client.get_experiment_by_name(experiment)
    runs = client.search_runs([exp.experiment_id])
    parents = [r for r in runs if r.data.tags.get("sweep") == "true"]
    assert len(parents) == 1, [r.info.run_name for r in runs]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert len(children) == len(runs) - 1
    return client, exp, parents[0], children


def _rows_in_postgres(store: str, experiment_id: str) -> int:
    import psycopg

    with psycopg.connect(store) as connection:
        return connection.execute(
            "SELECT count(*) FROM runs WHERE experiment_id = %s", (int(experiment_id),)
        ).fetchone()[0]


def _assert_no_secret(client, runs, tmp_path: Path) -> None:
    for run in runs:
        for key, value in {**run.data.params, **run.data.tags}.items():
            for secret in SECRETS.values():
                assert secret not in value, f"{secret} in {key} of {run.info.run_name}"
        local = Path(client.download_artifacts(run.info.run_id, "", str(tmp_path / run.info.run_id)))
        for path in (p for p in local.rglob("*") if p.is_file()):
            data = path.read_bytes()
            for secret in SECRETS.values():
                assert secret.encode() not in data, f"{secret} in artifact {path.name} of {run.info.run_name}"


def test_a_parallel_sweep_of_a_deep_and_a_classical_model_records_on_the_server(server, tmp_path):
    client, exp, parent, children = _sweep(
        server,
        "server-sweep",
        tmp_path / "multirun",
        *TINY,
        "model=mlp,logistic_regression",
        "tracking.plots=true",
        n_jobs=2,
    )
    assert parent.data.tags["launcher"] == "JoblibLauncher"
    by_family = {c.data.tags["model_family"]: c for c in children}
    assert set(by_family) == {"deep", "classical"} and len(children) == 2
    for child in children:
        assert child.info.status == "FINISHED"
        assert {"test_accuracy", "test_f1_macro", "fit_time_s", "predict_time_s"} <= set(child.data.metrics)
        artifacts = {a.path for a in client.list_artifacts(child.info.run_id)}
        assert {"config.yaml", "confusion_matrix.png", "classification_report.txt"} <= artifacts, artifacts
    deep = by_family["deep"]
    assert [m.step for m in client.get_metric_history(deep.info.run_id, "train_loss")] == [0, 1]
    assert "loss_curves.png" in {a.path for a in client.list_artifacts(deep.info.run_id)}
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["n_jobs"] == 2 and parent.data.metrics["n_failed"] == 0
    assert {"summary.md", "summary.csv"} <= {a.path for a in client.list_artifacts(parent.info.run_id)}

    # The records are in PostgreSQL and the files in the server's artifact store.
    assert _rows_in_postgres(server.store, exp.experiment_id) == 3
    stored = {p.name for p in server.artifacts.rglob("*") if p.is_file()}
    assert {"config.yaml", "confusion_matrix.png", "summary.md"} <= stored

    # MLflow's credentials and cloud keys were in the jobs' environment: none reached the runs.
    _assert_no_secret(client, [parent, *children], tmp_path / "downloads")


def test_four_parallel_jobs_record_every_run_and_metric_on_the_server(server, tmp_path):
    client, _, parent, children = _sweep(
        server,
        "server-concurrency",
        tmp_path / "multirun",
        *TINY,
        "trainer.max_epochs=3",
        "model.hidden_sizes=[4]",
        "seed=0,1,2,3",
        n_jobs=4,
    )
    assert sorted(c.data.tags["seed"] for c in children) == ["0", "1", "2", "3"]
    assert parent.data.metrics["n_jobs"] == 4
    assert_every_metric_arrived(
        client, children, epochs=3, keys=("train_loss", "val_loss", "val_accuracy", "test_accuracy", "fit_time_s")
    )


def test_runs_move_from_the_sqlite_store_to_the_server(server, tmp_path, capsys):
    source = f"sqlite:///{tmp_path / 'mlflow.db'}"
    ids = _populate(source, tmp_path / "artifacts")
    assert migration.main(["--from", source, "--to", server.uri]) == 0
    assert "3 run(s) copied" in capsys.readouterr().out
    _check_copy(source, server.uri, ids)
