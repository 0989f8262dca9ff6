"""End-to-end runs on every dataset, recorded in a temporary MLflow store."""

import subprocess
from pathlib import Path

import numpy as np
import pytest

from src.errors import DivergedError
from src.job.runner import run
from tests.conftest import ROOT, make_spec, runs_of

FAST = ("trainer.max_epochs=3", "model.hidden_sizes=[8]")
PLOTS = "tracking.plots=true"  # per-run pictures are opt-in


def _only_run(client):
    runs = runs_of(client)
    assert len(runs) == 1
    return runs[0]


@pytest.mark.parametrize(
    "dataset",
    [
        "workshop_regression",
        "workshop_circles",
        "seed_table1",
        "seed_table2",
        "seed_noisy_table",
        "seed_study_hours",
        "digits",
        "mnist1d",
    ],
)
def test_short_run_records_metrics_params_tags_and_artifacts(dataset, mlflow_client):
    result = run(make_spec(f"dataset={dataset}", *FAST, PLOTS))
    record = _only_run(mlflow_client)
    assert record.info.status == "FINISHED"
    n_train = record.data.params["n_train"]
    assert record.info.run_name == f"mlp-{dataset}-n{n_train}-s0" == result.run_name

    tags = record.data.tags
    assert tags["model"] == "mlp" and tags["model_family"] == "deep" and tags["dataset"] == dataset
    assert tags["task"] in ("regression", "binary", "multiclass")
    assert tags["accelerator"] == "cpu"
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    assert tags.get("git_commit") == (head or None) == tags.get("mlflow.source.git.commit")  # None outside git

    params = record.data.params
    for key in ("model.hidden_sizes", "optimizer.lr", "n_train", "n_val", "n_test", "n_features", "n_params"):
        assert key in params, key
    assert params["model.hidden_sizes"] == "[8]"
    assert int(params["n_params"]) > 0

    metrics = record.data.metrics
    fit_only = tags["task"] == "regression" and dataset.startswith("seed_")
    if tags["task"] == "regression":
        expected = ["train_mse"] if fit_only else ["test_mse", "test_rmse", "test_mae", "test_r2", "train_mse"]
    else:
        expected = ["test_accuracy", "test_f1_macro", "train_accuracy"]
    for key in expected + ["fit_time_s", "predict_time_s"]:
        assert key in metrics and np.isfinite(metrics[key]), key
        # One step for every final metric, so that MLflow's charts compare runs as bars.
        assert [m.step for m in mlflow_client.get_metric_history(record.info.run_id, key)] == [0], key
    assert result.metrics[result.main_metric] == pytest.approx(metrics[result.main_metric])

    history = mlflow_client.get_metric_history(record.info.run_id, "train_loss")
    assert sorted(m.step for m in history) == [0, 1, 2]
    if params["n_val"] != "0":
        assert len(mlflow_client.get_metric_history(record.info.run_id, "val_loss")) == 3
        if tags["task"] != "regression":
            assert len(mlflow_client.get_metric_history(record.info.run_id, "val_accuracy")) == 3

    artifacts = {a.path for a in mlflow_client.list_artifacts(record.info.run_id)}
    assert {"config.yaml", "loss_curves.png"} <= artifacts
    if tags["task"] == "regression":
        assert {"predicted_vs_true.png", "residuals.csv", "predictions.parquet"} <= artifacts
    else:
        assert {"confusion_matrix.png", "confusion_matrix.csv", "classification_report.txt"} <= artifacts


@pytest.mark.parametrize("model", ["svm", "random_forest"])
def test_a_classical_run_records_only_the_config_groups_its_family_reads(model, mlflow_client, tmp_path):
    import yaml

    run(make_spec("dataset=workshop_circles", f"model={model}", "trainer.cpu_threads=1"))
    record = _only_run(mlflow_client)
    params = record.data.params
    mlp_only = [k for k in params if k.startswith(("optimizer.", "activation.", "loss.", "trainer."))]
    assert mlp_only == ["trainer.cpu_threads"], mlp_only  # the thread budget both families share
    assert params["model.name"] == model and "dataset.name" in params and "tracking.plots" in params
    local = mlflow_client.download_artifacts(record.info.run_id, "config.yaml", str(tmp_path))
    config = yaml.safe_load(Path(local).read_text())
    assert not {"optimizer", "activation", "loss"} & set(config) and config["trainer"] == {"cpu_threads": 1}
    assert config["model"]["name"] == model and config["seed"] == 0


