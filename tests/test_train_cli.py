"""`python -m src.train` as a user runs it: one-line errors, exit codes, printed metrics.

Exit codes (README "Faults"): 2 for a usage or config error (a bad override, a value out of its
range, a bad data file), 1 for a run that failed, 130 when interrupted.
"""

import pytest

from tests.conftest import run_cli, runs_of


def _one_line_error(proc) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize(
    "override, expected",
    [
        ("model.no_such_key=1", "no_such_key"),
        ("optimizer.lr=fast", "optimizer.lr"),
        ("model.init=bogus", "model.init"),
        ("dataset=no_such_dataset", "digits"),  # lists the valid options
    ],
)
def test_bad_config_fails_with_one_line_naming_the_problem(override, expected, tracking_uri, mlflow_client):
    proc = run_cli(override)
    assert proc.returncode == 2, proc.stderr
    assert expected in _one_line_error(proc)
    assert runs_of(mlflow_client) == []  # nothing started, nothing left RUNNING


def test_a_loss_that_does_not_fit_the_task_is_refused_before_training(tracking_uri, mlflow_client):
    proc = run_cli("dataset=digits", "loss=bce")
    assert proc.returncode == 2, proc.stderr
    line = _one_line_error(proc)
    assert "bce" in line and "multiclass" in line and "cross_entropy" in line
    assert runs_of(mlflow_client) == []


def test_help_lists_the_config_groups():
    proc = run_cli("--help")
    assert proc.returncode == 0
    for group in ("dataset", "model", "activation", "loss", "optimizer", "trainer", "experiment"):
        assert group in proc.stdout


def test_the_workshop_experiment_prints_its_test_metric(tracking_uri, mlflow_client):
    proc = run_cli("experiment=workshop_circles", "trainer.max_epochs=5")
    assert proc.returncode == 0, proc.stderr
    assert "mlp-workshop_circles-n70-s0: test_accuracy=" in proc.stdout
    (record,) = runs_of(mlflow_client)
    assert record.info.status == "FINISHED"


def test_a_failing_run_exits_non_zero_with_one_line(tracking_uri, mlflow_client):
    proc = run_cli(
        "dataset=workshop_regression",
        "optimizer.lr=1e6",
        "optimizer=minibatch_sgd",
        "dataset.standardize=false",
        "trainer.max_epochs=20",
    )
    assert proc.returncode == 1, proc.stderr
    assert "diverged" in _one_line_error(proc)
    (record,) = runs_of(mlflow_client)
    assert record.info.status == "FAILED"


@pytest.mark.parametrize(
    "override, key",
    [
        ("trainer.max_epochs=0", "trainer.max_epochs"),
        ("model.hidden_sizes=[0]", "model.hidden_sizes"),
        ("model.hidden_sizes=[-5]", "model.hidden_sizes"),
        ("optimizer.batch_size=0", "optimizer.batch_size"),
        ("optimizer.batch_size=-3", "optimizer.batch_size"),
        ("seed=-1", "seed"),
        ("seed=1e20", "seed"),  # not an integer: refused by the schema
        ("dataset.test_size=0", "dataset.test_size"),
        ("dataset.train_size=0", "dataset.train_size"),
    ],
)
def test_a_setting_that_cannot_train_exits_2_naming_the_key(override, key, tracking_uri, mlflow_client):
    proc = run_cli(override)
    assert proc.returncode == 2, proc.stderr
    line = _one_line_error(proc)
    assert f"{key}=" in line or f"full_key: {key}" in line, line
    assert runs_of(mlflow_client) == []  # refused before any run started or data loaded


@pytest.mark.parametrize(
    "override, key",
    [("trainer.precision=bogus", "trainer.precision"), ("trainer.devices=0", "trainer.devices")],
)
def test_a_trainer_setting_lightning_would_refuse_is_a_usage_error(override, key, tracking_uri, mlflow_client):
    """Refused before the run starts (exit 2), not by Lightning inside a started run (exit 1, a FAILED run)."""
    proc = run_cli(override)
    assert proc.returncode == 2, proc.stderr
    assert _one_line_error(proc).startswith(f"error: {key}=")
    assert runs_of(mlflow_client) == []


def test_a_broken_interpolation_is_a_usage_error(tracking_uri):
    """An override the config cannot resolve fails while the run is set up: still exit 2 (README "Faults")."""
    proc = run_cli("optimizer.lr=${nosuch}")
    assert proc.returncode == 2, proc.stderr
    assert "full_key: optimizer.lr" in _one_line_error(proc)
