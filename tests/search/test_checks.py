"""A search refuses, in one line and before any job, what would make it run wrong: a direction
against its metric, an impossible budget, unknown sampler or pruner keywords, a second search of
the same study at once, a named study that does not match."""

import optuna
import pytest
from optuna.distributions import FloatDistribution

from src.errors import ConfigError
from src.search.checks import check_settings, direction_of
from src.search.study import hold_study_lock, open_study
from tests.conftest import run_cli

GOOD = {"n_trials": 20, "timeout": None, "sampler": {"seed": 0}, "pruner": {"n_warmup_steps": 5}}


def test_the_direction_follows_the_metric():
    for metric in ("final_val_mse", "final_val_rmse", "final_val_mae", "final_val_log_loss", "final_val_brier"):
        assert direction_of(metric) == "minimize" and check_settings(GOOD, metric) == "minimize"
    for metric in ("final_val_accuracy", "final_val_roc_auc", "final_val_r2", "final_val_f1_macro"):
        assert direction_of(metric) == "maximize" and check_settings(GOOD, metric) == "maximize"


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"direction": "maximize"}, "hydra.sweeper.direction=maximize contradicts optimized_metric=final_val_mse"),
        ({"direction": "up"}, "hydra.sweeper.direction=up: use maximize or minimize"),
        ({"n_trials": 0}, "hydra.sweeper.n_trials=0: use a whole number of trials >= 1"),
        ({"n_trials": -3}, "hydra.sweeper.n_trials=-3"),
        ({"timeout": -1}, "hydra.sweeper.timeout=-1: use a number of seconds > 0"),
        ({"pruner": {"n_warmup_steps": 2.5}}, "hydra.sweeper.pruner.n_warmup_steps=2.5: use a whole number >= 0"),
        ({"sampler": {"seed": 0, "n_startup": 3}}, "hydra.sweeper.sampler has no keyword n_startup"),
        ({"pruner": {"warmup": 3}}, "hydra.sweeper.pruner has no keyword warmup"),
    ],
)
def test_settings_that_cannot_run_as_meant_are_refused(settings, message):
    with pytest.raises(ConfigError) as error:
        check_settings({**GOOD, **settings}, "final_val_mse")
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_second_search_of_the_same_study_is_refused_while_the_first_holds_it(tmp_path):
    path = tmp_path / "optuna" / "s.log"
    first = hold_study_lock(path)
    with pytest.raises(ConfigError, match=r"the study s.log is in use by another search \(pid \d+\)"):
        hold_study_lock(path)
    first.close()  # the first search ended: the study is free again
    hold_study_lock(path).close()


def test_unwritable_search_storage_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match="the search storage .* cannot be written"):
        hold_study_lock(blocker / "optuna" / "s.log")


def test_a_named_study_that_does_not_match_the_search_is_refused(tmp_path):
    path = tmp_path / "s.log"

    def open_(key):
        return open_study(path, "s", "maximize", optuna.samplers.RandomSampler(seed=0), None, resume=True, key=key)

    study, *_ = open_("svm-digits-aaaa")
    study.tell(study.ask({"x": FloatDistribution(0, 1)}), 0.5)
    assert len(open_("svm-digits-aaaa")[0].trials) == 1  # the same search continues it
    with pytest.raises(ConfigError, match="the stored study s .* does not match this search"):
        open_("knn-digits-bbbb")


@pytest.mark.parametrize(
    "args, message",
    [
        (["optimized_metric=val_accuracy"], "optimized_metric=val_accuracy: a search selects on a run's final"),
        (["optimized_metric=final_val_mse", "hydra.sweeper.direction=maximize"], "contradicts optimized_metric"),
        (["hydra.sweeper.n_trials=0"], "hydra.sweeper.n_trials=0"),
    ],
)
def test_the_command_line_refuses_them_before_any_job(tracking_uri, tmp_path, args, message):
    proc = run_cli("-m", "hparams_search=knn", "dataset=diabetes", *args, f"hydra.sweep.dir={tmp_path / 's'}")
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.strip().splitlines() if line.startswith("error")]
    assert len(lines) == 1 and message in lines[0], proc.stderr[-2000:]
    assert "[1/" not in proc.stdout  # no job started
