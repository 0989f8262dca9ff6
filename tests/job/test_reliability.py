"""Faults never lose results: resume, checkpoints, reproducibility, interrupts."""

import signal
import time

import pytest

from src.job.runner import run
from tests.conftest import make_spec, run_cli, runs_of, start_training, wait_until_training

FAST = ("experiment=workshop_circles", "trainer.max_epochs=4", "model.hidden_sizes=[8]")


def test_resume_skips_a_finished_configuration_and_reruns_a_failed_one(mlflow_client, monkeypatch):
    first = run(make_spec(*FAST))
    again = run(make_spec(*FAST, "resume=true"))
    assert again.skipped and again.run_id == first.run_id
    assert len(runs_of(mlflow_client)) == 1

    other = run(make_spec(*FAST, "seed=1", "resume=true"))  # a new configuration runs
    assert not other.skipped and other.run_id != first.run_id
    assert runs_of(mlflow_client)[0].data.tags["config_hash"] != runs_of(mlflow_client)[1].data.tags["config_hash"]

    from src.models import deep

    original = deep.EpochLoop.training_step
    monkeypatch.setattr(deep.EpochLoop, "training_step", lambda *a: (_ for _ in ()).throw(RuntimeError("crash")))
    with pytest.raises(RuntimeError):
        run(make_spec(*FAST, "seed=2"))
    monkeypatch.setattr(deep.EpochLoop, "training_step", original)
    rerun = run(make_spec(*FAST, "seed=2", "resume=true"))  # the failed one runs again
    assert not rerun.skipped
    statuses = sorted(r.info.status for r in runs_of(mlflow_client) if r.data.tags["seed"] == "2")
    assert statuses == ["FAILED", "FINISHED"]


def test_a_killed_run_continues_from_its_checkpoint_into_the_same_run(mlflow_client, monkeypatch, tmp_path):
    args = (
        "experiment=workshop_circles",
        "trainer.max_epochs=6",
        "model.hidden_sizes=[8]",
        "trainer.checkpoint_every_n_epochs=1",
        f"trainer.checkpoint_dir={tmp_path}",
    )
    reference = run(make_spec(*args, "tracking.experiment=reference"))

    from src.models import deep

    original = deep.EpochLoop.training_step

    def interrupt_at_epoch_3(self, batch, batch_idx):
        if self.current_epoch == 3:
            raise KeyboardInterrupt
        return original(self, batch, batch_idx)

    monkeypatch.setattr(deep.EpochLoop, "training_step", interrupt_at_epoch_3)
    with pytest.raises(KeyboardInterrupt):
        run(make_spec(*args))
    (killed,) = runs_of(mlflow_client)
    assert killed.info.status == "KILLED"
    assert len(mlflow_client.get_metric_history(killed.info.run_id, "train_loss")) == 3  # kept

    monkeypatch.setattr(deep.EpochLoop, "training_step", original)
    resumed = run(make_spec(*args, "resume=true"))
    assert resumed.run_id == killed.info.run_id
    (record,) = runs_of(mlflow_client)
    assert record.info.status == "FINISHED" and record.data.tags["resumed_from_epoch"] == "3"
    steps = sorted(m.step for m in mlflow_client.get_metric_history(record.info.run_id, "train_loss"))
    assert steps == [0, 1, 2, 3, 4, 5]
    # The continued training is the uninterrupted one.
    assert resumed.metrics["train_accuracy"] == pytest.approx(reference.metrics["train_accuracy"])
    assert record.data.metrics["train_loss"] == pytest.approx(
        mlflow_client.get_run(reference.run_id).data.metrics["train_loss"], abs=1e-6
    )


@pytest.mark.parametrize("model", ["mlp", "random_forest"])
def test_the_same_config_and_seed_give_identical_metrics(model, tracking_uri):
    overrides = ("dataset=digits", f"model={model}", "trainer.max_epochs=3", "seed=5")
    a, b = run(make_spec(*overrides)), run(make_spec(*overrides))
    for key, value in a.metrics.items():
        if not key.endswith("_time_s"):
            assert b.metrics[key] == pytest.approx(value, abs=1e-6), key


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_marks_the_run_killed(signum, mlflow_client, tracking_uri, tmp_path):
    proc = start_training(tracking_uri, tmp_path, "dataset=mnist1d", "trainer.max_epochs=100000")
    wait_until_training(mlflow_client)
    proc.send_signal(signum)
    if signum == signal.SIGINT:  # an impatient second Ctrl-C must not leave it RUNNING
        time.sleep(0.05)
        proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-2000:]  # README "Faults": Ctrl-C and SIGTERM exit 130
    (record,) = runs_of(mlflow_client)
    assert record.info.status == "KILLED", stderr[-2000:]
    assert record.data.tags["status_reason"] == "interrupted"


@pytest.mark.parametrize("change", ["optimizer.lr=0.5", "activation=tanh"])
def test_a_classical_sweep_resumed_after_an_mlp_only_change_skips_every_job(change, mlflow_client, tracking_uri):
    sweep = ("-m", "dataset=workshop_circles", "model=svm,logistic_regression,knn")
    first = run_cli(*sweep)
    assert first.returncode == 0, first.stderr[-2000:]
    jobs = {r.info.run_id for r in runs_of(mlflow_client) if r.data.tags.get("sweep") != "true"}
    assert len(jobs) == 3

    again = run_cli(*sweep, change, "resume=true")
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stdout.count("skipped, already FINISHED") == 3, again.stdout
    assert {r.info.run_id for r in runs_of(mlflow_client) if r.data.tags.get("sweep") != "true"} == jobs


