"""A classical run and a deep run on the same dataset and seed stand on the same
footing: same split, same preprocessing, same MLflow record, same pictures."""

import os
import re
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from src.data.types import Task
from src.job import runner
from src.models import model_family
from tests.conftest import ROOT, make_spec, run_cli, runs_of

FAST_MLP = ("trainer.max_epochs=3", "model.hidden_sizes=[8]")
PAIRS = {  # dataset -> the classical model the workshop compares the MLP with
    "workshop_circles": "svm",
    "workshop_regression": "linear_regression",
}
PER_EPOCH = {"train_loss", "val_loss", "train_epoch_accuracy", "val_accuracy"}  # the MLP's training curves
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def footing(tmp_path_factory):
    """One MLP and one classical run per dataset, with the fitted model logged,
    and the prepared data each run was given (captured at the runner's seam)."""
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path_factory.mktemp('footing') / 'mlflow.db'}"
    prepared = {}
    real_prepare = runner.prepare
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        mp.delenv("MLFLOW_PARENT_RUN_ID", raising=False)
        for dataset, classical in PAIRS.items():
            for model, extra in (("mlp", FAST_MLP), (classical, ())):
                mp.setattr(
                    runner,
                    "prepare",
                    lambda *a, key=(dataset, model), **k: prepared.setdefault(key, real_prepare(*a, **k)),
                )
                runner.run(
                    make_spec(
                        f"dataset={dataset}", f"model={model}", "tracking.log_model=true", "tracking.plots=true", *extra
                    )
                )
    client = MlflowClient(tracking_uri=uri)
    runs = {(r.data.tags["dataset"], r.data.tags["model"]): r for r in runs_of(client)}
    assert len(runs) == 4 and all(r.info.status == "FINISHED" for r in runs.values())
    return client, runs, prepared


@pytest.mark.parametrize("dataset", list(PAIRS))
def test_both_families_get_the_same_split(footing, dataset):
    _, runs, _ = footing
    deep, classical = runs[dataset, "mlp"].data.params, runs[dataset, PAIRS[dataset]].data.params
    for key in ("split_digest", "n_train", "n_val", "n_test", "n_features", "seed"):
        assert deep[key] == classical[key], key


@pytest.mark.parametrize("dataset", list(PAIRS))
def test_both_families_get_the_same_preprocessing(footing, dataset):
    _, _, prepared = footing
    deep, classical = prepared[dataset, "mlp"], prepared[dataset, PAIRS[dataset]]
    scalers = [d.preprocessor.named_transformers_["numeric"].named_steps["scale"] for d in (deep, classical)]
    np.testing.assert_array_equal(scalers[0].mean_, scalers[1].mean_)
    np.testing.assert_array_equal(scalers[0].scale_, scalers[1].scale_)
    assert scalers[0].n_samples_seen_ == scalers[1].n_samples_seen_ == len(deep.X_train)  # fit on train only
    for part in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(deep, part), getattr(classical, part), err_msg=part)
    if dataset == "workshop_regression":
        assert deep.target_scaler == classical.target_scaler


@pytest.mark.parametrize("dataset", list(PAIRS))
def test_a_classical_run_records_what_a_deep_run_records(footing, dataset):
    _, runs, _ = footing
    deep, classical = runs[dataset, "mlp"], runs[dataset, PAIRS[dataset]]
    assert deep.data.tags["model_family"] == "deep" and classical.data.tags["model_family"] == "classical"
    weights = re.compile(r"^(weight_\d+|bias)$")  # single-output linear models also log their w and b
    classical_metrics = {k for k in classical.data.metrics if not weights.match(k)}
    # The SVM (probability=False) gives no probabilities: no ROC AUC, log loss or Brier score, and
    # nothing else missing; the same metric code scores both.
    probability = {k for k in deep.data.metrics if k.endswith(("_roc_auc", "_log_loss", "_brier"))}
    assert classical_metrics == set(deep.data.metrics) - PER_EPOCH - probability
    assert dataset != "workshop_circles" or probability == {
        f"{split}_{m}" for split in ("test", "final_val") for m in ("roc_auc", "log_loss", "brier")
    }
    assert {"fit_time_s", "predict_time_s"} <= classical_metrics
    assert int(classical.data.params["n_params"]) > 0
    for key in ("dataset", "task", "seed", "git_commit"):
        assert deep.data.tags.get(key) == classical.data.tags.get(key), key


