"""trainer=ddp_cpu: the DDP code path on 2 CPU processes (gloo), as CI can run it."""

import pytest

from tests.conftest import run_cli, runs_of

ARGS = ("experiment=workshop_circles", "trainer.max_epochs=5")


def test_ddp_cpu_makes_one_run_with_the_single_process_numbers(mlflow_client):
    ddp = run_cli(*ARGS, "trainer=ddp_cpu")
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    assert ddp.stdout.count("mlp-workshop_circles-n70-s0: test_accuracy=") == 1  # only rank 0 reports
    (ddp_run,) = runs_of(mlflow_client)  # exactly one MLflow run for the 2-process training
    single = run_cli(*ARGS, "trainer=cpu")
    assert single.returncode == 0, single.stderr[-3000:]
    single_run = next(r for r in runs_of(mlflow_client) if r.info.run_id != ddp_run.info.run_id)

    assert ddp_run.info.status == "FINISHED" and ddp_run.data.params["trainer.devices"] == "2"
    # Each process trains on its half of every batch and the gradients are
    # all-reduced, so the training is the single-process one up to float error.
    for key in ("train_loss", "val_loss", "val_accuracy", "test_accuracy", "train_accuracy"):
        assert ddp_run.data.metrics[key] == pytest.approx(single_run.data.metrics[key], abs=1e-4), key
    history = mlflow_client.get_metric_history(ddp_run.info.run_id, "train_loss")
    reference = mlflow_client.get_metric_history(single_run.info.run_id, "train_loss")
    assert [round(m.value, 4) for m in sorted(history, key=lambda m: m.step)] == [
        round(m.value, 4) for m in sorted(reference, key=lambda m: m.step)
    ]