def test_a_deep_run_records_every_group_it_reads(mlflow_client, tmp_path):
    import yaml

    run(make_spec("dataset=workshop_circles", *FAST))
    record = _only_run(mlflow_client)
    for group in ("optimizer.", "activation.", "loss.", "trainer.", "model.", "dataset.", "tracking."):
        assert any(k.startswith(group) for k in record.data.params), group
    local = mlflow_client.download_artifacts(record.info.run_id, "config.yaml", str(tmp_path))
    assert {"optimizer", "activation", "loss", "trainer", "model", "dataset"} <= set(
        yaml.safe_load(Path(local).read_text())
    )


def test_workshop_circles_logs_the_workshop_artifacts(mlflow_client):
    """The workshop's experiments turn the pictures on: they are its point."""
    result = run(make_spec("experiment=workshop_circles"))
    record = _only_run(mlflow_client)
    artifacts = {a.path for a in mlflow_client.list_artifacts(record.info.run_id)}
    assert {"confusion_matrix.png", "classification_report.txt", "decision_regions.png", "loss_curves.png"} <= artifacts
    assert int(record.data.params["n_val"]) == 10 and int(record.data.params["n_test"]) == 20
    assert result.metrics["test_accuracy"] >= 0.9  # the circles are separable


def test_pictures_are_opt_in_and_the_errors_are_kept_as_data_without_them(mlflow_client):
    run(make_spec("dataset=workshop_circles", "trainer.max_epochs=2"))
    artifacts = {a.path for a in mlflow_client.list_artifacts(_only_run(mlflow_client).info.run_id)}
    assert {"config.yaml", "classification_report.txt", "confusion_matrix.csv", "predictions.parquet"} <= artifacts
    assert not any(name.endswith(".png") for name in artifacts)


def test_workshop_regression_logs_the_fitted_curve(mlflow_client):
    result = run(make_spec("experiment=workshop_regression"))
    record = _only_run(mlflow_client)
    artifacts = {a.path for a in mlflow_client.list_artifacts(record.info.run_id)}
    assert "fitted_curve.png" in artifacts
    assert record.data.params["n_test"] == "20" and record.data.params["n_train"] == "80"
    assert result.metrics["test_r2"] > 0.9


def test_single_neuron_finds_table1_w5_bminus1(mlflow_client):
    result = run(
        make_spec(
            "dataset=seed_table1",
            "model.hidden_sizes=[]",
            "optimizer=batch_gd",
            "optimizer.lr=0.04",
            "trainer.max_epochs=2000",
        )
    )
    assert result.metrics["weight_1"] == pytest.approx(5, abs=0.05)
    assert result.metrics["bias"] == pytest.approx(-1, abs=0.05)
    assert _only_run(mlflow_client).data.metrics["weight_1"] == pytest.approx(5, abs=0.05)


def test_single_neuron_finds_table2_all_ones(tracking_uri):
    result = run(
        make_spec(
            "dataset=seed_table2",
            "model.hidden_sizes=[]",
            "optimizer=batch_gd",
            "optimizer.lr=0.05",
            "trainer.max_epochs=3000",
        )
    )
    for key in ("weight_1", "weight_2", "bias"):
        assert result.metrics[key] == pytest.approx(1, abs=0.05), key


def test_an_exception_inside_training_marks_the_run_failed(mlflow_client, monkeypatch):
    from src.models import deep

    def explode(self, batch, batch_idx):
        raise RuntimeError("boom inside training_step")

    monkeypatch.setattr(deep.EpochLoop, "training_step", explode)
    with pytest.raises(RuntimeError, match="boom"):
        run(make_spec(*FAST))
    record = _only_run(mlflow_client)
    assert record.info.status == "FAILED"
    assert "boom inside training_step" in record.data.tags["error"]


