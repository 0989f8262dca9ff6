"""The report (`python -m src.report`): from MLflow runs to report.md, its PNGs and a report run."""

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from src import report as cli
from src.errors import DivergedError, UserError
from src.job import runner
from src.reports import build as rep
from src.reports.runs import RunFilter, search_runs
from tests.conftest import ROOT, SleepMeter, make_spec, run_cli, runs_of

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------ end to end


@pytest.fixture(scope="module")
def miniature(tmp_path_factory):
    """A miniature of the data_dependency study, run as a user runs it: two sizes, two
    models, two seeds, on digits; then `python -m src.report --study data_dependency`."""
    from mlflow.tracking import MlflowClient

    tmp = tmp_path_factory.mktemp("miniature")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    env = {"MLFLOW_TRACKING_URI": uri}
    proc = run_cli(
        "-m",
        "experiment=data_dependency_digits",
        "model=mlp,logistic_regression",
        "seed=0,1",
        "dataset.train_size=32,1.0",
        "trainer.max_epochs=15",
        f"hydra.sweep.dir={tmp / 'sweep'}",
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = tmp / "report"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        mp.delenv("MLFLOW_PARENT_RUN_ID", raising=False)
        import io
        from contextlib import redirect_stdout

        printed = io.StringIO()
        with redirect_stdout(printed):
            code = cli.main(["--study", "data_dependency", "--out", str(out)])
    assert code == 0
    return MlflowClient(tracking_uri=uri), out, printed.getvalue()


def _expected_verdicts(client) -> list[tuple[int, str, float, float]]:
    """The verdicts the miniature's runs imply, worked out from their recorded test ROC AUCs (two
    folds, two sizes, one model per family) independently of the report: per size the paired
    difference mlp - logistic_regression over the folds, Nadeau and Bengio's corrected 95% interval
    (variance (1/J + n_test/n_rest) s²) and the verdict against the ±0.01 margin."""
    import math

    from scipy import stats

    runs = [run for run in runs_of(client) if "model" in run.data.tags]
    assert len(runs) == 8
    by_size: dict[int, dict] = {}
    for run in runs:
        size = run.data.params["dataset.train_size"]
        entry = by_size.setdefault(size, {"n": [], "ratio": []})
        entry[(run.data.tags["model"], int(run.data.tags["seed"]))] = run.data.metrics["test_roc_auc"]
        entry["n"].append(int(run.data.params["n_train"]))
        n_test, n_rows = int(run.data.params["n_test"]), int(run.data.params["n_rows"])
        entry["ratio"].append(n_test / (n_rows - n_test))
    expected = []
    for entry in by_size.values():
        diff = [entry["mlp", s] - entry["logistic_regression", s] for s in (0, 1)]
        mean, sd = sum(diff) / 2, stats.tstd(diff)
        ratio = sum(entry["ratio"]) / len(entry["ratio"])
        if sd == 0:
            expected.append((round(float(pd.Series(entry["n"]).median())), "n/a", math.nan, math.nan))
            continue
        half = stats.t.ppf(0.975, 1) * math.sqrt((1 / 2 + ratio) * sd**2)
        low, high = mean - half, mean + half
        verdict = (
            "equivalent" if low >= -0.01 and high <= 0.01
            else "deep" if low > 0 else "classical" if high < 0 else "inconclusive"
        )  # fmt: skip
        expected.append((round(float(pd.Series(entry["n"]).median())), verdict, low, high))
    return sorted(expected)


@pytest.mark.slow
def test_the_miniature_report_has_its_table_learning_curve_and_crossover(miniature):
    client, out, printed = miniature
    text = (out / "report.md").read_text()
    assert "## digits" in text
    assert "| model | family | n_train | seeds | test_accuracy (mean ± std) | median fit_time_s |" in text
    table = text.split("### Models", 1)[1].split("###", 1)[0]
    assert "| mlp | deep | 1006 |" in table and "| logistic_regression | classical | 1006 |" in table  # the fold pool
    assert "**" in table  # the best of each column is marked
    assert (out / "learning_curve_digits.png").read_bytes()[:8] == PNG_MAGIC
    assert "![learning curves digits](learning_curve_digits.png)" in text
    # The answer comes first: the verdict box, right after the title and the runs line.
    assert text.split("\n## ", 2)[1].startswith("Verdicts")
    rows = pd.read_csv(out / "verdicts.csv")
    expected = _expected_verdicts(client)
    assert rows[["n_train", "verdict"]].values.tolist() == [[n, v] for n, v, _, _ in expected]
    for (_, _, low, high), (_, row) in zip(expected, rows.iterrows()):
        assert row["metric"] == "roc_auc" and row["n_pairs"] == 2
        if row["verdict"] != "n/a":
            assert (row["ci_low"], row["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    sizes = ", ".join(f"{n} {v}" for n, v, _, _ in expected)
    assert f"verdicts by training size: {sizes}" in text
    assert (out / "pareto_digits.png").exists() and (out / "fit_time_digits.png").exists()
    # The command line prints the verdict table, the models table and the crossover sentence.
    assert "test_accuracy (mean ± std)" in printed and "crossover" in printed and "report.md" in printed


@pytest.mark.slow
def test_the_report_is_logged_as_a_report_run(miniature):
    client, _, _ = miniature
    experiment = client.get_experiment_by_name("mlvsdl")
    (report_run,) = client.search_runs([experiment.experiment_id], "tags.report = 'true'")
    assert report_run.data.tags["study"] == "data_dependency"
    names = {a.path for a in client.list_artifacts(report_run.info.run_id)}
    assert {"report.md", "learning_curve_digits.png", "summary.txt", "verdicts.csv"} <= names
    assert report_run.data.metrics["n_runs"] == 8
    # A second report leaves the first report run and the sweep's parent run out.
    runs = search_runs(client.tracking_uri, RunFilter(study="data_dependency"))
    assert len(runs) == 8


def test_a_diverging_learning_rate_is_reported_as_diverged(tracking_uri, tmp_path):
    base = ("experiment=learning_rate", "seed=0", "trainer.max_epochs=3", "model.hidden_sizes=[16]")
    runner.run(make_spec(*base, "optimizer.lr=0.01"))
    with pytest.raises(DivergedError):
        runner.run(make_spec(*base, "optimizer.lr=10.0"))
    report = rep.make_report(RunFilter(study="learning_rate"), tracking_uri, tmp_path / "lr", log=False)
    text = (tmp_path / "lr" / "report.md").read_text()
    assert report.n_runs == 2 and report.n_failed == 1
    failures = text.split("## Failed and diverged runs", 1)[1]
    assert "| diverged |" in failures and "training diverged" in failures
    assert "minibatch_sgd, lr = 10: 1 run(s) diverged" in text
    assert (tmp_path / "lr" / "lr_sweep_digits.png").exists() and (tmp_path / "lr" / "loss_curves_digits.png").exists()
    # In the model table the diverged run counts as failed, not as a missing row.
    assert "| mlp (lr=10) | deep | — | 0 | — |" in text


def _report_cli(*args: str, uri: str, timeout: float = 60, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, **(env or {})}
    env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run(
        [sys.executable, "-m", "src.report", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def _one_line(proc: subprocess.CompletedProcess) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr[-3000:]
    return lines[0]


def test_no_matching_run_is_a_one_line_error_and_logs_no_report_run(tracking_uri, tmp_path):
    from mlflow.tracking import MlflowClient

    runner.run(make_spec("model=logistic_regression", "study=here"))  # the store holds a run of study "here"
    with pytest.raises(UserError, match="no runs match study=nothing_here .* studies: here"):
        rep.make_report(RunFilter(study="nothing_here"), tracking_uri, tmp_path / "empty")
    meter = SleepMeter(tmp_path)
    proc = _report_cli("--study", "nosuch", "--out", str(tmp_path / "cli"), uri=tracking_uri, env=meter.env)
    assert proc.returncode == 2 and "no runs match study=nosuch" in _one_line(proc)
    assert meter.processes() == 1 and meter.slept() < 1.0  # no retry waits
    assert [r.data.tags.get("report") for r in runs_of(MlflowClient(tracking_uri))] == [None]  # no report run


def test_an_empty_store_is_a_one_line_error(tracking_uri, tmp_path):
    from src.tracking.mlflow_run import client_for, ensure_experiment

    ensure_experiment(client_for(tracking_uri), "mlvsdl")
    proc = _report_cli("--out", str(tmp_path / "r"), uri=tracking_uri)
    assert proc.returncode == 2 and "the store holds no runs" in _one_line(proc)


def test_the_report_never_creates_a_store(tmp_path):
    typo = tmp_path / "mlfow.db"
    proc = _report_cli("--tracking-uri", f"sqlite:///{typo}", "--out", str(tmp_path / "r"), uri="sqlite:///unused")
    assert proc.returncode == 2 and f"no MLflow store at {typo}" in _one_line(proc)
    assert not typo.exists()


def test_ctrl_c_in_the_report_ends_quietly(tracking_uri, tmp_path):
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri}
    proc = subprocess.Popen(
        [sys.executable, "-m", "src.report", "--out", str(tmp_path / "r")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)  # early: still importing pandas, matplotlib and MLflow
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr[-3000:]
    assert [line for line in stderr.splitlines() if line.strip()] == ["interrupted: no report was written"]


def test_an_unknown_experiment_is_a_one_line_error(tracking_uri, capsys):
    from src.tracking.mlflow_run import client_for, ensure_experiment

    ensure_experiment(client_for(tracking_uri), "mlvsdl")  # a store, without that experiment
    assert cli.main(["--experiment", "no_such_experiment", "--no-log"]) == 2
    assert "no experiment named no_such_experiment" in capsys.readouterr().err


def test_feature_importance_is_logged_per_run_and_compared_in_the_report(tracking_uri, tmp_path):
    from mlflow.tracking import MlflowClient

    for model in ("random_forest", "mlp"):
        runner.run(
            make_spec(
                "dataset=workshop_circles",
                f"model={model}",
                "trainer.max_epochs=3",
                "tracking.log_importance=true",
                "study=interpretability",
            )
        )
    client = MlflowClient(tracking_uri=tracking_uri)
    for run in client.search_runs([client.get_experiment_by_name("mlvsdl").experiment_id]):
        names = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"feature_importance.csv", "feature_importance.png"} <= names
        table = pd.read_csv(client.download_artifacts(run.info.run_id, "feature_importance.csv", str(tmp_path)))
        assert set(table[table["kind"] == "permutation"]["feature"]) == {"x1", "x2"}
        assert ("tree" in set(table["kind"])) == (run.data.tags["model"] == "random_forest")
    rep.make_report(RunFilter(study="interpretability"), tracking_uri, tmp_path / "imp", log=False)
    text = (tmp_path / "imp" / "report.md").read_text()
    assert "### Feature importance" in text and (tmp_path / "imp" / "importance_workshop_circles.png").exists()


def test_the_report_says_what_it_is_doing(tracking_uri, tmp_path):
    runner.run(make_spec("model=logistic_regression", "study=here"))
    messages: list[str] = []
    rep.make_report(RunFilter(study="here"), tracking_uri, tmp_path / "r", progress=messages.append)
    assert messages[0].startswith("reading the runs (study=here) from sqlite:")
    assert messages[1] == "1 runs read"
    assert messages[2].startswith("[1/1] dataset ") and messages[2].endswith(": 1 runs")
    assert messages[-1] == "logging the report run"


def test_a_margin_that_is_not_positive_is_a_usage_error(capsys):
    assert cli.main(["--margin", "0", "--no-log"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --margin 0.0: the equivalence margin must be > 0"]
