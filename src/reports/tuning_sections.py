"""Default against tuned: what this project's searches (hparams_search=<name>) left in the store.

A search writes three kinds of runs, told apart by their `search_stage` tag:
`trial` (a proposal scored on the selection seeds' validation splits),
`final` (the chosen configuration trained and tested on every final seed)
and `default` (the search's configuration without the searched values, on the
same seeds). The model tables show `final` as "<model> (tuned)" beside
`default` as "<model>"; the finished trials leave them (failed ones stay as
"<model> (search trials)", so that they are counted and listed). This section then sets each model's
default and tuned test metric side by side, with the tuned-minus-default
difference paired by seed and its 95% t-interval over the seeds, the trials
(complete, pruned, failed), what the search cost, and the pruned trials with
the epoch they reached.
"""

from __future__ import annotations

import math

import pandas as pd

from src.markdown_tables import format_cell, markdown_table
from src.reports.document import Report, Section, StudyView
from src.tracking.record import RunMetric, Tag

STAGE = f"tags.{Tag.SEARCH_STAGE}"


def _column(runs: pd.DataFrame, name: str) -> pd.Series:
    return runs[name] if name in runs else pd.Series(None, index=runs.index, dtype=object)


def tables_input(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs the model tables read: a search's finished trials out, its tuned and
    default runs in as plain runs (not again reduced to a best trial)."""
    stage = _column(runs, STAGE)
    if not stage.notna().any():
        return runs
    kept = runs[~((stage == "trial") & runs["finished"])].copy()
    stage = stage[kept.index]
    kept.loc[stage.notna(), "optimized_metric"] = None  # this section, not the best-trial one, shows them
    for name, label in (("final", "{} (tuned)"), ("default", "{}"), ("trial", "{} (search trials)")):
        kept.loc[stage == name, "variant"] = [label.format(m) for m in kept.loc[stage == name, "model"]]
    return kept


def paired_difference(tuned: pd.Series, default: pd.Series) -> tuple[float, float, float, int]:
    """(mean of tuned - default over the seeds both have, the 95% t-interval's ends, n)."""
    from scipy import stats

    both = pd.concat([tuned.rename("t"), default.rename("d")], axis=1).dropna()
    diff = both["t"] - both["d"]
    n = len(diff)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(diff.mean())
    if n == 1:
        return mean, math.nan, math.nan, 1
    half = float(stats.t.ppf(0.975, n - 1) * diff.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def default_vs_tuned(report: Report, view: StudyView) -> None:
    runs = view.runs
    stage = _column(runs, STAGE)
    searched = runs[stage.notna()]
    if searched.empty:
        return
    report.add(
        "## Default against tuned",
        "",
        "Each searched model at its default configuration and at the configuration its search chose "
        "(on the mean validation metric over the selection seeds, never a test split), both trained the same "
        "way on the same final seeds: the test metric's mean ± std, the tuned-minus-default difference "
        "paired by seed with its 95% t-interval, and what the search cost (its trials' fit time and its "
        "wall time, over every session of the study). *tuned + search* is a tuned model's fit time with its "
        "search included.",
        "",
    )
    rows, pruned_rows = [], []
    for (dataset, model), group in searched.groupby(["dataset", "model"]):
        group_stage = stage[group.index]
        done = group[group["finished"]]
        by_seed = {s: done[group_stage[done.index] == s].groupby("seed")["value"].mean() for s in ("final", "default")}
        mean, low, high, n = paired_difference(by_seed["final"], by_seed["default"])
        trials = group[group_stage == "trial"]
        states = _column(trials, f"tags.{Tag.TRIAL_STATE}")
        numbers = _column(trials, f"tags.{Tag.TRIAL_NUMBER}")
        counts = {s: numbers[states == s].nunique() for s in ("complete", "pruned", "failed")}
        final = done[group_stage[done.index] == "final"]
        search_fit = pd.to_numeric(_column(final, f"metrics.{RunMetric.SEARCH_FIT_TIME_S}"), errors="coerce").max()
        search_wall = pd.to_numeric(_column(final, f"metrics.{RunMetric.SEARCH_WALL_TIME_S}"), errors="coerce").max()
        tuned_fit = final["fit_time_s"].median()
        rows.append(
            [
                dataset,
                model,
                str(group["main_metric"].iloc[0]),
                _mean_std(by_seed["default"]),
                _mean_std(by_seed["final"]),
                f"{_signed(mean)} [{_signed(low)}, {_signed(high)}]" if n > 1 else _signed(mean),
                f"{counts['complete']} / {counts['pruned']} / {counts['failed']}",
                format_cell(search_fit, 3),
                format_cell(search_wall, 3),
                format_cell(tuned_fit, 3),
                format_cell(search_fit + tuned_fit, 3),
            ]
        )
        for trial in trials[states == "pruned"].drop_duplicates(f"tags.{Tag.TRIAL_NUMBER}").itertuples():
            row = trials.loc[trial.Index]
            pruned_rows.append([dataset, model, row[f"tags.{Tag.TRIAL_NUMBER}"], row[f"tags.{Tag.PRUNED_AT_EPOCH}"]])
    report.add(
        markdown_table(
            [
                "dataset",
                "model",
                "metric",
                "default",
                "tuned",
                "tuned − default [95% CI]",
                "trials complete / pruned / failed",
                "search fit s",
                "search wall s",
                "tuned fit s",
                "tuned + search fit s",
            ],  # fmt: skip
            rows,
        ),
        "",
    )
    if pruned_rows:
        report.add(
            "Pruned trials (MedianPruner on the per-epoch validation metric; recorded FINISHED, "
            "`trial_state=pruned`), with the epochs each had trained:",
            "",
            markdown_table(["dataset", "model", "trial", "epochs"], sorted(pruned_rows, key=_trial_order)),
            "",
        )


def _trial_order(row: list) -> tuple:
    dataset, model, trial, _ = row
    return dataset, model, int(trial)


def _mean_std(values: pd.Series) -> str:
    values = values.dropna()
    if values.empty:
        return "—"
    std = values.std(ddof=1) if len(values) > 1 else math.nan
    return (
        f"{format_cell(values.mean())} ± {format_cell(std, 2)}" if not math.isnan(std) else format_cell(values.mean())
    )


def _signed(value: float) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:+.4f}"


SECTION = Section(default_vs_tuned)
