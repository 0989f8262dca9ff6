"""The report's verdict sections: per dataset, the best deep model against the best classical
one at each training size (src/reports/verdicts.py); across datasets, every verdict in
verdicts.csv, then the critical-difference diagram, normalised scores, times per 1,000 rows
and the Pareto front of score against time (src/reports/across.py).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from src.markdown_tables import format_cell, markdown_table
from src.reports import figures
from src.reports.across import (
    critical_difference,
    normalised_scores,
    score_against_time,
    times_at_largest_size,
    times_per_rows,
)
from src.reports.document import DatasetView, Report, StudyView
from src.reports.verdicts import COLUMNS

VERDICTS_CSV = "verdicts.csv"
VERDICTS_TXT = "verdicts.txt"  # the verdict table and crossovers, as `make run` prints them
CRITICAL_DIFFERENCE_PNG = "critical_difference.png"
PARETO_ACROSS_PNG = "pareto_across_datasets.png"

HOW = (
    "Each row: the best deep model against the best classical model at one training size, on the verdict "
    "metric, over paired repeats (cross-validated folds: the same test rows for both). Each side's best is picked "
    "on the selection split, which neither training nor early stopping saw, never on the test fold; `dummy` is a "
    "reference, never a pick. `deep - classical` > 0 means deep is better (for error metrics, classical - deep). "
    "95% CI: Nadeau & Bengio's corrected resampled t (the folds' training sets overlap, so the plain t interval "
    "is too narrow). **deep** / **classical**: the interval excludes 0; **equivalent**: it lies inside "
    "±margin (TOST); **inconclusive**: it holds 0 and reaches past the margin, so these repeats cannot tell "
    '(which is not "equal"); **n/a**: no interval (fewer than 2 pairs, or no spread). `min detectable`: the '
    "smallest gap these repeats find 80% of the time."
)
TALLY_ORDER = ("deep", "classical", "equivalent", "inconclusive", "n/a")


def _interval(row: Any) -> str:
    if math.isnan(row.ci_low):
        return f"{row.mean_diff:+.4f} (no interval)"
    return f"{row.mean_diff:+.4f} [{row.ci_low:+.4f}, {row.ci_high:+.4f}]"


def _verdict_cell(row: Any) -> str:
    text = f"**{row.verdict}**" if row.verdict in ("deep", "classical", "equivalent") else row.verdict
    if row.beats_dummy is False:
        text += " (no model beats the constant here)"
    return text


def verdict_rows_markdown(rows: pd.DataFrame) -> str:
    header = ["dataset", "n_train", "metric (±margin)", "best deep", "best classical", "deep - classical [95% CI]"]
    header += ["pairs", "min detectable", "verdict", "why"]
    body = [
        [
            r.dataset,
            format_cell(r.n_train),
            f"{r.metric} (±{format_cell(r.margin, 2)})",
            r.best_deep,
            r.best_classical,
            _interval(r),
            format_cell(r.n_pairs),
            format_cell(r.min_detectable, 2),
            _verdict_cell(r),
            r.why + (f" ({r.tie_break})" if r.tie_break else ""),
        ]
        for r in rows.itertuples()
    ]
    return markdown_table(header, body)


def pairs_markdown(pairs: pd.DataFrame) -> str:
    header = ["n_train", "best deep", "against", "deep - other [95% CI]", "p", "p (Holm)", "verdict"]
    body = [
        [format_cell(r.n_train), r.deep, r.classical, _interval(r), format_cell(r.p_value, 2)]
        + [format_cell(r.p_holm, 2), r.verdict]
        for r in pairs.itertuples()
    ]
    return markdown_table(header, body)


def verdict_box(report: Report, view: StudyView) -> None:
    """The answer first: every verdict row in one table (also verdicts.csv and verdicts.txt, what
    `make run` prints), each dataset's crossover, and why each undecided row is undecided."""
    rows = view.verdicts if not view.verdicts.empty else pd.DataFrame(columns=COLUMNS)
    report.write(VERDICTS_CSV, rows[COLUMNS].to_csv(index=False))
    report.add("## Verdicts", "")
    if rows.empty:
        line = "No verdict: no training size has finished runs of both a deep and a classical model."
        report.add(line, "")
        report.verdict_lines.insert(0, line)
        report.write(VERDICTS_TXT, "\n".join(report.verdict_lines) + "\n")
        return
    counts = rows["verdict"].value_counts()
    tally = ", ".join(f"{counts.get(v, 0)} {v}" for v in TALLY_ORDER if counts.get(v, 0))
    table = verdict_rows_markdown(rows)
    crossovers = [f"- {sentence}" for sentence in view.crossovers]
    report.sentences.extend(view.crossovers)
    report.add(f"{len(rows)} comparisons: {tally} (written to `{VERDICTS_CSV}`).", "", table, "", HOW, "")
    report.add("Crossovers:", "", *crossovers, "")
    report.verdict_lines[:0] = [f"Verdicts ({tally}); positive = deep better; each side's best picked on the "
                                "selection split:", table, "", *crossovers]  # fmt: skip
    report.summary += ["== Verdicts: best deep - best classical, 95% CI (corrected)", table, "", *crossovers, ""]
    report.write(VERDICTS_TXT, "\n".join(report.verdict_lines) + "\n")


def dataset_verdicts(report: Report, view: DatasetView) -> None:
    """Whether the answer hangs on the pick: the best deep model against every classical candidate."""
    pairs = view.verdicts.pairs
    notes = view.verdicts.notes
    if pairs.empty and not notes:
        return
    report.add("### Does the verdict hang on the pick?", "")
    if not pairs.empty:
        report.add(
            "The best deep model against each classical candidate (same pairs, same corrected interval), with "
            "Holm-adjusted p-values over the candidates at each size; a side wins only where its adjusted p < 0.05.",
            "",
            pairs_markdown(pairs),
            "",
        )
    report.add(*[f"- {note}" for note in notes], "")


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
    scores = normalised_scores(view.tables) if len(view.tables) >= 2 else pd.DataFrame()
    if len(view.tables) < 2:
        report.add("Normalised scores left out: with one dataset they would stretch its spread to 1 and 0.", "")
    if not scores.empty:
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
        "Time per 1,000 rows, per training size (median over the finished runs of that size, every dataset and "
        "seed): fit time per 1,000 training rows, predict time per 1,000 test rows. A fit is rarely linear in its "
        "rows, so sizes are not pooled. Times taken on the machine that ran the jobs, with whatever else it ran.",
        "",
        markdown_table(
            ["model", "family", "n_train", "fit s / 1,000 training rows", "predict s / 1,000 rows", "runs"],
            [
                [r.variant, r.family, str(int(r.n_train)), format_cell(r.train_s, 3), format_cell(r.predict_s, 3)]
                + [str(int(r.n_runs))]
                for r in times.itertuples()
            ],
        ),
        "",
    )
    if scores.empty:
        return
    points = score_against_time(scores, times_at_largest_size(view.runs))
    if len(points) < 2:
        return
    report.figure(
        figures.score_against_time(
            points, "mean normalised score against fit time per 1,000 rows (each model at its largest size)"
        ),
        PARETO_ACROSS_PNG,
        "score against time across datasets",
    )
    front = points[points["pareto"]].sort_values("train_s")
    report.add(
        "Pareto front (no other model is both faster, fit time per 1,000 rows at its largest size, and better on "
        "average): "
        + "; ".join(
            f"{r.variant} ({format_cell(r.train_s, 3)} s, score {format_cell(r.score, 3)})" for r in front.itertuples()
        )
        + ".",
        "",
    )
