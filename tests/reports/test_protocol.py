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


def _check_verdicts(table: pd.DataFrame) -> None:
    assert list(table.columns) == COLUMNS
    contains_zero = (table["ci_low"] <= 0) & (table["ci_high"] >= 0)
    assert ((table["verdict"] == "tie") == contains_zero).all()
    assert set(table["verdict"]) <= {"deep", "classical", "tie"}
    assert (table["ci_low"] <= table["mean_diff"]).all() and (table["mean_diff"] <= table["ci_high"]).all()


@pytest.mark.slow
def test_the_done_criterion_sweep_logs_verdicts_and_a_critical_difference_diagram(tmp_path):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    proc = run_cli(
        "-m",
        "model=mlp_plus,lightgbm,logistic_regression",
        "dataset=digits,breast_cancer,wine",
        "seed=0,1,2",
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
    _check_verdicts(table)
    assert sorted(table["dataset"]) == ["breast_cancer", "digits", "wine"] and (table["best_deep"] == "mlp_plus").all()
    names = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert "critical_difference.png" in names
    jobs = [r for r in client.search_runs([run.info.experiment_id]) if "model" in r.data.tags]
    assert len(jobs) == 27  # 3 models x 3 datasets x 3 seeds, every one with its test predictions
    for job in jobs:
        assert "predictions.parquet" in {a.path for a in client.list_artifacts(job.info.run_id)}, job.info.run_name
    text = (tmp_path / "report" / "report.md").read_text()
    assert "## Verdicts" in text and "## Across datasets" in text and "paired t-test" in text
    assert "== Verdicts: best deep - best classical, 95% CI" in report.stdout  # the verdict table is printed


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
        "model=mlp_plus,ridge",  # the experiment's models are 7; two keep the test short
        "trainer.max_epochs=2",
        "seed=0,1",
        env={"MLFLOW_TRACKING_URI": uri},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = _report_cli("--study", "compare", "--sweep", "latest", "--out", str(tmp_path / "r"), uri=uri, timeout=120)
    assert report.returncode == 0, report.stderr[-3000:]
    client = MlflowClient(tracking_uri=uri)
    verdicts = _logged_verdicts(client, _report_run(client), tmp_path)
    _check_verdicts(verdicts)
    assert sorted(verdicts["n_train"]) == [270, 540, 1080, 2160]  # 1/8 .. all of the 2,160-row pool


def test_compare_check_prints_the_sizes_and_rejects_a_bad_table_or_target(tmp_path, capsys):
    table = tmp_path / "unseen.csv"
    _unseen_table(table)
    assert compare_check.main([str(table), "label"]) == 0
    assert "3000 rows, target 'label' (binary); training sizes 270, 540, 1080, 2160" in capsys.readouterr().out
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
    assert steps[0].startswith("@$(PY) -m src.reports.compare_check '$(DATA)' '$(TARGET)'")
    assert "experiment=compare dataset=table" in steps[1] and "src.report --study compare --sweep latest" in recipe