def test_divergence_keeps_the_metrics_of_the_epochs_before_it(mlflow_client, monkeypatch):
    from src.errors import DivergedError
    from src.models import deep

    original = deep.EpochLoop.training_step

    def diverge_at_epoch_2(self, batch, batch_idx):
        if self.current_epoch == 2:
            raise DivergedError(2, float("nan"))
        return original(self, batch, batch_idx)

    monkeypatch.setattr(deep.EpochLoop, "training_step", diverge_at_epoch_2)
    with pytest.raises(DivergedError):
        run(make_spec(*FAST))
    (record,) = runs_of(mlflow_client)
    assert record.info.status == "FAILED" and record.data.tags["status_reason"] == "diverged"
    assert record.data.metrics["diverged_epoch"] == 2
    steps = sorted(m.step for m in mlflow_client.get_metric_history(record.info.run_id, "train_loss"))
    assert steps == [0, 1]


CHECKPOINTED = (*FAST, "trainer.checkpoint_every_n_epochs=1")


def _killed_at_epoch_2(monkeypatch, *args: str) -> None:
    """Run the config and interrupt it at epoch 2: a KILLED run with a checkpoint."""
    from src.models import deep

    original = deep.EpochLoop.training_step

    def interrupt(self, batch, batch_idx):
        if self.current_epoch == 2:
            raise KeyboardInterrupt
        return original(self, batch, batch_idx)

    monkeypatch.setattr(deep.EpochLoop, "training_step", interrupt)
    with pytest.raises(KeyboardInterrupt):
        run(make_spec(*args))
    monkeypatch.setattr(deep.EpochLoop, "training_step", original)


def test_resume_inside_a_sweep_makes_skipped_and_continued_runs_children_of_the_new_parent(
    mlflow_client, tracking_uri, monkeypatch, tmp_path
):
    from src.tracking.mlflow_run import TrackedRun

    continued = (*CHECKPOINTED, "seed=1", f"trainer.checkpoint_dir={tmp_path}")
    done = run(make_spec(*FAST))
    _killed_at_epoch_2(monkeypatch, *continued)
    parent = TrackedRun.start(tracking_uri, "mlvsdl", "sweep-again", {"sweep": "true"}, nested=False)
    monkeypatch.setenv("MLFLOW_PARENT_RUN_ID", parent.run_id)  # what the sweep's callback sets
    skipped = run(make_spec(*FAST, "resume=true"))
    resumed = run(make_spec(*continued, "resume=true"))
    parent.finish()
    assert skipped.skipped and skipped.run_id == done.run_id
    for run_id in (skipped.run_id, resumed.run_id):
        assert mlflow_client.get_run(run_id).data.tags["mlflow.parentRunId"] == parent.run_id
    assert mlflow_client.get_run(resumed.run_id).info.status == "FINISHED"


def test_a_running_run_is_taken_over_only_when_its_owner_process_is_dead(mlflow_client, monkeypatch, tmp_path):
    from src.errors import UserError
    from src.tracking.owner import owner_tags

    args = (*CHECKPOINTED, f"trainer.checkpoint_dir={tmp_path}", "resume=true")
    _killed_at_epoch_2(monkeypatch, *args)
    (record,) = runs_of(mlflow_client)
    run_id = record.info.run_id
    # As if a live process (this one) were still training it.
    mlflow_client.update_run(run_id, "RUNNING")
    mlflow_client.set_tag(run_id, "owner", owner_tags()["owner"])
    with pytest.raises(UserError, match="RUNNING in process .* alive"):
        run(make_spec(*args))
    assert mlflow_client.get_run(run_id).info.status == "RUNNING" and len(runs_of(mlflow_client)) == 1

    mlflow_client.set_tag(run_id, "owner", _dead_owner())  # its owner is gone
    resumed = run(make_spec(*args))
    record = mlflow_client.get_run(run_id)
    assert resumed.run_id == run_id and record.info.status == "FINISHED"
    assert record.data.tags["owner"] == owner_tags()["owner"]


def test_resume_ends_a_dead_processs_running_run_killed_and_refuses_a_live_ones(mlflow_client):
    """A run left RUNNING by a process that died (kill -9, the OOM killer) is ended
    KILLED when resume=true meets its configuration again; a live one is left alone."""
    from src.errors import UserError
    from src.tracking.owner import owner_tags

    args = ("model=logistic_regression", "resume=true")
    first = run(make_spec(*args))
    mlflow_client.update_run(first.run_id, "RUNNING")
    mlflow_client.set_tag(first.run_id, "owner", owner_tags()["owner"])  # alive: this process
    with pytest.raises(UserError, match="RUNNING in process"):
        run(make_spec(*args))
    assert len(runs_of(mlflow_client)) == 1

    mlflow_client.set_tag(first.run_id, "owner", _dead_owner())
    again = run(make_spec(*args))
    assert again.run_id != first.run_id and not again.skipped
    statuses = {r.info.run_id: r.info.status for r in runs_of(mlflow_client)}
    assert statuses == {first.run_id: "KILLED", again.run_id: "FINISHED"}


def _dead_owner() -> str:
    """An owner tag naming a process of this machine that has exited."""
    import socket
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return f"{socket.gethostname()}:{gone.stdout.strip()}:1"