def test_a_diverging_learning_rate_marks_the_run_failed_as_diverged(mlflow_client):
    with pytest.raises(DivergedError):
        run(
            make_spec(
                "dataset=workshop_regression",
                "optimizer=minibatch_sgd",
                "optimizer.lr=1e6",
                "trainer.max_epochs=20",
                "dataset.standardize=false",
            )
        )
    record = _only_run(mlflow_client)
    assert record.info.status == "FAILED"
    assert record.data.tags["status_reason"] == "diverged"


def test_keyboard_interrupt_marks_the_run_killed(mlflow_client, monkeypatch):
    from src.models import deep

    def interrupt(self, batch, batch_idx):
        raise KeyboardInterrupt

    monkeypatch.setattr(deep.EpochLoop, "training_step", interrupt)
    with pytest.raises(KeyboardInterrupt):
        run(make_spec(*FAST))
    assert _only_run(mlflow_client).info.status == "KILLED"


def test_every_run_keeps_its_test_predictions_paired_by_row_across_models(mlflow_client, tmp_path):
    """predictions.parquet (issue 16.3): the test rows by their position in the
    dataset (the same rows for every model with that seed), the true and the
    predicted label in the data's own labels, and a probability per class."""
    import pandas as pd

    from src.data import load_dataset, make_split

    frames = {}
    for model in ("mlp", "logistic_regression", "svm"):  # svm: no probabilities
        result = run(make_spec("dataset=iris", f"model={model}", *FAST[:1]))
        local = mlflow_client.download_artifacts(result.run_id, "predictions.parquet", str(tmp_path / model))
        frames[model] = pd.read_parquet(local)
        accuracy = (frames[model]["y_true"] == frames[model]["y_pred"]).mean()
        assert accuracy == pytest.approx(result.metrics["test_accuracy"])
    config = make_spec("dataset=iris")
    dataset = load_dataset(config.dataset)
    split = make_split(dataset, seed=0, test_size=config.dataset.test_size, val_size=config.dataset.val_size)
    for model, frame in frames.items():
        assert frame["row_id"].tolist() == split.test.tolist(), model
        assert frame["y_true"].tolist() == dataset.target_labels()[split.test].tolist(), model
        assert set(frame["y_pred"]) <= set(dataset.class_names), model
    probabilities = frames["logistic_regression"][[f"proba_{name}" for name in dataset.class_names]]
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert (probabilities.idxmax(axis=1).str.removeprefix("proba_") == frames["logistic_regression"]["y_pred"]).all()
    assert {f"proba_{name}" for name in dataset.class_names} <= set(frames["mlp"].columns)
    assert not any(column.startswith("proba_") for column in frames["svm"].columns)


def test_a_regression_run_keeps_its_predictions_and_residuals_in_the_target_units(mlflow_client, tmp_path):
    import pandas as pd

    result = run(make_spec("dataset=diabetes", "model=ridge"))
    predictions = pd.read_parquet(mlflow_client.download_artifacts(result.run_id, "predictions.parquet", str(tmp_path)))
    residuals = pd.read_csv(mlflow_client.download_artifacts(result.run_id, "residuals.csv", str(tmp_path)))
    errors = predictions["y_pred"] - predictions["y_true"]
    assert float(np.sqrt((errors**2).mean())) == pytest.approx(result.metrics["test_rmse"])
    assert residuals.loc[0, "rmse"] == pytest.approx(result.metrics["test_rmse"])
    assert residuals.loc[0, "n"] == len(predictions) and predictions["y_true"].mean() > 50  # units, not z-scores


def test_a_classification_run_keeps_its_confusion_matrix_as_data(mlflow_client, tmp_path):
    import pandas as pd

    result = run(make_spec("dataset=iris", "model=logistic_regression"))
    local = mlflow_client.download_artifacts(result.run_id, "confusion_matrix.csv", str(tmp_path))
    matrix = pd.read_csv(local, index_col=0)
    assert list(matrix.columns) == list(matrix.index) == ["setosa", "versicolor", "virginica"]
    assert np.trace(matrix.to_numpy()) / matrix.to_numpy().sum() == pytest.approx(result.metrics["test_accuracy"])
