"""The model registry: every option is declared once (family, tasks, schema,
builder) and the README's recipe for adding a model works."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from src.config import register_configs
from src.config.models import ClassicalConfig
from src.errors import ConfigError
from src.models import build_estimator, check_model_task, model_family
from src.models.registry import CLASSICAL, CLASSIFICATION, DEEP, REGISTRY, ModelSpec, load, models_for, register
from tests.conftest import CONF_DIR, ROOT, make_spec


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_entry_has_a_yaml_a_schema_and_a_builder(name):
    spec = REGISTRY[name]
    assert (CONF_DIR / "model" / f"{name}.yaml").is_file()
    cfg = make_spec(f"model={name}")
    assert cfg.model.name == name
    assert type(cfg.model) is spec.schema  # stored under schema_model_<name>
    assert model_family(cfg.model) == spec.family == cfg.family
    assert not hasattr(cfg.model, "family")  # declared by the registry alone
    assert callable(load(spec.builder))


def test_the_deep_model_does_every_task_and_the_order_is_the_registrys():
    assert REGISTRY["mlp"].family == DEEP
    for task in ("regression", "binary", "multiclass"):
        assert models_for(task)[0] == "mlp"
    assert models_for("binary") == [n for n, s in REGISTRY.items() if "binary" in s.tasks]


def test_a_model_that_cannot_do_the_task_is_refused_in_one_line():
    cfg = make_spec("model=linear_regression")
    with pytest.raises(ConfigError) as refused:
        check_model_task(cfg.model, "multiclass")
    assert str(refused.value) == (
        "model=linear_regression cannot do a multiclass task; models that can: " + ", ".join(models_for("multiclass"))
    )
    check_model_task(cfg.model, "auto")  # not known before the table is read: checked again later


def test_reading_the_registry_imports_no_estimator_library():
    code = (
        "import sys\n"
        "from src.config import register_configs\n"
        "register_configs()\n"
        "from src.models.registry import REGISTRY, check_task\n"
        "check_task('xgboost', 'binary')\n"
        "heavy = {'torch', 'pytorch_lightning', 'sklearn', 'xgboost', 'lightgbm', 'catboost'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@dataclasses.dataclass
class ToyConfig(ClassicalConfig):
    name: str = "toy"
    strategy: str = "most_frequent"


def build_toy(cfg, task, n_classes):
    """A builder as the recipe writes one: the estimator from the config."""
    from sklearn.dummy import DummyClassifier

    from src.models.classical import ClassicalEstimator

    return ClassicalEstimator("toy", DummyClassifier(strategy=cfg.model.strategy), task)


def test_adding_a_model_is_a_schema_a_yaml_and_a_registry_entry(tmp_path: Path):
    """The README's recipe: a schema, conf/model/<name>.yaml, one register() call."""
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "toy.yaml").write_text(
        "defaults:\n  - /schema_model_toy@_here_\n  - _self_\n\nstrategy: prior\n"
    )
    register(ModelSpec("toy", CLASSICAL, CLASSIFICATION, ToyConfig, f"{__name__}:build_toy"))
    try:
        register_configs()
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose("config", overrides=["model=toy", f"hydra.searchpath=[file://{tmp_path}]"])
        assert model_family(cfg.model) == CLASSICAL and cfg.model.strategy == "prior"
        estimator = build_estimator(cfg, "binary", 2)
        assert estimator.estimator.strategy == "prior"
        assert "toy" in models_for("multiclass") and "toy" not in models_for("regression")
        with pytest.raises(ConfigError, match="model=toy cannot do a regression task"):
            build_estimator(cfg, "regression", 0)
    finally:
        del REGISTRY["toy"]


def test_an_entry_must_name_a_family():
    with pytest.raises(ValueError, match="family"):
        register(ModelSpec("bad", "quantum", CLASSIFICATION, ToyConfig, f"{__name__}:build_toy"))
    assert "bad" not in REGISTRY


SEARCHES = sorted(p.stem for p in (CONF_DIR / "hparams_search").glob("*.yaml") if p.stem != "tpe_budget")


@pytest.mark.parametrize("search", SEARCHES)
def test_every_search_space_names_keys_of_its_model_with_the_shared_budget(search):
    from omegaconf import OmegaConf

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=[f"hparams_search={search}"], return_hydra_config=True)
    assert cfg.model.name == search and cfg.model.name in REGISTRY
    sweeper = cfg.hydra.sweeper
    assert (sweeper.n_trials, sweeper.sampler.n_startup_trials, sweeper.direction) == (20, 8, None)
    for key in sweeper.params:
        assert OmegaConf.select(cfg, key, default="absent") != "absent", key


# ------------------------------------------------ a new model is 3 files (README, "Extending")
NEW_MODEL_SCHEMA = """
from dataclasses import dataclass
from typing import Optional

from src.config.models import ClassicalConfig
from src.config.ranges import bounded, integer_at_least, optional
from src.models.registry import pair, register


@dataclass
class ExtraTreesConfig(ClassicalConfig):
    name: str = "extra_trees"
    n_estimators: int = bounded(50, integer_at_least(1))
    max_depth: Optional[int] = bounded(None, optional(integer_at_least(1)))


register(pair("extra_trees", ExtraTreesConfig, "sklearn.ensemble:ExtraTreesClassifier",
              "sklearn.ensemble:ExtraTreesRegressor"))
"""
NEW_MODEL_YAML = "defaults:\n  - /schema_model_extra_trees@_here_\n  - _self_\n"


def _train_with_new_model(tmp_path, *overrides: str):
    """`python -m src.train` in a process where a new model was added as the
    README says: its schema (with the bound), its registry entry, its YAML."""
    import subprocess
    import sys

    from tests.conftest import ROOT, hydra_dirs

    (tmp_path / "extra_trees_model.py").write_text(NEW_MODEL_SCHEMA)
    (tmp_path / "conf" / "model").mkdir(parents=True)
    (tmp_path / "conf" / "model" / "extra_trees.yaml").write_text(NEW_MODEL_YAML)
    args = [
        "model=extra_trees",
        *overrides,
        f"hydra.searchpath=[file://{tmp_path / 'conf'}]",
        f"tracking.uri=sqlite:///{tmp_path / 'mlflow.db'}",
        *hydra_dirs(tmp_path / "hydra"),
    ]
    program = (
        f"import runpy, sys; sys.path.insert(0, {str(tmp_path)!r}); import extra_trees_model; "
        f"sys.argv = ['src.train', *{args!r}]; runpy.run_module('src.train', run_name='__main__')"
    )
    return subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_a_new_models_bound_is_refused_with_exit_2_and_one_line(tmp_path):
    result = _train_with_new_model(tmp_path, "model.max_depth=0")
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert errors == ["error: model.max_depth=0 is out of range: null or an integer >= 1"]
    assert not (tmp_path / "mlflow.db").exists()  # refused before any run started


def test_a_new_model_in_range_trains(tmp_path):
    result = _train_with_new_model(tmp_path, "model.max_depth=3", "dataset=iris")
    assert result.returncode == 0, result.stderr
    assert "test_accuracy" in result.stdout
