"""The report (`python -m src.report`): from MLflow runs to report.md, its PNGs and a report run."""

import numpy as np
import pandas as pd
import pytest

from src.errors import DivergedError
from src.reports import report as rep
from src.training import runner
from tests.conftest import make_config, run_cli

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------ end to end


@pytest.fixture(scope="module")
def miniature(tmp_path_factory):
    """A miniature of the data_dependency study, run as a user runs it: two sizes, two
    models, one seed, on digits; then `python -m src.report --study data_dependency`."""
    from mlflow.tracking import MlflowClient

    tmp = tmp_path_factory.mktemp("miniature")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    env = {"MLFLOW_TRACKING_URI": uri}
    proc = run_cli(
        "-m",
        "experiment=data_dependency_digits",
        "model=mlp,logistic_regression",
        "seed=0",
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
            code = rep.main(["--study", "data_dependency", "--out", str(out)])
    assert code == 0
    return MlflowClient(tracking_uri=uri), out, printed.getvalue()


@pytest.mark.slow
def test_the_miniature_report_has_its_table_learning_curve_and_crossover(miniature):
    _, out, printed = miniature
    text = (out / "report.md").read_text()
    assert "## digits" in text
    assert "| model | family | n_train | seeds | test_accuracy (mean ± std) | median fit_time_s |" in text
    table = text.split("### Models", 1)[1].split("###", 1)[0]
    assert "| mlp | deep | 1294 |" in table and "| logistic_regression | classical | 1294 |" in table
    assert "**" in table  # the best of each column is marked
    assert (out / "learning_curve_digits.png").read_bytes()[:8] == PNG_MAGIC
    assert "![learning curves digits](learning_curve_digits.png)" in text
    assert "**Crossover.** digits: " in text
    assert ("crossover at n_train = " in text) or ("no crossover up to 1294 training rows" in text)
    assert (out / "pareto_digits.png").exists() and (out / "fit_time_digits.png").exists()
    # The command line prints the summary table and the crossover sentence.
    assert "test_accuracy (mean ± std)" in printed and "crossover" in printed and "report.md" in printed


@pytest.mark.slow
def test_the_report_is_logged_as_a_report_run(miniature):
    client, _, _ = miniature
    experiment = client.get_experiment_by_name("mlvsdl")
    (report_run,) = client.search_runs([experiment.experiment_id], "tags.report = 'true'")
    assert report_run.data.tags["study"] == "data_dependency"
    names = {a.path for a in client.list_artifacts(report_run.info.run_id)}
    assert {"report.md", "learning_curve_digits.png", "summary.txt"} <= names
    assert report_run.data.metrics["n_runs"] == 4
    # A second report leaves the first report run and the sweep's parent run out.
    runs = rep.search_runs(client.tracking_uri, rep.RunFilter(study="data_dependency"))
    assert len(runs) == 4


def test_a_diverging_learning_rate_is_reported_as_diverged(tracking_uri, tmp_path):
    base = ("experiment=learning_rate", "seed=0", "trainer.max_epochs=3", "model.hidden_sizes=[16]")
    runner.run(make_config(*base, "optimizer.lr=0.01"))
    with pytest.raises(DivergedError):
        runner.run(make_config(*base, "optimizer.lr=10.0"))
    report = rep.make_report(rep.RunFilter(study="learning_rate"), tracking_uri, tmp_path / "lr", log=False)
    text = (tmp_path / "lr" / "report.md").read_text()
    assert report.n_runs == 2 and report.n_failed == 1
    failures = text.split("## Failed and diverged runs", 1)[1]
    assert "| diverged |" in failures and "training diverged" in failures
    assert "minibatch_sgd, lr = 10: 1 run(s) diverged" in text
    assert (tmp_path / "lr" / "lr_sweep_digits.png").exists() and (tmp_path / "lr" / "loss_curves_digits.png").exists()
    # In the model table the diverged run counts as failed, not as a missing row.
    assert "| mlp (lr=10) | deep | — | 0 | — |" in text


def test_an_empty_store_gives_an_empty_report_not_a_crash(tracking_uri, tmp_path):
    report = rep.make_report(rep.RunFilter(study="nothing_here"), tracking_uri, tmp_path / "empty", log=False)
    assert report.n_runs == 0
    assert "No runs matched." in (tmp_path / "empty" / "report.md").read_text()


def test_an_unknown_experiment_is_a_one_line_error(tracking_uri, capsys):
    assert rep.main(["--experiment", "no_such_experiment", "--no-log"]) == 2
    assert "no experiment named no_such_experiment" in capsys.readouterr().err


def test_feature_importance_is_logged_per_run_and_compared_in_the_report(tracking_uri, tmp_path):
    from mlflow.tracking import MlflowClient

    for model in ("random_forest", "mlp"):
        runner.run(
            make_config(
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
    rep.make_report(rep.RunFilter(study="interpretability"), tracking_uri, tmp_path / "imp", log=False)
    text = (tmp_path / "imp" / "report.md").read_text()
    assert "### Feature importance" in text and (tmp_path / "imp" / "importance_workshop_circles.png").exists()


# ------------------------------------------------------------------ the analysis, on made-up runs


def _runs(rows):
    """A tidy frame as `tidy` makes it, from (variant, family, n_train, seed, value) tuples."""
    frame = pd.DataFrame(rows, columns=["variant", "family", "n_train", "seed", "value"])
    return frame.assign(model=frame["variant"], finished=True, dataset="d", fit_time_s=1.0)


def test_crossover_is_the_smallest_size_from_which_deep_stays_ahead():
    rows = []
    for n, deep, classical in [(16, 0.5, 0.6), (32, 0.65, 0.6), (64, 0.55, 0.6), (128, 0.7, 0.65), (256, 0.8, 0.7)]:
        rows += [("mlp", "deep", n, 0, deep), ("svm", "classical", n, 0, classical)]
    cross = rep.crossover(rep.curves_of(_runs(rows)), "test_accuracy", "d")
    assert cross.size == 128  # ahead at 32, behind again at 64: 32 does not count
    assert "crossover at n_train = 128" in cross.sentence


def test_no_crossover_up_to_the_largest_size():
    rows = [("mlp", "deep", n, 0, 0.5) for n in (16, 64)] + [("svm", "classical", n, 0, 0.7) for n in (16, 64)]
    cross = rep.crossover(rep.curves_of(_runs(rows)), "test_accuracy", "d")
    assert cross.size is None and "no crossover up to 64 training rows" in cross.sentence


def test_crossover_with_a_metric_where_lower_is_better():
    rows = [
        ("mlp", "deep", 16, 0, 5.0),
        ("ridge", "classical", 16, 0, 4.0),
        ("mlp", "deep", 64, 0, 2.0),
        ("ridge", "classical", 64, 0, 3.0),
    ]
    assert rep.crossover(rep.curves_of(_runs(rows)), "test_mse", "d").size == 64


def test_crossover_needs_both_families():
    rows = [("mlp", "deep", n, 0, 0.5) for n in (16, 64)]
    assert "not computed" in rep.crossover(rep.curves_of(_runs(rows)), "test_accuracy", "d").sentence


def test_the_pareto_front_keeps_only_undominated_points():
    curves = pd.DataFrame(
        {"variant": ["a", "b", "c"], "n_train": [1, 1, 1], "fit": [1.0, 2.0, 3.0], "mean": [0.5, 0.9, 0.8]}
    )
    assert rep.pareto_points(curves, "test_accuracy")["pareto"].tolist() == [True, True, False]


def test_ranks_and_friedman_need_three_models_and_two_datasets():
    def table(values):
        return pd.DataFrame({"variant": list(values), "mean": list(values.values())}), "test_accuracy"

    summary, notes = rep.ranks_across_datasets({"d1": table({"a": 0.9, "b": 0.8})})
    assert "Friedman test not computed" in notes[0]
    tables = {f"d{i}": table({"a": 0.9 - i / 100, "b": 0.8, "c": 0.7}) for i in range(4)}
    summary, notes = rep.ranks_across_datasets(tables)
    assert summary["mean rank"].tolist() == [1.0, 2.0, 3.0]
    assert notes[0].startswith("Friedman test over 3 models x 4 datasets")


def test_tidy_handles_string_params_and_a_result_without_params():
    raw = pd.DataFrame(
        {
            "run_id": ["r1", "r2"],
            "status": ["FINISHED", "FAILED"],
            "tags.model": ["knn", "knn"],
            "tags.dataset": ["d", "d"],
            "tags.seed": ["0", "1"],
            "tags.main_metric": ["test_accuracy", None],
            "tags.task": ["binary", "binary"],
            "params.n_train": ["64", "64"],
            "params.n_params": ["undefined", None],
            "metrics.test_accuracy": [0.75, np.nan],
        }
    )
    frame = rep.tidy(raw)
    assert frame["n_train"].tolist() == [64, 64] and frame["n_params"].isna().all()
    assert frame["value"].iloc[0] == 0.75 and frame["main_metric"].iloc[1] == "test_accuracy"
    assert frame["outcome"].tolist() == ["finished", "failed"]
    empty = rep.tidy(pd.DataFrame())  # what search_runs returns for no runs: not even params columns
    assert empty.empty and "n_train" in empty.columns


def test_variants_are_named_after_the_config_values_that_differ():
    raw = pd.DataFrame(
        {
            "run_id": list("abcd"),
            "status": ["FINISHED"] * 4,
            "tags.model": ["mlp", "mlp", "svm", "svm"],
            "tags.dataset": ["d"] * 4,
            "tags.seed": ["0", "1", "0", "1"],
            "params.optimizer.name": ["adam", "sgd", "adam", "adam"],
            "params.seed": ["0", "1", "0", "1"],
            "params.dataset.train_size": ["16", "16", "16", "32"],
        }
    )
    assert rep.tidy(raw)["variant"].tolist() == ["mlp (optimizer=adam)", "mlp (optimizer=sgd)", "svm", "svm"]
