"""The report's verdict sections: per dataset, the best deep model against the best classical
one at each training size (src/reports/verdicts.py); across datasets, every verdict in
verdicts.csv, then the critical-difference diagram, normalised scores, times per 1,000 rows
and the Pareto front of score against time (src/reports/across.py).
"""

from __future__ import annotations

import math

import pandas as pd

from src.reports import figures
from src.reports.across import critical_difference, normalised_scores, score_against_time, times_per_rows
from src.reports.document import DatasetView, Report, StudyView
from src.reports.verdicts import COLUMNS, row_sentence
from src.tables import format_cell, markdown_table

VERDICTS_CSV = "verdicts.csv"
VERDICTS_TXT = "verdicts.txt"  # the verdict table and crossovers, as `make run` prints them
CRITICAL_DIFFERENCE_PNG = "critical_difference.png"
PARETO_ACROSS_PNG = "pareto_across_datasets.png"

HOW = (
    "Best deep against best classical model at each training size. Each side's best is the model with the best "
    "mean **validation** metric over the repeats (never the test metric); the two are paired by repeat (same seed, "
    "same split). `deep - classical` is the mean paired difference of the test metric, signed so that a positive "
    "value means deep is better (for error metrics such as mse: classical - deep). 95% CI: Student's t over the "
    "paired differences; p: paired t-test (with 3 repeats a Wilcoxon signed-rank test cannot go below p = 0.25). "
    "Verdict `tie` exactly when the interval contains 0; `n/a`: fewer than 2 paired repeats."
)


def verdict_rows_markdown(rows: pd.DataFrame, with_dataset: bool) -> str:
    header = (["dataset"] if with_dataset else []) + [
        "n_train",
        "best deep",
        "best classical",
        "deep - classical [95% CI]",
        "p",
        "verdict",
    ]
    body = [
        ([r.dataset] if with_dataset else [])
        + [
            format_cell(r.n_train),
            r.best_deep,
            r.best_classical,
            f"{r.mean_diff:+.4f} [{r.ci_low:+.4f}, {r.ci_high:+.4f}]"
            if not math.isnan(r.ci_low)  # NaN: one repeat, no interval
            else f"{r.mean_diff:+.4f} (one repeat: no interval)",
            format_cell(r.p_value, 2),
            f"**{r.verdict}**" if r.verdict in ("deep", "classical") else r.verdict,
        ]
        for r in rows.itertuples()
    ]
    return markdown_table(header, body)


def dataset_verdicts(report: Report, view: DatasetView) -> None:
    rows = view.verdicts.rows
    cross = view.verdicts.crossover
    report.add("### Verdicts: best deep against best classical", "")
    if not rows.empty:
        report.add(HOW, "", verdict_rows_markdown(rows, with_dataset=False), "")
        report.add(*[f"- {row_sentence(r, view.metric)}" for _, r in rows.iterrows()], "")
        report.add(*[f"- {note}" for note in view.verdicts.notes])
    report.add(f"**Crossover.** {cross.sentence}", "")
    report.sentences.append(cross.sentence)
    report.summary += [cross.sentence, ""]
    report.verdict_lines.append(cross.sentence)


def verdict_table(report: Report, view: StudyView) -> None:
    """Every dataset's verdicts in verdicts.csv (logged with the report) and in one table."""
    rows = view.verdicts if not view.verdicts.empty else pd.DataFrame(columns=COLUMNS)
    report.write(VERDICTS_CSV, rows[COLUMNS].to_csv(index=False))
    report.add("## Verdicts", "")
    if rows.empty:
        report.add("No verdict: no training size has finished runs of both a deep and a classical model.", "")
        report.verdict_lines.insert(0, "No verdict: no size has finished runs of both a deep and a classical model.")
        report.write(VERDICTS_TXT, "\n".join(report.verdict_lines) + "\n")
        return
    counts = rows["verdict"].value_counts()
    tally = ", ".join(f"{counts.get(v, 0)} {v}" for v in ("deep", "classical", "tie", "n/a") if counts.get(v, 0))
    table = verdict_rows_markdown(rows, with_dataset=True)
    report.add(f"{len(rows)} (dataset, n_train) comparisons: {tally} (written to `{VERDICTS_CSV}`).", "", table, "")
    report.verdict_lines[:0] = [f"Verdicts ({tally}); positive = deep better; best of each side chosen on validation:"]
    report.verdict_lines.insert(1, table + "\n")
    report.summary += ["== Verdicts: best deep - best classical, 95% CI", table, ""]
    report.write(VERDICTS_TXT, "\n".join(report.verdict_lines) + "\n")


def across_datasets(report: Report, view: StudyView) -> None:
    """Critical-difference diagram, normalised scores, times per 1,000 rows, score against time."""
    report.add("## Across datasets", "")
    cd = critical_difference(view.tables)
    if cd.p_values is not None:
        report.figure(
            figures.critical_difference(cd.ranks, cd.p_values, "mean rank across datasets (1 = best)"),
            CRITICAL_DIFFERENCE_PNG,
            "critical-difference diagram",
        )
    report.add(cd.note, "")
    scores = normalised_scores(view.tables)
    if not scores.empty and len(scores) >= 1:
        ordered = scores.mean().sort_values(ascending=False).index
        report.add(
            "Normalised score per dataset (each model at its largest training size, mean over repeats; per dataset "
            "the best model 1, the worst 0):",
            "",
            markdown_table(
                ["model", *scores.index, "mean"],
                [
                    [v, *[format_cell(scores.loc[d, v], 3) for d in scores.index], format_cell(scores[v].mean(), 3)]
                    for v in ordered
                ],
            ),
            "",
        )
    times = times_per_rows(view.runs)
    if times.empty:
        return
    report.add(
        "Time per 1,000 rows (median over every finished run): fit time per 1,000 training rows, predict time per "
        "1,000 test rows. Times taken on the machine that ran the jobs, with whatever else it ran.",
        "",
        markdown_table(
            ["model", "family", "fit s / 1,000 training rows", "predict s / 1,000 rows"],
            [[r.variant, r.family, format_cell(r.train_s, 3), format_cell(r.predict_s, 3)] for r in times.itertuples()],
        ),
        "",
    )
    if scores.empty:
        return
    points = score_against_time(scores, times)
    if len(points) < 2:
        return
    report.figure(
        figures.score_against_time(points, "mean normalised score against fit time per 1,000 rows"),
        PARETO_ACROSS_PNG,
        "score against time across datasets",
    )
    front = points[points["pareto"]].sort_values("train_s")
    report.add(
        "Pareto front (no other model is both faster and better on average): "
        + "; ".join(
            f"{r.variant} ({format_cell(r.train_s, 3)} s, score {format_cell(r.score, 3)})" for r in front.itertuples()
        )
        + ".",
        "",
    )
