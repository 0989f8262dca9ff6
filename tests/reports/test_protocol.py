"""The verdict protocol end to end: the issue's done-criterion sweep (reduced), its report's
verdicts.csv and critical-difference diagram on the report run; experiment=compare on a
table the project has never seen; `make compare`'s check of DATA and TARGET."""

import numpy as np
import pandas as pd
import pytest

from src.reports import compare_check
from src.reports.verdicts import COLUMNS
from tests.conftest import ROOT, run_cli
from tests.reports.test_report import _report_cli


def _report_run(client):
    experiment = client.get_experiment_by_name("mlvsdl")
    (run,) = client.search_runs([experiment.experiment_id], "tags.report = 'true'")
    return run


def _logged_verdicts(client, run, tmp_path) -> pd.DataFrame:
    names = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert "verdicts.csv" in names
    return pd.read_csv(client.download_artifacts(run.info.run_id, "verdicts.csv", str(tmp_path)))


def _check_verdicts(table: pd.DataFrame, min_pairs: int) -> None:
    assert list(table.columns) == COLUMNS
    assert set(table["verdict"]) <= {"deep", "classical", "equivalent", "inconclusive", "n/a"}
    assert (table["metric"] == "roc_auc").all() and (table["n_pairs"] >= min_pairs).all()
    decided = table[table["verdict"] != "n/a"]
    assert (decided["margin"] > 0).all() and (decided["min_detectable"] > 0).all()
    inside = (decided["ci_low"] >= -decided["margin"]) & (decided["ci_high"] <= decided["margin"])
    contains_zero = (decided["ci_low"] <= 0) & (decided["ci_high"] >= 0)
    assert ((decided["verdict"] == "equivalent") == inside).all()
    assert ((decided["verdict"] == "inconclusive") == (contains_zero & ~inside)).all()
    assert (decided["ci_low"] <= decided["mean_diff"]).all() and (decided["mean_diff"] <= decided["ci_high"]).all()


@pytest.mark.slow
def test_the_done_criterion_sweep_logs_verdicts_and_a_critical_difference_diagram(tmp_path):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    proc = run_cli(
        "-m",
        "model=mlp_plus,lightgbm,logistic_regression",
        "dataset=digits,breast_cancer,wine",
        "seed=0,1,2",
        "dataset.cv_folds=3",  # the three repeats are the three folds
        "dataset.select_size=0.2",
        "dataset.train_size=0.5",
        "trainer.max_epochs=2",
        "tracking.plots=false",
        env={"MLFLOW_TRACKING_URI": uri},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = _report_cli("--sweep", "latest", "--out", str(tmp_path / "report"), uri=uri, timeout=120)
    assert report.returncode == 0, report.stderr[-3000:]
    client = MlflowClient(tracking_uri=uri)
    run = _report_run(client)
    table = _logged_verdicts(client, run, tmp_path)
    _check_verdicts(table, min_pairs=3)
    assert sorted(table["dataset"]) == ["breast_cancer", "digits", "wine"] and (table["best_deep"] == "mlp_plus").all()
    names = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert "critical_difference.png" in names
    jobs = [r for r in client.search_runs([run.info.experiment_id]) if "model" in r.data.tags]
    assert len(jobs) == 27  # 3 models x 3 datasets x 3 seeds, every one with its test predictions
    for job in jobs:
        assert "predictions.parquet" in {a.path for a in client.list_artifacts(job.info.run_id)}, job.info.run_name
    text = (tmp_path / "report" / "report.md").read_text()
    assert "## Verdicts" in text and "## Across datasets" in text and "corrected resampled t" in text
    assert "== Verdicts: best deep - best classical, 95% CI" in report.stdout  # the verdict table is printed
    for job in jobs:  # probability metrics beside accuracy, on validation, selection and test
        metrics = job.data.metrics
        assert {"test_roc_auc", "test_log_loss", "test_brier", "test_accuracy", "select_roc_auc"} <= set(metrics)


def _unseen_table(path) -> None:
    """3,000 rows the project has never seen: two numbers, a text column, missing values."""
    rng = np.random.default_rng(7)
    n = 3000
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], size=n)
    score = x1 + np.sin(2 * x2) + (colour == "red") * 0.8 + rng.normal(scale=0.5, size=n)
    frame = pd.DataFrame({"x1": x1, "x2": x2, "colour": colour, "label": np.where(score > 0.3, "yes", "no")})
    frame.loc[5, "x1"] = np.nan
    frame.loc[9, "colour"] = None
    frame.to_csv(path, index=False)


