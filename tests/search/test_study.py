"""A study's storage, name and resume, without running jobs."""

from pathlib import Path

import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState

from src.errors import ConfigError, UserError
from src.search.study import continued_sampler, finished, lock, open_study, storage_dir, study_key


def _open(path: Path, resume: bool) -> tuple:
    return open_study(path, "s", "maximize", optuna.samplers.RandomSampler(seed=0), None, resume=resume)


def test_the_study_lives_beside_the_mlflow_store(tmp_path):
    assert storage_dir(f"sqlite:///{tmp_path}/x/mlflow.db", None, "/elsewhere") == tmp_path / "x" / "optuna"
    assert storage_dir("http://server:5000", None, str(tmp_path)) == tmp_path / "optuna"
    assert storage_dir("sqlite:////a/mlflow.db", str(tmp_path / "mine"), "/") == tmp_path / "mine"


def test_the_study_name_follows_what_a_trial_scores_not_the_budget():
    job = {"model": {"name": "svm"}, "dataset": {"name": "digits"}, "trainer": {"max_epochs": 100}, "seed": 0}
    space = {"model.C": FloatDistribution(1e-2, 1e3, log=True)}
    sweeper = {"direction": "maximize", "n_trials": 20, "timeout": None, "sampler": {"seed": 0}}
    key = study_key(job, space, sweeper)
    assert key.startswith("svm-digits-")
    assert study_key({**job, "seed": 3, "tracking": {"run_name": "x"}}, space, {**sweeper, "n_trials": 5}) == key
    assert study_key({**job, "trainer": {"max_epochs": 50}}, space, sweeper) != key
    assert study_key(job, {"model.C": FloatDistribution(1e-1, 1e3, log=True)}, sweeper) != key
    assert study_key(job, space, {**sweeper, "direction": "minimize"}) != key


def test_a_killed_search_loses_no_finished_trial_and_counts_its_running_one_as_failed(tmp_path):
    path = tmp_path / "optuna" / "s.log"
    study, *_ = _open(path, resume=False)
    for value in (0.5, 0.7):
        trial = study.ask({"x": FloatDistribution(0, 1)})
        study.tell(trial, value)
    study.ask({"x": FloatDistribution(0, 1)})  # in flight when the search was killed
    study, moved, stale = _open(path, resume=True)
    assert moved is None and stale == [2]
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.FAIL]
    assert len(finished(study)) == 2
    assert study.ask().number == 3  # the next trial is new: it is tried again, not counted twice


def test_without_resume_an_earlier_study_is_kept_aside_and_a_fresh_one_starts(tmp_path):
    path = tmp_path / "optuna" / "s.log"
    study, *_ = _open(path, resume=False)
    study.tell(study.ask({"x": FloatDistribution(0, 1)}), 0.5)
    study, moved, _ = _open(path, resume=False)
    assert not study.trials and moved is not None and moved.exists() and moved.parent == path.parent


def test_a_second_search_of_a_study_in_use_is_refused_and_renames_nothing(tmp_path):
    path = tmp_path / "optuna" / "s.log"
    held = lock(path)  # the first search
    study, *_ = _open(path, resume=False)
    study.ask({"x": FloatDistribution(0, 1)})
    with pytest.raises(UserError, match="is in use by another search"):
        lock(path)
    assert path.exists() and [p.name for p in path.parent.glob("*.log")] == ["s.log"]
    held.close()  # the first search ended: the study is free again
    lock(path).close()


def test_a_resumed_session_does_not_propose_the_first_sessions_trials_again(tmp_path):
    space = {"x": FloatDistribution(0, 1), "y": FloatDistribution(0, 1)}
    path = tmp_path / "optuna" / "s.log"
    params = []
    for resume in (False, True):
        study, *_ = _open(path, resume=resume)
        study.sampler = continued_sampler({"seed": 0, "n_startup_trials": 8}, study)
        for _ in range(3):
            trial = study.ask(space)
            params.append(tuple(trial.params.values()))
            study.tell(trial, 0.5)
    assert len(set(params)) == 6


def test_a_fixed_study_name_does_not_continue_a_study_of_another_search(tmp_path):
    path = tmp_path / "optuna" / "mine.log"
    sampler = optuna.samplers.RandomSampler(seed=0)
    study, *_ = open_study(path, "mine", "maximize", sampler, None, resume=False, key="svm-digits-aaa")
    study.tell(study.ask({"x": FloatDistribution(0, 1)}), 0.5)
    open_study(path, "mine", "maximize", sampler, None, resume=True, key="svm-digits-aaa")  # the same search
    with pytest.raises(ConfigError, match="does not match this search"):
        open_study(path, "mine", "maximize", sampler, None, resume=True, key="knn-digits-bbb")
    with pytest.raises(ConfigError, match="does not match this search"):
        open_study(path, "mine", "minimize", sampler, None, resume=True, key="svm-digits-aaa")


def test_a_tables_study_follows_the_files_content(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("a,y\n1,0\n2,1\n")
    job = {"model": {"name": "knn"}, "dataset": {"name": "table", "path": str(table)}}
    before = study_key(job, {}, {})
    table.write_text("a,y\n1,1\n2,0\n")
    assert study_key(job, {}, {}) != before


def test_no_two_complete_trials_share_their_parameters_until_the_space_is_spent(tmp_path):
    from optuna.distributions import CategoricalDistribution

    from src.search.study import REPEAT_OF, ask_new

    study, *_ = _open(tmp_path / "optuna" / "s.log", resume=False)
    space = {"x": CategoricalDistribution(["a", "b", "c"])}
    for _ in range(3):
        trial = ask_new(study, space)
        study.tell(trial, 0.5)
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert sorted(t.params["x"] for t in complete) == ["a", "b", "c"]
    assert all(REPEAT_OF in t.user_attrs for t in study.get_trials(states=(TrialState.FAIL,)))
    study.tell(ask_new(study, space, tries=2), 0.5)  # the space is spent: a repeat runs
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) == 4
