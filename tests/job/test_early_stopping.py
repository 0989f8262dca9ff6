"""Early stopping through the runner: training stops before max_epochs once the
validation loss stops improving, and the run records how many epochs it trained."""

from src.job.runner import run
from tests.conftest import make_spec, runs_of

MAX_EPOCHS, PATIENCE = 200, 2


def test_a_run_stops_early_and_tags_the_epochs_it_trained(mlflow_client):
    result = run(
        make_spec(
            "experiment=workshop_circles",
            "model.hidden_sizes=[32]",
            "dataset.noise_std=0.3",  # overlapping circles: the validation loss soon stops improving
            "optimizer.lr=0.05",
            f"trainer.max_epochs={MAX_EPOCHS}",
            f"trainer.early_stopping_patience={PATIENCE}",
        )
    )
    (record,) = runs_of(mlflow_client)
    val_loss = sorted(mlflow_client.get_metric_history(result.run_id, "val_loss"), key=lambda m: m.step)
    train_loss = mlflow_client.get_metric_history(result.run_id, "train_loss")
    epochs = len(train_loss)
    assert record.info.status == "FINISHED"
    assert len(val_loss) == epochs < MAX_EPOCHS
    assert record.data.tags["epochs_trained"] == str(epochs)
    best = min(range(epochs), key=lambda i: val_loss[i].value)
    assert epochs - 1 == best + PATIENCE  # it stopped PATIENCE epochs after the best validation loss
