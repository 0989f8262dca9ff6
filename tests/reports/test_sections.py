"""The report assembled from its sections, on made-up runs (no MLflow store needed)."""

import pandas as pd
import pytest

from src.reports.build import OWN_FILES, build_report
from src.reports.document import Report, Section, own_files
from src.reports.runs import tidy


def _searched_and_plain_runs() -> pd.DataFrame:
    """A three-trial search of svm (the best on validation is not the best on test) and one plain mlp run."""
    trials = [("a", "0.1", 0.90, 0.70), ("b", "1.0", 0.80, 0.95), ("c", "10.0", 0.85, 0.80)]
    rows = [
        {
            "run_id": run_id,
            "status": "FINISHED",
            "tags.model": "svm",
            "tags.model_family": "classical",
            "tags.dataset": "d",
            "tags.task": "binary",
            "tags.seed": "0",
            "tags.main_metric": "test_accuracy",
            "params.n_train": "100",
            "params.model.C": c,
            "params.optimized_metric": "final_val_accuracy",
            "metrics.final_val_accuracy": val,
            "metrics.test_accuracy": test,
            "metrics.fit_time_s": 0.01,
        }
        for run_id, c, val, test in trials
    ]
    rows.append(
        {
            "run_id": "m",
            "status": "FINISHED",
            "tags.model": "mlp",
            "tags.model_family": "deep",
            "tags.dataset": "d",
            "tags.task": "binary",
            "tags.seed": "0",
            "tags.main_metric": "test_accuracy",
            "params.n_train": "100",
            "params.optimized_metric": "None",
            "metrics.test_accuracy": 0.75,
            "metrics.fit_time_s": 0.5,
        }
    )
    return pd.DataFrame(rows)


def test_the_report_shows_the_trial_chosen_on_validation_not_the_best_on_test(tmp_path):
    report = build_report(tidy(_searched_and_plain_runs()), tmp_path, "t", "made-up runs", "sqlite:///unused")
    text = "\n".join(report.markdown)
    models = text.split("### Models", 1)[1].split("##", 1)[0]
    assert "| svm (tuned) | classical | 100 | 1 | 0.7 |" in models  # validation 0.90, test 0.70
    assert models.count("| svm") == 1  # the other trials are not shown as models
    search = text.split("## Hyperparameter search", 1)[1]
    assert "| d | svm | 3 | 0 | final_val_accuracy | 0.9 | 0.7 (test_accuracy) | C=0.1 |" in search


def test_the_report_removes_only_its_own_stale_files(tmp_path):
    for name in ("pareto_old.png", "report.md", "notes.md", "pareto.csv"):
        (tmp_path / name).write_text("x")
    build_report(tidy(_searched_and_plain_runs()), tmp_path, "t", "made-up runs", "sqlite:///unused")
    assert not (tmp_path / "pareto_old.png").exists() and not (tmp_path / "report.md").exists()
    assert (tmp_path / "notes.md").exists() and (tmp_path / "pareto.csv").exists()
    assert (tmp_path / "pareto_d.png").exists()


def test_the_report_file_list_comes_from_the_sections():
    for name in ("report.md", "summary.txt", "learning_curve_mnist1d.png", "lr_sweep_a_b.png", "importance_x.png"):
        assert OWN_FILES.match(name), name
    for name in ("notes.md", "learning_curve_x.csv", "my_report.md"):
        assert not OWN_FILES.match(name), name
    pattern = own_files(("report.md",), (Section(print, files=("new_figure_{dataset}.png",)),))
    assert pattern.match("new_figure_digits.png") and not pattern.match("new_figure.csv")


def test_a_section_that_saves_an_undeclared_file_fails(tmp_path):
    class Picture:
        def savefig(self, path, **kwargs):
            path.write_bytes(b"png")

    def draws(report, view):
        report.figure(Picture(), f"histogram_{view}.png", "a histogram")

    report = Report(name="t", out=tmp_path)
    report.render(Section(draws, files=("histogram_{dataset}.png",)), "d")
    assert report.figures == ["histogram_d.png"]
    with pytest.raises(RuntimeError, match="does not declare"):
        report.render(Section(draws, files=("other_{dataset}.png",)), "d")
    with pytest.raises(RuntimeError, match="does not declare"):
        report.render(Section(draws), "d")
