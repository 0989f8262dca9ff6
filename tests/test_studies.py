"""The studies (experiments/*.yaml) compose, for every value their sweeps take.
The hyperparameter searches (conf/hparams_search/) are tested in tests/search/."""

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser

from tests.conftest import CONF_DIR, ROOT

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


# The compact protocols run 3 repeats to stay within minutes (README: what they cut).
COMPACT = {"main", "compare"}


@pytest.mark.parametrize("study", sorted(set(STUDIES) - COMPACT))
def test_a_study_repeats_every_configuration_at_least_5_times(study):
    cfg = _compose(f"experiment={study}", hydra=True)
    seeds = _sweep_values(cfg.hydra.sweeper.params)["seed"]
    assert len(set(seeds)) >= 5, seeds


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
        assert _sweep_values(cfg.hydra.sweeper.params)["seed"] == ["0", "1", "2", "3", "4"]  # R >= 5


def test_the_main_job_is_the_compact_verdict_protocol():
    """Issue 22, point 5: >= 3 datasets with a real table among them, repeats that are the folds
    of a cross-validation (>= 5 pairs per verdict) with a selection split, the deep model against
    the GBDTs and the scikit-learn baselines at their defaults with dummy as a reference, 2 jobs
    at a time."""
    cfg = _compose("experiment=main", hydra=True)
    sweep = _sweep_values(cfg.hydra.sweeper.params)
    assert len(sweep["dataset"]) >= 3 and {"happiness", "census2000"} & set(sweep["dataset"])
    assert {"mlp_plus", "xgboost", "lightgbm", "random_forest", "logistic_regression", "dummy"} <= set(sweep["model"])
    assert cfg.dataset.cv_folds == 5 and cfg.dataset.select_size > 0
    assert sweep["seed"] == [str(s) for s in range(cfg.dataset.cv_folds)]  # every fold once
    assert cfg.hydra.launcher._target_.endswith("JoblibLauncher") and cfg.hydra.launcher.n_jobs == 2
    assert len(sweep["dataset.train_size"]) >= 2


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
