"""The studies (experiments/*.yaml) and the hyperparameter searches (conf/hparams_search/)
compose, for every value their sweeps take; a small Optuna search runs end to end."""

from pathlib import Path

import pytest
import yaml
from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser

from src.errors import ConfigError
from src.training.objective import objective_value
from src.training.runner import RunResult
from tests.conftest import CONF_DIR, ROOT, run_cli, runs_of

STUDIES = [
    "data_dependency",
    "data_dependency_digits",
    "data_dependency_happiness",
    "training_time",
    "optimizers",
    "learning_rate",
    "activations",
    "depth_width",
    "interpretability",
    "main",
    "compare",
    "mlp_plus_ablation",
]
WORKSHOP = [
    "workshop_circles_vs_svm",
    "workshop_regression_vs_linear",
]  # the workshop study (make study STUDY=workshop)
SEARCHES = ["mlp", "logistic_regression", "svm", "random_forest", "gradient_boosting", "knn"]


def _compose(*overrides: str, hydra: bool = False):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides), return_hydra_config=hydra)


def _sweep_values(params) -> dict[str, list[str]]:
    """key -> the values a basic sweep over `hydra.sweeper.params` takes."""
    parser = OverridesParser.create()
    values = {}
    for key, value in params.items():
        (override,) = parser.parse_overrides([f"{key}={value}"])
        values[key] = list(override.sweep_string_iterator()) if override.is_sweep_override() else [str(value)]
    return values


def test_every_study_has_a_config():
    on_disk = {p.stem for p in (ROOT / "experiments").glob("*.yaml")}
    assert set(STUDIES) <= on_disk
    assert {p.stem for p in (CONF_DIR / "hparams_search").glob("*.yaml")} >= set(SEARCHES)


@pytest.mark.parametrize("study", STUDIES + WORKSHOP)
def test_every_study_composes_for_every_value_of_its_sweep(study):
    cfg = _compose(f"experiment={study}", hydra=True)
    header = (ROOT / "experiments" / f"{study}.yaml").read_text().splitlines()[0]
    assert header == "# @package _global_"
    params = cfg.hydra.sweeper.params
    assert params, f"{study} has no hydra.sweeper.params: `python -m src.train -m experiment={study}` would run once"
    if study in STUDIES:
        expected = "data_dependency" if study.startswith("data_dependency") else study
        assert cfg.study == expected
    for key, values in _sweep_values(params).items():
        if "." in key:  # a plain value: its ends stand for the rest
            values = list(dict.fromkeys([values[0], values[-1]]))
        for value in values:  # e.g. model=svm with the study's other settings: no MLP-only key may break it
            job = _compose(f"experiment={study}", f"{key}={value}")
            assert job.study == cfg.study


def test_data_dependency_sizes_grow_by_sqrt_2_from_16_to_the_whole_pool():
    for study in ("data_dependency", "data_dependency_digits", "data_dependency_happiness"):
        cfg = _compose(f"experiment={study}", hydra=True)
        sizes = [float(s) for s in _sweep_values(cfg.hydra.sweeper.params)["dataset.train_size"]]
        counts = sizes[:-1]
        assert counts[0] == 16 and sizes[-1] == 1.0  # the last one: the whole pool
        ratios = [b / a for a, b in zip(counts, counts[1:])]
        assert all(1.35 < r < 1.48 for r in ratios), ratios
        assert set(_sweep_values(cfg.hydra.sweeper.params)["model"]) == {
            "mlp",
            "logistic_regression",
            "svm",
            "random_forest",
            "gradient_boosting",
            "knn",
            "mlp_plus",
            "xgboost",
            "lightgbm",
            "catboost",
            "dummy",
        }
        assert _sweep_values(cfg.hydra.sweeper.params)["seed"] == ["0", "1", "2"]


def test_the_main_job_is_the_compact_verdict_protocol():
    """Issue 16, point 5: >= 3 datasets with a real table among them, MNIST-1D up to >= 16,000
    training rows, the seven models at their defaults, >= 3 repeats, 2 jobs at a time."""
    cfg = _compose("experiment=main", hydra=True)
    sweep = _sweep_values(cfg.hydra.sweeper.params)
    assert len(sweep["dataset"]) >= 3 and {"happiness", "census2000"} & set(sweep["dataset"])
    assert set(sweep["model"]) == {
        "xgboost",
        "lightgbm",
        "catboost",
        "random_forest",
        "logistic_regression",
        "dummy",
        "mlp_plus",
    }
    assert len(sweep["seed"]) >= 3
    assert cfg.hydra.launcher._target_.endswith("JoblibLauncher") and cfg.hydra.launcher.n_jobs == 2
    mnist1d = next(d for d in sweep["dataset"] if d.startswith("mnist1d"))
    data = _compose("experiment=main", f"dataset={mnist1d}").dataset
    # The package keeps 80% of its samples for training, of which val_size go to validation.
    pool = int(data.n_samples * 0.8 * (1 - data.val_size))
    largest = max(float(s) for s in sweep["dataset.train_size"])
    assert (largest * pool if largest <= 1 else largest) >= 16000


