"""Verdicts: the best deep model against the best classical model, per (dataset, n_train),
over paired repeats. Pure functions on tidy run frames (src/reports/runs.py).

Each side's best model is the one with the best mean VALIDATION metric over its repeats
at that size (`final_val_<metric>`, what the runner scores on the validation split): the
test metric judges, it never selects. Only where a side has no validation metric at all
(a fit-only table) is it picked on the test metric, and the row says so.

The two best models are paired by repeat (the seed draws the split, so both saw the same
rows). The difference is deep - classical in the metric's "higher is better" orientation
(for mse, rmse, mae: classical - deep), so a positive difference always means deep is
better. Its 95% confidence interval is Student's t over the paired differences and the
p-value that of the paired t-test: with 3 repeats a Wilcoxon signed-rank test cannot go
below p = 0.25, so it could never reject. The verdict is `tie` exactly when the interval
contains 0, else the side the interval points to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd

from src.reports.analysis import lower_is_better

COLUMNS = ["dataset", "n_train", "best_deep", "best_classical", "mean_diff", "ci_low", "ci_high", "p_value", "verdict"]
DEEP, CLASSICAL, TIE = "deep", "classical", "tie"
UNDECIDED = "n/a"  # fewer than 2 paired repeats: no interval
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Paired:
    mean_diff: float
    ci_low: float
    ci_high: float
    p_value: float
    verdict: str


def paired_difference(differences: np.ndarray) -> Paired:
    """Mean of paired differences (> 0: deep better), its Student-t 95% interval, the paired
    t-test's p-value, and the verdict (`tie` iff the interval contains 0)."""
    from scipy import stats

    diff = np.asarray(differences, dtype=float)
    n = len(diff)
    mean = float(diff.mean()) if n else math.nan
    if n < 2:
        return Paired(mean, math.nan, math.nan, math.nan, UNDECIDED)
    sd = float(diff.std(ddof=1))
    if sd == 0:  # identical differences: the interval is the point, and the test is exact
        low = high = mean
        p = 1.0 if mean == 0 else 0.0
    else:
        half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * sd / math.sqrt(n)
        low, high = mean - half, mean + half
        # ttest_1samp on the differences is the paired t-test of deep against classical.
        p = float(stats.ttest_1samp(diff, 0.0).pvalue)
    return Paired(mean, low, high, p, verdict_of(low, high))


def verdict_of(ci_low: float, ci_high: float) -> str:
    if math.isnan(ci_low) or math.isnan(ci_high):
        return UNDECIDED
    if ci_low <= 0 <= ci_high:
        return TIE
    return DEEP if ci_low > 0 else CLASSICAL


def validation_column(metric: str) -> str:
    """test_accuracy -> metrics.final_val_accuracy: the same score on the validation split."""
    return "metrics.final_val_" + metric.removeprefix("test_")


def _best_variant(runs: pd.DataFrame, metric: str) -> tuple[Optional[str], str]:
    """The variant with the best mean validation metric over its repeats, and what it was
    chosen on ("validation", or "test" where no run of the side logged a validation metric)."""
    column = validation_column(metric)
    values = pd.to_numeric(runs[column], errors="coerce") if column in runs else pd.Series(np.nan, index=runs.index)
    chosen_on = "validation"
    if values.isna().all():
        values, chosen_on = runs["value"], "test"
    means = values.groupby(runs["variant"]).mean().dropna()
    if means.empty:
        return None, chosen_on
    return str(means.idxmin() if lower_is_better(metric) else means.idxmax()), chosen_on


@dataclass
class Verdicts:
    rows: pd.DataFrame  # COLUMNS, one row per (dataset, n_train) with both families
    notes: list[str]  # where a side was chosen on test, and why
    crossover: Crossover  # what the rows say about a crossover (crossover_of), read by two sections


def verdicts_of(runs: pd.DataFrame, metric: str, dataset: str) -> Verdicts:
    """One dataset's verdict rows, one per training size where both families finished runs."""
    done = runs[runs["finished"] & runs["n_train"].notna() & runs["value"].notna()]
    lower = lower_is_better(metric)
    rows, notes = [], []
    for size, group in done.groupby("n_train", sort=True):
        picks = {}
        for family in (DEEP, CLASSICAL):
            best, chosen_on = _best_variant(group[group["family"] == family], metric)
            picks[family] = best
            if best is not None and chosen_on == "test":
                notes.append(f"{dataset}, n_train = {size:g}: no validation metric, best {family} chosen on test.")
        if None in picks.values():
            continue
        by_seed = {family: group[group["variant"] == picks[family]].groupby("seed")["value"].mean() for family in picks}
        paired = pd.concat(by_seed, axis=1, join="inner").dropna()
        diff = (paired[DEEP] - paired[CLASSICAL]).to_numpy(float)
        stats = paired_difference(-diff if lower else diff)
        rows.append(
            [
                dataset,
                int(size),
                picks[DEEP],
                picks[CLASSICAL],
                stats.mean_diff,
                stats.ci_low,
                stats.ci_high,
                stats.p_value,
                stats.verdict,
            ]
        )
    table = pd.DataFrame(rows, columns=COLUMNS)
    return Verdicts(table, notes, crossover_of(table, metric, dataset))


@dataclass(frozen=True)
class Crossover:
    size: Optional[int]  # the first size of the final run of `deep` verdicts after a `classical` one
    sentence: str


def _gap(row: pd.Series, metric: str) -> str:
    difference = f"{row['best_deep']} - {row['best_classical']} = {row['mean_diff']:+.4g} {metric}"
    if math.isnan(row["ci_low"]):
        return f"{difference} (fewer than 2 paired repeats: no interval; verdict {row['verdict']})"
    return (
        f"{difference} (95% CI [{row['ci_low']:+.4g}, {row['ci_high']:+.4g}], p = {row['p_value']:.2g}; "
        f"verdict {row['verdict']})"
    )


def crossover_of(rows: pd.DataFrame, metric: str, dataset: str) -> Crossover:
    """A crossover only where the verdicts turn from `classical` to `deep` and stay `deep` at
    every larger size tried; otherwise how far apart the sides are at the largest size."""
    if rows.empty:
        return Crossover(
            None, f"{dataset}: no verdict: no training size has finished runs of both a deep and a classical model."
        )
    rows = rows.sort_values("n_train").reset_index(drop=True)
    verdicts = rows["verdict"].tolist()
    first_deep = len(verdicts)
    while first_deep > 0 and verdicts[first_deep - 1] == DEEP:
        first_deep -= 1
    largest = rows.iloc[-1]
    at_largest = f"at n_train = {largest['n_train']:g} (the largest size): {_gap(largest, metric)}"
    if first_deep < len(verdicts) and CLASSICAL in verdicts[:first_deep]:
        size = int(rows.loc[first_deep, "n_train"])
        return Crossover(
            size,
            f"{dataset}: crossover at n_train = {size}: the verdicts turn from classical to deep there and stay "
            f"deep at every larger size tried; {at_largest}.",
        )
    if first_deep == 0:
        return Crossover(None, f"{dataset}: no crossover: deep is ahead at every size tried; {at_largest}.")
    return Crossover(None, f"{dataset}: no crossover up to {largest['n_train']:g} training rows; {at_largest}.")


def row_sentence(row: pd.Series, metric: str) -> str:
    return f"{row['dataset']}, n_train = {row['n_train']:g}: {_gap(row, metric)}."
