"""The run spec (src/config/spec.py): the composed config resolved once, typed and frozen."""

import dataclasses

import pytest

from src.config.models import XGBoostConfig
from src.config.spec import RunSpec
from src.config.training import OptimizerConfig, TrainerConfig
from tests.conftest import make_config, make_spec


def test_the_spec_holds_typed_groups_and_the_facts_resolved_from_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = make_spec("model=xgboost", "dataset=digits", "tracking.uri=sqlite:///relative.db")
    assert type(spec.model) is XGBoostConfig and type(spec.trainer) is TrainerConfig
    assert type(spec.optimizer) is OptimizerConfig
    assert spec.family == "classical" and spec.task == "multiclass" and spec.dataset_label == "digits"
    assert spec.tracking_uri == f"sqlite:///{tmp_path / 'relative.db'}"  # absolute: every job writes one file
    assert len(spec.config_hash) == 16
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.seed = 3  # type: ignore[misc]


def test_a_table_without_a_declared_task_leaves_it_to_the_data(tmp_path):
    (tmp_path / "t.csv").write_text("x,y\n1,a\n2,b\n")
    spec = make_spec("dataset=table", f"dataset.path={tmp_path / 't.csv'}", "dataset.target=y")
    assert spec.task is None and spec.dataset_label.startswith("t-")


def test_run_names_get_the_training_size_once_the_split_is_made():
    spec = make_spec("model=lightgbm", "dataset=digits", "seed=2")
    assert spec.run_name() == "lightgbm-digits-s2" and spec.run_name(1294) == "lightgbm-digits-n1294-s2"
    named = make_spec("tracking.run_name='lightgbm-digits-n{n_train}-t3-s0'")  # a search trial's name
    assert named.run_name() == "lightgbm-digits-t3-s0" and named.run_name(1294) == "lightgbm-digits-n1294-t3-s0"


def test_the_hash_covers_what_the_family_reads_and_nothing_else():
    base = make_spec("model=random_forest")
    assert make_spec("model=random_forest").config_hash == base.config_hash
    assert make_spec("model=random_forest", "optimizer.lr=0.5").config_hash == base.config_hash  # not read
    assert make_spec("model=random_forest", "tracking.experiment=x").config_hash == base.config_hash  # a setting
    assert make_spec("model=random_forest", "model.max_depth=3").config_hash != base.config_hash
    assert make_spec("model=mlp", "optimizer.lr=0.5").config_hash != make_spec("model=mlp").config_hash


def test_a_seed_of_seeds_is_the_spec_of_that_seed_run():
    together = make_spec("model=mlp", "seeds=[0,1,2]")
    alone = make_spec("model=mlp", "seed=1")
    one = together.for_seed(1)
    assert one.seed == 1 and one.seeds is None and together.seeds == (0, 1, 2)
    assert one.config_hash == alone.config_hash and one.recorded() == alone.recorded()
    named = make_spec("seeds=[0,1]", "tracking.run_name=job7").for_seed(1)
    assert named.run_name() == "job7-s1" and named.recorded()["tracking"]["run_name"] == "job7-s1"


def test_the_recorded_config_is_the_familys_groups_with_passwords_masked():
    spec = make_spec("model=logistic_regression", "tracking.uri=postgresql://alice:pw@db.example/mlflow")
    recorded = spec.recorded()
    assert "optimizer" not in recorded and "activation" not in recorded  # the MLP's groups
    assert recorded["trainer"] == {"cpu_threads": 1}  # the thread budget both families share
    assert recorded["tracking"]["uri"] == "postgresql://alice:***@db.example/mlflow"
    assert "pw" not in str(spec.recorded()) and spec.resolved["tracking"]["uri"].endswith("pw@db.example/mlflow")


def test_from_config_reads_the_composed_dictconfig_as_train_gives_it():
    cfg = make_config("model=xgboost", "model.max_depth=4")
    spec = RunSpec.from_config(cfg)
    assert spec.model.max_depth == 4 and spec.resolved["model"]["max_depth"] == 4