def test_a_sweep_is_shrunk_from_the_command_line():
    """Hydra 1.3's basic sweeper: a key given on the command line replaces the study's list for it."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    cfg = _compose("experiment=data_dependency", hydra=True)
    parser = OverridesParser.create()
    params = [f"{k}={v}" for k, v in cfg.hydra.sweeper.params.items()]
    batches = BasicSweeper.split_arguments(
        parser.parse_overrides(params + ["seed=0", "dataset.train_size=16,64", "model=mlp,logistic_regression"]), None
    )[0]
    assert len(batches) == 4
    assert {tuple(sorted(b)) for b in batches} >= {("dataset.train_size=16", "model=mlp", "seed=0")}


@pytest.mark.parametrize("search", SEARCHES)
def test_every_search_composes_with_the_same_trial_budget(search):
    from hydra_plugins.hydra_optuna_sweeper._impl import create_params_from_overrides

    cfg = _compose(f"hparams_search={search}", "dataset=digits", hydra=True)
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_.endswith("OptunaSweeper")
    assert sweeper.sampler._target_ == "optuna.samplers.TPESampler"
    assert sweeper.n_trials == 20 and sweeper.storage is None and sweeper.direction == "maximize"
    assert cfg.optimized_metric == "final_val_accuracy" and cfg.study == "hparams"
    assert cfg.model.name == search
    distributions, fixed = create_params_from_overrides([f"{k}={v}" for k, v in sweeper.params.items()])
    assert distributions and not fixed
    if search == "mlp":
        assert set(distributions) == {
            "optimizer.lr",
            "model.hidden_sizes",
            "optimizer.batch_size",
            "model.dropout",
            "optimizer.weight_decay",
        }
    for key in distributions:  # every searched key exists in this model's schema
        _compose(f"hparams_search={search}", "dataset=digits", f"{key}={_sample(distributions[key])}")


def _sample(distribution):
    choices = getattr(distribution, "choices", None)
    if choices:
        return choices[0]
    return distribution.low


def test_objective_is_the_optimized_metric_and_an_unknown_one_is_an_error():
    result = RunResult("id", "mlp-digits-s0", {"test_accuracy": 0.9, "final_val_accuracy": 0.8}, "test_accuracy")
    assert objective_value({"optimized_metric": None}, result) == 0.9
    assert objective_value({"optimized_metric": "final_val_accuracy"}, result) == 0.8
    with pytest.raises(ConfigError, match="optimized_metric=val_acc .*final_val_accuracy"):
        objective_value({"optimized_metric": "val_acc"}, result)


@pytest.mark.slow
def test_a_three_trial_optuna_search_returns_the_optimized_metric(tracking_uri, mlflow_client, tmp_path):
    proc = run_cli(
        "-m",
        "hparams_search=mlp",
        "dataset=workshop_circles",
        "hydra.sweeper.n_trials=3",
        "hydra.sweeper.sampler.n_startup_trials=2",
        "trainer.max_epochs=5",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = [r for r in runs_of(mlflow_client) if r.data.tags.get("sweep") != "true"]
    assert len(runs) == 3 and all(r.info.status == "FINISHED" for r in runs)
    assert {r.data.tags["study"] for r in runs} == {"hparams"}
    assert len({r.data.params["optimizer.lr"] for r in runs}) == 3  # TPE proposed three different trials
    results = yaml.safe_load(Path(tmp_path / "sweep" / "optimization_results.yaml").read_text())
    # What the training function returned to Optuna is the validation metric, not the test one.
    best = max(r.data.metrics["final_val_accuracy"] for r in runs)
    assert results["best_value"] == pytest.approx(best)
    assert set(results["best_params"]) == {
        "optimizer.lr",
        "model.hidden_sizes",
        "optimizer.batch_size",
        "model.dropout",
        "optimizer.weight_decay",
    }


@pytest.mark.slow
def test_a_search_on_a_metric_that_does_not_exist_stops_loudly(tracking_uri, tmp_path):
    proc = run_cli(
        "-m",
        "hparams_search=knn",
        "dataset=workshop_circles",
        "hydra.sweeper.n_trials=3",
        "optimized_metric=val_nope",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    )
    assert proc.returncode != 0
    assert "optimized_metric=val_nope is not a metric" in proc.stderr
    assert not (tmp_path / "sweep" / "optimization_results.yaml").exists()