def test_the_fitted_models_are_logged_and_load_back(footing, tmp_path):
    import mlflow.pyfunc
    from mlflow.entities import LoggedModelStatus

    from src.data import load_dataset

    client, runs, prepared = footing
    X = prepared["workshop_circles", "svm"].X_test
    for (_dataset, model), record in runs.items():
        assert len(record.outputs.model_outputs) == 1, model
        logged = client.get_logged_model(record.outputs.model_outputs[0].model_id)
        assert logged.status == LoggedModelStatus.READY and logged.name == record.info.run_name  # named after it
        assert logged.experiment_id == record.info.experiment_id and logged.source_run_id == record.info.run_id
        assert record.info.status == "FINISHED"  # logging the model did not end the run early
    svm_id, mlp_id = (runs["workshop_circles", m].outputs.model_outputs[0].model_id for m in ("svm", "mlp"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", client.tracking_uri)
        svm = mlflow.pyfunc.load_model(f"models:/{svm_id}")
        net = mlflow.pyfunc.load_model(f"models:/{mlp_id}")
    # Each takes raw rows and predicts the data's own labels (tests/tracking/test_logged_model.py).
    dataset = load_dataset(make_spec("dataset=workshop_circles").dataset)
    raw = dataset.X.head(len(X))
    for logged in (svm, net):
        # Integer class labels come back as integers (issue 24, item 5); class_names holds them as text.
        assert {str(v) for v in logged.predict(raw)} <= set(dataset.class_names) and len(logged.predict(raw)) == len(X)
    assert type(svm.unwrap_python_model().estimator.estimator_).__name__ == "SVC"
    import torch

    with torch.inference_mode():  # one logit: the binary head
        assert net.unwrap_python_model().estimator.net_(torch.as_tensor(X)).shape == (len(X), 1)


@pytest.mark.parametrize("dataset", list(PAIRS))
@pytest.mark.parametrize("family", ["deep", "classical"])
def test_every_picture_is_a_readable_png_or_text(footing, dataset, family, tmp_path):
    from matplotlib.image import imread

    client, runs, _ = footing
    record = runs[dataset, "mlp" if family == "deep" else PAIRS[dataset]]
    task = record.data.tags["task"]
    expected = ["config.yaml"]
    if task == Task.regression:
        expected += ["predicted_vs_true.png", "fitted_curve.png"]  # one feature: the fitted curve
    else:
        expected += ["confusion_matrix.png", "classification_report.txt", "decision_regions.png"]  # two features
    if family == "deep":
        expected.append("loss_curves.png")
    listed = {a.path for a in client.list_artifacts(record.info.run_id)}
    assert set(expected) <= listed
    for name in expected:
        local = client.download_artifacts(record.info.run_id, name, str(tmp_path))
        content = Path(local).read_bytes()
        if name.endswith(".png"):
            assert content.startswith(PNG_MAGIC), name
            image = imread(local)
            assert image.ndim == 3 and min(image.shape[:2]) >= 200, name
        else:
            text = content.decode()
            assert text.strip(), name
            if name == "classification_report.txt":
                assert "precision" in text and "accuracy" in text


def _imported_modules(stderr: str) -> set[str]:
    """Module names from -X importtime lines: 'import time: self | cumulative | name'."""
    return {line.rsplit("|", 1)[1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def test_a_classical_run_never_imports_torch(tmp_path):
    proc = run_cli(
        "model=svm",
        "tracking.log_model=true",
        env={"PYTHONPROFILEIMPORTTIME": "1", "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "svm-breast_cancer-n409-s0: test_accuracy=" in proc.stdout and "[model models:/m-" in proc.stdout
    modules = _imported_modules(proc.stderr)
    assert "sklearn.svm" in modules and "mlflow.pyfunc" in modules  # the check sees the run's imports
    heavy = {m for m in modules if m.split(".")[0] in ("torch", "pytorch_lightning", "lightning", "lightning_fabric")}
    assert not heavy, sorted(heavy)[:10]


@pytest.mark.parametrize(
    "experiment, classical, mlp",
    [
        ("workshop_circles_vs_svm", "svm", {"activation": "relu", "loss": "bce", "optimizer": "adam"}),
        (
            "workshop_regression_vs_linear",
            "linear_regression",
            {"activation": "tanh", "loss": "mse", "optimizer": "minibatch_sgd"},
        ),
    ],
)
def test_the_comparison_experiments_sweep_the_workshop_mlp_against_its_classical_model(experiment, classical, mlp):
    sweep = OmegaConf.load(ROOT / "experiments" / f"{experiment}.yaml").hydra.sweeper.params
    options = sweep.model.split(",")
    assert len(options) == 2 and classical in options
    single = experiment.replace("_vs_svm", "").replace("_vs_linear", "")  # the workshop's MLP experiment
    workshop = make_spec(f"experiment={single}")
    for option in options:
        cfg = make_spec(f"experiment={experiment}", f"model={option}")
        runner.validate(cfg)
        assert cfg.dataset == workshop.dataset
        if option == classical:
            assert model_family(cfg.model) == "classical" and cfg.model.name == classical
            if classical == "svm":
                assert cfg.model.kernel.value == "rbf"  # the workshop's SVC(kernel='rbf')
            continue
        # The same net, optimizer and trainer as the workshop's MLP experiment.
        assert cfg.model == workshop.model and cfg.model.hidden_sizes == [50, 100]
        for group in ("activation", "loss", "optimizer", "trainer"):
            assert getattr(cfg, group) == getattr(workshop, group), group
        assert {g: str(getattr(cfg, g).name.value) for g in mlp} == mlp


def test_one_command_runs_both_models_of_a_comparison(tmp_path):
    proc = run_cli(
        "-m",
        "experiment=workshop_circles_vs_svm",
        "trainer.max_epochs=3",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
        env={"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    from mlflow.tracking import MlflowClient

    jobs = [r for r in runs_of(MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")) if "model_family" in r.data.tags]
    assert sorted(r.data.tags["model"] for r in jobs) == ["mlp", "svm"]
    assert all(r.info.status == "FINISHED" for r in jobs)
    assert len({r.data.params["split_digest"] for r in jobs}) == 1
    mlp = next(r for r in jobs if r.data.tags["model"] == "mlp")
    assert mlp.data.params["model.hidden_sizes"] == "[50, 100]" and mlp.data.params["activation.name"] == "relu"
    assert os.path.isdir(tmp_path / "sweep")
