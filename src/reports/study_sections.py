"""The report's sections across datasets, after the per-dataset ones.

Each is a function `(report, view: StudyView) -> None`, registered in SECTIONS
with the files it writes. The verdict box comes first in the report, before the
per-dataset sections (VERDICT_BOX); the across-dataset comparison leads the rest
(src/reports/verdict_sections.py).
"""

from __future__ import annotations

import pandas as pd

from src.markdown_tables import format_cell, markdown_table
from src.reports.analysis import best_trial, paired_wilcoxon, ranks_across_datasets, select_tuned
from src.reports.document import Report, Section, StudyView
from src.reports.runs import param_text, short_key
from src.reports.verdict_sections import (
    CRITICAL_DIFFERENCE_PNG,
    PARETO_ACROSS_PNG,
    VERDICTS_CSV,
    VERDICTS_TXT,
    across_datasets,
    verdict_box,
)


def ranks(report: Report, view: StudyView) -> None:
    runs = view.runs
    summary, notes = ranks_across_datasets(view.tables)
    report.add("## Ranks across datasets", "")
    if summary.empty:
        report.add(*notes, "")
        return
    report.add(
        "Rank of each model on each dataset (1 = best, at its largest training size), averaged:",
        "",
        markdown_table(
            ["model", "mean rank", "datasets"],
            [[v, format_cell(r["mean rank"], 3), int(r["datasets"])] for v, r in summary.iterrows()],
        ),
        "",
    )
    for note in notes:
        report.add(f"- {note}")
    chosen = pd.concat([select_tuned(runs[runs["dataset"] == d]) for d in runs["dataset"].unique()])
    wilcoxon = paired_wilcoxon(chosen, summary)
    if wilcoxon:
        report.add(f"- {wilcoxon}")
    report.add("")


def hyperparameter_search(report: Report, view: StudyView) -> None:
    runs = view.runs
    searched = runs[runs["optimized_metric"].notna()]
    if searched.empty:
        return
    report.add(
        "## Hyperparameter search",
        "",
        "Per model, the best trial chosen on the optimized metric (validation split), and its test metric: "
        "the same trial budget for every model makes tuned against tuned fair.",
        "",
    )
    rows = []
    params = sorted(c for c in runs.columns if c.startswith(("params.model.", "params.optimizer.")))
    for (dataset, model), group in searched.groupby(["dataset", "model"]):
        metric = group["optimized_metric"].iloc[0]
        done = group[group["finished"]]
        best = best_trial(done)
        if best is None:
            rows.append([dataset, model, len(group), len(group) - len(done), metric, "—", "—", ""])
            continue
        index, value = best
        row = done.loc[index]
        varying = [c for c in params if group[c].dropna().nunique() > 1]
        chosen = ", ".join(f"{short_key(c[len('params.') :])}={param_text(row[c])}" for c in varying)
        rows.append(
            [
                dataset,
                model,
                len(group),
                len(group) - len(done),
                metric,
                format_cell(value),
                f"{format_cell(row['value'])} ({row['main_metric']})",
                chosen,
            ]
        )
    report.add(
        markdown_table(
            ["dataset", "model", "trials", "failed", "optimized", "best value", "its test metric", "best parameters"],
            rows,
        ),
        "",
    )


def failures(report: Report, view: StudyView) -> None:
    failed = view.runs[~view.runs["finished"]]
    report.add("## Failed and diverged runs", "")
    if failed.empty:
        report.add("None: every run finished.", "")
        return
    rows = [
        [
            r.run_name,
            r.dataset,
            r.variant,
            format_cell(r.n_train),
            format_cell(r.seed),
            r.outcome,
            (str(r.error)[:160] if isinstance(r.error, str) else ""),
        ]
        for r in failed.sort_values(["dataset", "variant", "n_train", "seed"]).itertuples()
    ]
    report.add(
        f"{len(failed)} run(s) did not finish; they count in the `failed` columns above.",
        "",
        markdown_table(["run", "dataset", "model", "n_train", "seed", "outcome", "error"], rows),
        "",
    )
    counts = failed["outcome"].value_counts()
    report.summary.append(
        "Runs that did not finish: " + ", ".join(f"{n} {o}" for o, n in counts.items()) + " (listed in the report)."
    )


# The answer, rendered first (right after the title), before the per-dataset sections.
VERDICT_BOX = Section(verdict_box, files=(VERDICTS_CSV, VERDICTS_TXT))
SECTIONS = (
    Section(ranks),
    Section(across_datasets, files=(CRITICAL_DIFFERENCE_PNG, PARETO_ACROSS_PNG)),
    Section(hyperparameter_search),
    Section(failures),
)
