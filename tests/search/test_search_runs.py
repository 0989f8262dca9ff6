"""Searches end to end (`python -m src.train -m hparams_search=...`): a resumed
study counts its total, MLP trials are pruned and recorded as such, and the
selection reads validation metrics only."""

import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import yaml
from optuna.trial import TrialState

from src.search.names import matches, trial_name
from src.search.study import journal
from src.tracking.record import Tag
from tests.conftest import run_cli, runs_of

pytestmark = pytest.mark.slow


def _study(tmp_path: Path) -> optuna.Study:
    (path,) = (tmp_path / "optuna").glob("*.log")  # beside the test's mlflow.db
    return optuna.load_study(study_name=path.stem, storage=journal(path))


def _states_so_far(tmp_path: Path) -> list:
    """The trials' states of a search under way; [] until its journal holds the study (the
    file exists a moment before the study is written in it: reading it then raises KeyError)."""
    if not list((tmp_path / "optuna").glob("*.log")):
        return []
    try:
        return [t.state for t in _study(tmp_path).trials]
    except KeyError:
        return []


def _named(run, prefix: str, middle: str, seed) -> bool:
    """`<prefix>-n<n_train>-<middle>-s<seed>`, n_train the run's own training size; while the
    runner leaves the `{n_train}` token as it is, the token."""
    seed = run.data.tags[Tag.SEED] if seed is None else seed
    found = re.fullmatch(rf"{re.escape(prefix)}-n(\d+|\{{n_train\}})-{middle}-s{seed}", run.info.run_name)
    return found is not None and found.group(1) in (run.data.params.get("n_train"), "{n_train}")


def _stage(runs, stage: str) -> list:
    return [r for r in runs if r.data.tags.get(Tag.SEARCH_STAGE) == stage]


def test_a_resumed_search_runs_only_the_missing_trials(tracking_uri, mlflow_client, tmp_path):
    args = ["-m", "hparams_search=logistic_regression", "dataset=digits", "resume=true"]
    first = run_cli(*args, "hydra.sweeper.n_trials=3", f"hydra.sweep.dir={tmp_path / 'a'}")
    assert first.returncode == 0, first.stderr[-3000:]
    second = run_cli(*args, "hydra.sweeper.n_trials=5", f"hydra.sweep.dir={tmp_path / 'b'}")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "3 of 5 trials finished" in second.stdout
    study = _study(tmp_path)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 5
    trials = _stage(runs_of(mlflow_client), "trial")
    # Two selection seeds per trial; trials 0-2 were not rerun by the second search.
    assert sorted(int(r.data.tags[Tag.TRIAL_NUMBER]) for r in trials) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert {r.data.tags[Tag.TRIAL_STATE] for r in trials} == {"complete"}
    assert len({tuple(t.params.items()) for t in study.trials}) == 5  # the second session proposed new ones
    third_trial = sorted((r for r in trials if r.data.tags[Tag.TRIAL_NUMBER] == "3"), key=lambda r: r.info.run_name)
    for run, seed in zip(
        third_trial, (0, 1), strict=True
    ):  # the training size in the name, once the runner fills it in
        assert _named(run, "logistic_regression-digits", "t3", seed), run.info.run_name
    assert {r.data.tags[Tag.SEARCH_STUDY] for r in trials} == {study.study_name}
    final = _stage(runs_of(mlflow_client), "final")
    seeds_by_best: dict[str, list[int]] = {}  # the second search trains them again only for a new best trial
    for run in final:
        seeds_by_best.setdefault(run.data.tags[Tag.BEST_TRIAL], []).append(int(run.data.tags[Tag.SEED]))
    assert str(study.best_trial.number) in seeds_by_best
    assert all(sorted(seeds) == [0, 1, 2] for seeds in seeds_by_best.values()), seeds_by_best
    third = run_cli(*args, "hydra.sweeper.n_trials=5", f"hydra.sweep.dir={tmp_path / 'c'}")
    assert third.returncode == 0, third.stderr[-3000:]
    assert re.search(r"logistic_regression-digits-n(\d+|\{n_train\})-tuned-s0 already FINISHED", third.stdout)
    for run in runs_of(mlflow_client):
        stage = run.data.tags.get(Tag.SEARCH_STAGE)
        if stage in ("final", "default"):
            assert _named(run, "logistic_regression-digits", "tuned" if stage == "final" else "default", None)
    assert len(_stage(runs_of(mlflow_client), "final")) == len(final)  # a finished search trains nothing again
    assert sorted(int(r.data.tags[Tag.SEED]) for r in _stage(runs_of(mlflow_client), "default")) == [0, 1, 2]
    results = yaml.safe_load((tmp_path / "b" / "optimization_results.yaml").read_text())
    assert results["trials"] == {"complete": 5, "pruned": 0, "failed": 0}
    for run in final:  # the tuned runs carry the search's cost, all its trials included
        assert run.data.metrics["search_fit_time_s"] > 0 and run.data.metrics["search_wall_time_s"] > 0
    assert results["search_fit_time_s"] == pytest.approx(
        sum(r.data.metrics["fit_time_s"] for r in trials), rel=1e-3, abs=1e-3
    )
    parents = [r for r in runs_of(mlflow_client) if r.data.tags.get(Tag.SWEEP) == "true"]
    assert {p.data.tags[Tag.SEARCH_STUDY] for p in parents} == {study.study_name}


