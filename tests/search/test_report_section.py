"""The report's "Default against tuned" section and model tables, on made-up runs of a search."""

import pandas as pd
import pytest

from src.reports.build import build_report
from src.reports.runs import tidy
from src.reports.tuning_sections import paired_difference


def _run(run_id, stage, seed, test, val, c, **extra):
    return {
        "run_id": run_id,
        "status": extra.pop("status", "FINISHED"),
        "tags.model": "svm",
        "tags.model_family": "classical",
        "tags.dataset": "d",
        "tags.task": "binary",
        "tags.seed": str(seed),
        "tags.main_metric": "test_accuracy",
        "tags.search_stage": stage,
        "params.n_train": "100",
        "params.model.C": c,
        "params.optimized_metric": "final_val_accuracy",
        "metrics.final_val_accuracy": val,
        "metrics.test_accuracy": test,
        "metrics.fit_time_s": 0.5,
        **extra,
    }


def _search_runs() -> pd.DataFrame:
    rows = [
        _run("t0s0", "trial", 0, 0.99, 0.80, "0.1", **{"tags.trial_number": "0", "tags.trial_state": "complete"}),
        _run("t0s1", "trial", 1, 0.99, 0.82, "0.1", **{"tags.trial_number": "0", "tags.trial_state": "complete"}),
        _run(
            "t1s0",
            "trial",
            0,
            0.50,
            0.90,
            "10",
            **{"tags.trial_number": "1", "tags.trial_state": "pruned", "tags.pruned_at_epoch": "7"},
        ),  # fmt: skip
        _run(
            "t2s0",
            "trial",
            0,
            None,
            None,
            "3",
            status="FAILED",
            **{"tags.trial_number": "2", "tags.trial_state": "failed"},
        ),  # fmt: skip
    ]
    cost = {"metrics.search_fit_time_s": 12.0, "metrics.search_wall_time_s": 30.0}
    for seed, (default, tuned) in enumerate([(0.70, 0.80), (0.72, 0.78), (0.71, 0.83)]):
        rows.append(_run(f"d{seed}", "default", seed, default, 0.7, "1.0"))
        rows.append(_run(f"f{seed}", "final", seed, tuned, 0.8, "0.1", **cost))
    return pd.DataFrame(rows)


def test_default_and_tuned_side_by_side_with_the_paired_difference_and_the_search_cost(tmp_path):
    report = build_report(tidy(_search_runs()), tmp_path, "t", "made-up runs", "sqlite:///unused")
    text = "\n".join(report.markdown)
    models = text.split("### Models", 1)[1].split("\n##", 1)[0]
    assert "| svm (tuned) |" in models and "| svm |" in models
    assert "0.99" not in models  # the trials are not models: a trial's test score never shows as one
    section = text.split("## Default against tuned", 1)[1]
    mean, low, high, n = paired_difference(pd.Series([0.80, 0.78, 0.83]), pd.Series([0.70, 0.72, 0.71]))
    assert n == 3 and mean == pytest.approx(0.0933, abs=1e-4) and low < mean < high
    row = f"| d | svm | test_accuracy | 0.71 ± 0.01 | 0.8033 ± 0.025 | {mean:+.4f} [{low:+.4f}, {high:+.4f}] | 1 / 1 / 1 |"
    assert row in section
    assert "| 12 | 30 | 0.5 | 12.5 |" in section  # search fit, wall, tuned fit, tuned + search
    assert "| d | svm | 1 | 7 |" in section  # the pruned trial and the epochs it reached
    assert "| svm (search trials) | classical | — | 0 | — | — | — | — | 1 |" in models  # a failed trial counts
    assert "| d | svm (search trials) | 100 | 0 | failed |" in text.split("did not finish", 1)[1]  # and is listed
    assert "## Hyperparameter search" not in text  # the best-trial section is for searches without stages


def test_a_report_without_searches_has_no_such_section(tmp_path):
    runs = _search_runs().drop(columns=["tags.search_stage"])
    report = build_report(tidy(runs), tmp_path, "t", "made-up runs", "sqlite:///unused")
    assert "## Default against tuned" not in "\n".join(report.markdown)