@pytest.mark.slow
def test_compare_on_an_unseen_table_gives_verdicts_at_three_sizes_or_more(tmp_path):
    from mlflow.tracking import MlflowClient

    table = tmp_path / "unseen.csv"
    _unseen_table(table)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    proc = run_cli(
        "-m",
        "experiment=compare",
        "dataset=table",
        f"dataset.path={table}",
        "dataset.target=label",
        "model=mlp_plus,lightgbm,ridge,dummy",  # three of the 7, and ridge: a model without probabilities
        "trainer.max_epochs=2",
        env={"MLFLOW_TRACKING_URI": uri},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = _report_cli("--study", "compare", "--sweep", "latest", "--out", str(tmp_path / "r"), uri=uri, timeout=120)
    assert report.returncode == 0, report.stderr[-3000:]
    client = MlflowClient(tracking_uri=uri)
    verdicts = _logged_verdicts(client, _report_run(client), tmp_path)
    _check_verdicts(verdicts, min_pairs=5)  # the 5 folds
    assert sorted(verdicts["n_train"]) == [420, 840, 1680]  # 1/4 .. all of the 1,680-row pool of each fold
    assert (verdicts["best_classical"] == "lightgbm").all()  # ridge gives no probabilities, dummy is a reference
    text = (tmp_path / "r" / "report.md").read_text()
    assert "ridge logged no roc_auc (no probabilities): left out of the verdict" in text


def test_compare_check_prints_the_sizes_and_rejects_a_bad_table_or_target(tmp_path, capsys):
    table = tmp_path / "unseen.csv"
    _unseen_table(table)
    assert compare_check.main([str(table), "label"]) == 0
    assert "3000 rows, target 'label' (binary); training sizes 420, 840, 1680" in capsys.readouterr().out
    for args, message in [
        ([str(table), "nope"], "the target column 'nope' is missing"),
        ([str(tmp_path / "missing.csv"), "label"], "no such file"),
        (["", ""], "usage: make compare DATA="),
    ]:
        assert compare_check.main(args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err


def test_make_compare_checks_its_arguments_before_the_sweep():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ncompare:", 1)[1].split("\n\n", 1)[0]
    steps = [line.strip() for line in recipe.splitlines() if line.startswith("\t")]
    assert steps[0].startswith('@$(PY) -m src.reports.compare_check "$(DATA)" "$(TARGET)"')
    assert "experiment=compare dataset=table" in steps[1] and "sweep_then_report,compare" in steps[1]


@pytest.mark.slow
def test_make_compare_takes_a_path_with_spaces_and_keeps_the_sweeps_exit_status(tmp_path):
    """The path reaches every job whole; a sweep whose every job fails makes `make` fail, after
    the report of what there is."""
    import os
    import subprocess

    folder = tmp_path / "a path"
    folder.mkdir()
    table = folder / "with spaces.csv"
    _unseen_table(table)
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}

    def make(*args):
        command = ["make", "--no-print-directory", "compare", f"DATA={table}", "TARGET=label", *args]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)

    ok = make(
        "ARGS=model=dummy,logistic_regression dataset.train_size=1.0 seed=0,1 hydra.sweep.dir=" + str(tmp_path / "s1")
    )
    assert ok.returncode == 0, ok.stdout[-2000:] + ok.stderr[-2000:]
    assert "== the report" in ok.stdout and "verdict" in ok.stdout.lower()
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=env["MLFLOW_TRACKING_URI"])
    jobs = [r for r in client.search_runs(["1"]) if "model" in r.data.tags]
    assert len(jobs) == 4 and all(r.info.status == "FINISHED" for r in jobs)
    assert {r.data.params["dataset.path"] for r in jobs} == {str(table)}
    failed = make("ARGS=model=dummy dataset.train_size=99999 seed=0 hydra.sweep.dir=" + str(tmp_path / "s2"))
    assert failed.returncode != 0
    assert "exceeds the training pool" in failed.stdout + failed.stderr
