"""A search's settings are checked before any job runs: one ConfigError line each."""

import pytest

from src.errors import ConfigError
from src.search import checks


@pytest.mark.parametrize(
    "metric, direction",
    [("final_val_accuracy", "maximize"), ("final_val_roc_auc", "maximize"), ("final_val_r2", "maximize"),
     ("final_val_mse", "minimize"), ("final_val_rmse", "minimize"), ("final_val_mae", "minimize"),
     ("final_val_log_loss", "minimize"), ("final_val_brier", "minimize")],
)  # fmt: skip
def test_the_direction_follows_the_metric(metric, direction):
    assert checks.direction(None, metric) == direction
    assert checks.direction(direction, metric) == direction


def test_a_direction_that_contradicts_the_metric_or_is_no_direction_is_refused():
    with pytest.raises(ConfigError, match="direction=maximize contradicts optimized_metric=final_val_mse"):
        checks.direction("maximize", "final_val_mse")
    with pytest.raises(ConfigError, match="direction=up: expected minimize or maximize"):
        checks.direction("up", "final_val_accuracy")


@pytest.mark.parametrize("metric", ["val_accuracy", "test_accuracy", None])
def test_only_a_final_validation_metric_is_selected_on(metric):
    with pytest.raises(ConfigError, match="a search selects on a final validation metric"):
        checks.optimized_metric(metric)


@pytest.mark.parametrize(
    "settings, problem",
    [({"n_trials": 0}, "n_trials=0"), ({"n_trials": -2}, "n_trials=-2"),
     ({"n_trials": 3, "timeout": -1}, "timeout=-1")],
)  # fmt: skip
def test_a_budget_of_no_trials_or_negative_time_is_refused(settings, problem):
    with pytest.raises(ConfigError, match=problem):
        checks.budget(settings)
    checks.budget({"n_trials": 3, "timeout": 0.5})


def test_sampler_and_pruner_keywords_are_checked():
    checks.sampler_keywords({"seed": 0, "n_startup_trials": 8})
    with pytest.raises(ConfigError, match="sampler.n_startup: not a keyword"):
        checks.sampler_keywords({"n_startup": 8})
    checks.pruner_keywords({"n_startup_trials": 4, "n_warmup_steps": 5})
    with pytest.raises(ConfigError, match="pruner.n_warmup_steps=2.5: expected a whole number"):
        checks.pruner_keywords({"n_warmup_steps": 2.5})


def test_a_storage_with_an_apostrophe_or_not_writable_is_refused(tmp_path):
    checks.storage(tmp_path / "new" / "optuna")
    with pytest.raises(ConfigError, match="contains an apostrophe"):
        checks.storage(tmp_path / "it's" / "optuna")
    (tmp_path / "a-file").write_text("")  # a directory cannot be made below a file (even as root)
    with pytest.raises(ConfigError, match="is not writable"):
        checks.storage(tmp_path / "a-file" / "optuna")


def test_register_as_needs_a_logged_model_and_a_valid_name():
    from omegaconf import OmegaConf

    from src.config.checks import check_register_as

    check_register_as(OmegaConf.create({"register_as": "digits-svm", "log_model": True}))
    with pytest.raises(ConfigError, match="register_as=digits-svm needs tracking.log_model=true"):
        check_register_as(OmegaConf.create({"register_as": "digits-svm", "log_model": False}))
    with pytest.raises(ConfigError, match="register_as=a/b is not a model name"):
        check_register_as(OmegaConf.create({"register_as": "a/b", "log_model": True}))
