"""A -m sweep is one parent MLflow run with one child per job and a summary."""

from pathlib import Path
from types import SimpleNamespace

from src.tracking.sweep_summary import summary_markdown, sweep_summary
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


def _sweep_dir(tmp_path) -> str:
    return f"hydra.sweep.dir={tmp_path / 'multirun'}"  # not the checkout's multirun/


def test_a_failing_job_is_recorded_and_the_others_still_run(mlflow_client, tmp_path):
    proc = run_cli("-m", *FAST, "optimizer.lr=1e6,0.001", _sweep_dir(tmp_path))
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


def test_job_names_show_what_the_sweep_varies_and_the_lines_show_its_progress(mlflow_client, tmp_path):
    """Every job's name holds its n_train, seed and other swept values, unique in
    the sweep; the summary has a column per swept value; each job's line says
    [i/N] with the elapsed time and an estimate of the rest."""
    import re

    proc = run_cli(
        "-m", *FAST[:-1], "model=mlp,linear_regression", "dataset.train_size=16,32", "optimizer.lr=0.01,0.001",
        _sweep_dir(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    parent, children = _parent_and_children(mlflow_client)
    names = sorted(c.info.run_name for c in children)
    expected = sorted(
        f"{model}-workshop_regression-n{n}-s0-lr={lr}"
        for model in ("mlp", "linear_regression")
        for n in (16, 32)
        for lr in ("0.01", "0.001")
    )
    assert names == expected  # 8 distinct names
    assert all(c.info.run_name.split("-")[2] == f"n{c.data.params['n_train']}" for c in children)
    lines = [line for line in proc.stdout.splitlines() if "[mlflow run" in line]
    assert len(lines) == 8
    for i, line in enumerate(lines, start=1):
        assert re.match(rf"\[{i}/8 \d+:\d\d elapsed, ~\d+:\d\d left\] \S+-n(16|32)-s0-lr=", line), line
    summary = Path(mlflow_client.download_artifacts(parent.info.run_id, "summary.md", str(tmp_path))).read_text()
    header = next(line for line in summary.splitlines() if line.startswith("| run"))
    assert "| n_train |" in header and "| optimizer.lr |" in header
    assert "| mlp | workshop_regression | 16 | 0 | 0.01 | FINISHED |" in summary
    assert "| linear_regression | workshop_regression | 16 | 0 |  | FINISHED |" in summary  # it reads no lr


def test_a_config_error_in_one_job_is_recorded_as_a_failed_child(mlflow_client, tmp_path):
    proc = run_cli(
        "-m", "dataset=digits", "trainer.max_epochs=2", "model.hidden_sizes=[4]", "loss=auto,bce", _sweep_dir(tmp_path)
    )
    assert proc.returncode == 1
    _, children = _parent_and_children(mlflow_client)
    statuses = {c.data.params.get("loss.name", c.info.run_name): c.info.status for c in children}
    assert sorted(c.info.status for c in children) == ["FAILED", "FINISHED"]
    failed = next(c for c in children if c.info.status == "FAILED")
    assert "does not fit a multiclass task" in failed.data.tags["error"], statuses


def test_ddp_inside_a_sweep_is_refused_with_a_clear_message(mlflow_client, tmp_path):
    proc = run_cli("-m", *FAST, "trainer.strategy=ddp", "seed=0,1", _sweep_dir(tmp_path))
    assert proc.returncode == 1
    assert "ddp_spawn" in proc.stderr


def _child(name, status, tags, metrics, params):
    return SimpleNamespace(
        info=SimpleNamespace(run_name=name, status=status),
        data=SimpleNamespace(tags=tags, metrics=metrics, params=params),
    )


def test_the_summary_table_shows_a_missing_value_as_an_empty_cell():
    tags = {"model": "mlp", "dataset": "d", "main_metric": "test_mse"}
    children = [
        _child("b", "FAILED", {**tags, "seed": "1", "status_reason": "diverged"}, {}, {}),
        _child(
            "a",
            "FINISHED",
            {**tags, "seed": "0"},
            {"test_mse": 1.23456, "fit_time_s": 2.0},
            {"n_params": "25", "n_train": "64"},
        ),  # fmt: skip
    ]
    text = summary_markdown(sweep_summary(children), ["b: training diverged"])
    assert text == (
        "# Sweep summary\n\n"
        "| run | model | dataset | n_train | seed | status | test_mse | fit_time_s | predict_time_s | n_params |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n"
        "| a | mlp | d | 64 | 0 | FINISHED | 1.235 | 2 |  | 25 |\n"
        "| b | mlp | d |  | 1 | FAILED (diverged) |  |  |  |  |\n"
        "\n## Failed jobs\n\n- b: training diverged\n"
    )
    assert summary_markdown(sweep_summary([]), []) == "# Sweep summary\n\nNo runs were recorded.\n"
