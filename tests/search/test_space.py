"""Every search (conf/hparams_search/) composes with the shared budget, and its
space parses into Optuna distributions over keys of its model's schema."""

import pytest
from hydra import compose, initialize_config_dir
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from src.errors import ConfigError
from src.job.objective import objective_value
from src.job.runner import RunResult
from src.search.space import as_overrides, search_space
from tests.conftest import CONF_DIR, make_spec

SEARCHES = sorted(p.stem for p in (CONF_DIR / "hparams_search").glob("*.yaml") if p.stem != "tpe_budget")


def _compose(*overrides: str, hydra: bool = False):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides), return_hydra_config=hydra)


def test_every_model_worth_tuning_has_a_search():
    assert set(SEARCHES) >= {
        "mlp", "mlp_plus", "logistic_regression", "svm", "random_forest", "gradient_boosting", "knn",
        "xgboost", "lightgbm", "catboost",
    }  # fmt: skip


@pytest.mark.parametrize("search", SEARCHES)
def test_every_search_composes_with_the_same_trial_budget(search):
    cfg = _compose(f"hparams_search={search}", "dataset=digits", hydra=True)
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_ == "hydra_plugins.mlvsdl_sweeper.sweeper.OptunaStudySweeper"
    assert (sweeper.n_trials, sweeper.direction, sweeper.timeout) == (20, None, None)  # the metric's direction
    assert dict(sweeper.sampler) == {"seed": 0, "n_startup_trials": 8}
    assert list(sweeper.selection_seeds) == [0, 1] and list(sweeper.final_seeds) == [0, 1, 2]
    assert cfg.optimized_metric == "final_val_accuracy" and cfg.study == "hparams"
    assert cfg.model.name == search
    space, fixed = search_space(sweeper.params, [])
    assert space and not fixed
    if search == "mlp":
        assert set(space) == {
            "optimizer.lr",
            "model.hidden_sizes",
            "optimizer.batch_size",
            "model.dropout",
            "optimizer.weight_decay",
        }
        # The search trains as the studies' plain MLP does (trainer=early_stop): one trainer setting for both.
        assert (cfg.trainer.max_epochs, cfg.trainer.early_stopping_patience) == (200, 20)
    for key, distribution in space.items():  # every searched key exists in this model's schema
        _compose(f"hparams_search={search}", "dataset=digits", *as_overrides({key: _sample(distribution)}))


def _sample(distribution):
    choices = getattr(distribution, "choices", None)
    if choices:
        return choices[0]
    return distribution.low


def test_the_override_grammar_becomes_optuna_distributions():
    params = {
        "a": "tag(log, interval(1e-4, 1e-1))",
        "b": "int(tag(log, interval(8, 64)))",
        "c": "choice([32],[64,64])",
        "d": "interval(0.0, 0.5)",
        "e": "range(1, 10, 3)",
    }
    space, fixed = search_space(params, ["d=0.25", "f=choice(x, y)", "dataset=digits"])
    assert space["a"] == FloatDistribution(1e-4, 1e-1, log=True)
    assert space["b"] == IntDistribution(8, 64, log=True)
    assert space["c"] == CategoricalDistribution(["[32]", "[64,64]"])
    assert space["e"] == IntDistribution(1, 10, step=3)
    assert space["f"] == CategoricalDistribution(["x", "y"])
    assert "d" not in space and fixed == ["d=0.25", "dataset=digits"]  # a plain value fixes a searched key


def test_objective_is_the_optimized_metric_and_an_unknown_one_is_an_error():
    result = RunResult("id", "mlp-digits-s0", {"test_accuracy": 0.9, "final_val_accuracy": 0.8}, "test_accuracy")
    assert objective_value(make_spec(), result) == 0.9
    assert objective_value(make_spec("optimized_metric=final_val_accuracy"), result) == 0.8
    with pytest.raises(ConfigError, match="optimized_metric=val_acc .*final_val_accuracy"):
        objective_value(make_spec("optimized_metric=val_acc"), result)


def test_a_searchs_progress_counts_its_jobs_not_its_trials():
    from src.tracking.sweep import swept

    cfg = _compose("hparams_search=svm", "dataset=digits", "hydra.sweeper.n_trials=2", hydra=True)
    _, n_jobs = swept(cfg)
    assert n_jobs == 2 * 2 + 2 * 3  # two trials on two selection seeds, tuned and default on three final seeds
