"""A -m sweep is one parent MLflow run with one child per job and a summary."""

from pathlib import Path

from tests.conftest import run_cli, runs_of

FAST = (
    "dataset=workshop_regression",
    "optimizer=minibatch_sgd",
    "dataset.standardize=false",
    "trainer.max_epochs=3",
    "model.hidden_sizes=[4]",
)


def _parent_and_children(client):
    runs = runs_of(client)
    parents = [r for r in runs if r.data.tags.get("sweep") == "true"]
    assert len(parents) == 1, [r.info.run_name for r in runs]
    parent = parents[0]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    return parent, children


def test_a_failing_job_is_recorded_and_the_others_still_run(mlflow_client):
    proc = run_cli("-m", *FAST, "optimizer.lr=1e6,0.001")
    assert proc.returncode == 1  # the sweep says that something failed
    assert "1 job(s) of the sweep failed" in proc.stderr
    parent, children = _parent_and_children(mlflow_client)
    assert parent.info.status == "FINISHED"
    assert sorted(c.info.status for c in children) == ["FAILED", "FINISHED"]
    failed = next(c for c in children if c.info.status == "FAILED")
    assert failed.data.tags["status_reason"] == "diverged"
    assert parent.data.metrics["n_failed"] == 1 and parent.data.metrics["n_jobs"] == 2
    assert len({c.info.run_name for c in children}) == 2  # distinct names

    artifacts = {a.path for a in mlflow_client.list_artifacts(parent.info.run_id)}
    assert {"summary.md", "summary.csv"} <= artifacts
    summary = mlflow_client.download_artifacts(parent.info.run_id, "summary.md")
    text = Path(summary).read_text()
    assert "test_mse" in text and "FAILED (diverged)" in text and "fit_time_s" in text
    assert "# Sweep summary" in proc.stdout and "| test_mse |" in proc.stdout


def test_a_config_error_in_one_job_is_recorded_as_a_failed_child(mlflow_client):
    proc = run_cli("-m", "dataset=digits", "trainer.max_epochs=2", "model.hidden_sizes=[4]", "loss=auto,bce")
    assert proc.returncode == 1
    _, children = _parent_and_children(mlflow_client)
    statuses = {c.data.params.get("loss.name", c.info.run_name): c.info.status for c in children}
    assert sorted(c.info.status for c in children) == ["FAILED", "FINISHED"]
    failed = next(c for c in children if c.info.status == "FAILED")
    assert "does not fit a multiclass task" in failed.data.tags["error"], statuses


def test_ddp_inside_a_sweep_is_refused_with_a_clear_message(mlflow_client):
    proc = run_cli("-m", *FAST, "trainer.strategy=ddp", "seed=0,1")
    assert proc.returncode == 1
    assert "ddp_spawn" in proc.stderr