def test_an_mlp_search_prunes_trials_in_a_bad_region(tracking_uri, mlflow_client, tmp_path):
    proc = run_cli(
        "-m",
        "hparams_search=mlp",
        "dataset=digits",
        "optimizer.lr=choice(0.01, 0.0000001)",  # 1e-7: the net does not learn
        "model.hidden_sizes=[32]",
        "optimizer.batch_size=64",
        "model.dropout=0.0",
        "optimizer.weight_decay=0.0",
        "trainer.max_epochs=12",
        "hydra.sweeper.n_trials=5",
        "hydra.sweeper.sampler.n_startup_trials=5",
        "hydra.sweeper.pruner.n_startup_trials=1",
        "hydra.sweeper.pruner.n_warmup_steps=2",
        "hydra.sweeper.selection_seeds=[0]",
        "hydra.sweeper.final_seeds=[]",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    study = _study(tmp_path)
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
    assert pruned, [(t.params, t.state) for t in study.trials]
    assert all(t.params["optimizer.lr"] == 1e-7 for t in pruned)
    by_trial = {int(r.data.tags[Tag.TRIAL_NUMBER]): r for r in _stage(runs_of(mlflow_client), "trial")}
    for trial in pruned:
        run = by_trial[trial.number]
        assert run.info.status == "FINISHED"  # pruned is not failed
        assert run.data.tags[Tag.TRIAL_STATE] == "pruned"
        epoch = int(run.data.tags[Tag.PRUNED_AT_EPOCH])
        assert 2 <= epoch < 12 and int(run.data.tags[Tag.EPOCHS_TRAINED]) == epoch


def test_the_selection_reads_validation_metrics_never_test_ones(tracking_uri, mlflow_client, tmp_path):
    proc = run_cli(
        "-m",
        "hparams_search=knn",
        "dataset=digits",
        "hydra.sweeper.n_trials=4",
        "hydra.sweeper.sampler.n_startup_trials=4",
        "hydra.sweeper.final_seeds=[0]",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    study = _study(tmp_path)
    trials = _stage(runs_of(mlflow_client), "trial")
    validation, test = {}, {}
    for trial in study.get_trials(states=(TrialState.COMPLETE,)):  # a repeated proposal runs no job
        mine = [r for r in trials if int(r.data.tags[Tag.TRIAL_NUMBER]) == trial.number]
        assert sorted(int(r.data.tags[Tag.SEED]) for r in mine) == [0, 1]  # scored on two repeats
        validation[trial.number] = statistics.mean(r.data.metrics["final_val_accuracy"] for r in mine)
        test[trial.number] = statistics.mean(r.data.metrics["test_accuracy"] for r in mine)
        assert trial.value == pytest.approx(validation[trial.number])  # what Optuna saw
        assert all(r.data.metrics["trial_value"] == pytest.approx(trial.value) for r in mine)
    assert validation != test
    assert study.best_trial.number == max(validation, key=validation.get)
    best = [r for r in trials if r.data.tags.get(Tag.BEST_TRIAL) == "true"]
    assert {int(r.data.tags[Tag.TRIAL_NUMBER]) for r in best} == {study.best_trial.number}


@pytest.mark.parametrize("metric", ["test_accuracy", "null"])
def test_a_search_on_a_test_metric_or_none_is_refused(tracking_uri, mlflow_client, tmp_path, metric):
    proc = run_cli("-m", "hparams_search=knn", "dataset=digits", f"optimized_metric={metric}")
    assert proc.returncode == 2
    assert "a search selects on a final validation metric" in proc.stderr
    assert not [r for r in runs_of(mlflow_client) if r.data.tags.get(Tag.SWEEP) != "true"]


@pytest.mark.parametrize(
    "overrides, problem",
    [(["dataset=diabetes", "optimized_metric=final_val_mse", "hydra.sweeper.direction=maximize"],
      "hydra.sweeper.direction=maximize contradicts optimized_metric=final_val_mse"),
     (["hydra.sweeper.n_trials=0"], "hydra.sweeper.n_trials=0: expected a whole number of trials above 0"),
     (["tracking.register_as=digits-knn"], "tracking.register_as=digits-knn needs tracking.log_model=true")],
)  # fmt: skip
def test_bad_search_settings_stop_before_any_job_with_one_line(tracking_uri, mlflow_client, overrides, problem):
    proc = run_cli("-m", "hparams_search=knn", "dataset=digits", *overrides)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert problem in proc.stderr
    assert not [r for r in runs_of(mlflow_client) if r.data.tags.get(Tag.SWEEP) != "true"]  # no job ran
    assert {r.info.status for r in runs_of(mlflow_client)} <= {"FAILED"}  # the parent run, if any, is not RUNNING


def test_a_search_on_a_metric_that_does_not_exist_stops_loudly(tracking_uri, tmp_path):
    proc = run_cli(
        "-m",
        "hparams_search=knn",
        "dataset=workshop_circles",
        "hydra.sweeper.n_trials=3",
        "optimized_metric=final_val_nope",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    )
    assert proc.returncode != 0
    assert "optimized_metric=final_val_nope is not a metric" in proc.stderr
    assert not (tmp_path / "sweep" / "optimization_results.yaml").exists()


def test_a_wall_clock_budget_stops_the_search_before_its_trial_count(tracking_uri, tmp_path):
    proc = run_cli(
        "-m",
        "hparams_search=knn",
        "dataset=digits",
        "hydra.sweeper.n_trials=5",
        "hydra.sweeper.timeout=0.01",  # seconds: no trial starts once it has passed
        "hydra.sweeper.final_seeds=[]",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "search: timeout of 0.01 s reached" in proc.stdout
    assert [t.state for t in _study(tmp_path).trials] == [TrialState.COMPLETE]


def test_a_killed_search_resumes_without_losing_or_recounting_a_trial(tracking_uri, mlflow_client, tmp_path):
    """kill -9 while a trial trains: the finished trials stay, the killed one is FAIL, and
    resume=true ends the dead session's parent and trial runs KILLED and runs only what is missing.
    The kill waits for the trial's run to exist (no wall-clock sleep that a loaded machine outruns)."""
    import signal
    import time

    from tests.conftest import ROOT, hydra_dirs

    args = [
        "-m", "hparams_search=mlp", "dataset=digits", "resume=true", "trainer.max_epochs=40",
        "trainer.early_stopping_patience=null", "hydra.sweeper.n_trials=3", "hydra.sweeper.pruner=null",
        "hydra.sweeper.selection_seeds=[0]", "hydra.sweeper.final_seeds=[]",
    ]  # fmt: skip
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri}
    env.pop("HYDRA_FULL_ERROR", None)
    with open(tmp_path / "first.out", "w") as out:  # a file, not a pipe nobody reads: a full pipe stalls the search
        proc = subprocess.Popen(
            [sys.executable, "-m", "src.train", *args, *hydra_dirs(tmp_path / "first")],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # one trial finished and the next one's run training
        states = _states_so_far(tmp_path)
        if TrialState.COMPLETE in states and states[-1] == TrialState.RUNNING:
            given = trial_name("mlp-digits", len(states) - 1, 0)
            running = [
                r for r in runs_of(mlflow_client) if matches(given, r.info.run_name) and r.info.status == "RUNNING"
            ]
            if running:
                killed_id = running[0].info.run_id  # by id: its name gains the size once its split is made
                break
        if proc.poll() is not None:
            pytest.fail(f"the search ended (exit {proc.returncode}) before it could be killed mid-trial")
        time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("the search never had a finished trial and a running one")
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=120) == -signal.SIGKILL
    assert mlflow_client.get_run(killed_id).info.status == "RUNNING"
    done_before = {t.number for t in _study(tmp_path).trials if t.state == TrialState.COMPLETE}
    second = run_cli(*args, f"hydra.sweep.dir={tmp_path / 'second'}")
    assert second.returncode == 0, second.stderr[-3000:]
    states = [t.state for t in _study(tmp_path).trials]
    assert states.count(TrialState.COMPLETE) == 3 and states.count(TrialState.FAIL) == 1
    assert not [r.info.run_name for r in runs_of(mlflow_client) if r.info.status == "RUNNING"]
    parents = [r for r in runs_of(mlflow_client) if r.data.tags.get(Tag.SWEEP) == "true"]
    assert sorted(p.info.status for p in parents) == ["FINISHED", "KILLED"]
    trials = _stage(runs_of(mlflow_client), "trial")
    numbers = sorted(int(r.data.tags[Tag.TRIAL_NUMBER]) for r in trials if r.info.status == "FINISHED")
    assert numbers == sorted({t.number for t in _study(tmp_path).trials if t.state == TrialState.COMPLETE})
    assert done_before <= set(numbers) and len(numbers) == 3  # none of the first session's trials ran again
    (killed,) = [r for r in trials if r.info.status == "KILLED"]  # the interrupted trial's run, counted as failed
    assert killed.info.run_id == killed_id and killed.data.tags[Tag.TRIAL_STATE] == "failed"
    assert int(killed.data.tags[Tag.TRIAL_NUMBER]) == states.index(TrialState.FAIL)
