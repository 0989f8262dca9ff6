"""Verdicts: the best deep model against the best classical model, per (dataset, n_train),
over paired cross-validated repeats. Pure functions on tidy run frames (src/reports/runs.py);
the statistics are in src/reports/paired.py.

- **The metric** is the report's verdict metric (`--verdict-metric`; default ROC AUC for
  classification, RMSE for regression), named in every row. A model without probabilities
  has no ROC AUC: it is left out of that verdict, with a note, and still ranked in the tables.
- **Selection.** `dummy` is a reference line, never a candidate. Each side picks the model with
  the best mean score on the *selection* split (`select_<metric>`: rows outside the test fold
  that neither training nor early stopping saw). Runs without one fall back to the validation
  split (which early stopping also watched) and then to the test split, and the row says so.
  An exact tie is broken by a second metric (log loss; for regression MAE, or RMSE when MAE is
  the verdict metric), then by the shorter fit time, never by name; the row says when a tie
  decided.
- **Pairing.** The two picks are paired by seed (the same fold or split, the same rows); the
  difference is deep - classical in the metric's "higher is better" orientation (classical -
  deep for error metrics), so positive always means deep is better.
- **Beside the best-vs-best row**, the best deep model against each classical candidate, with
  Holm-adjusted p-values, so a reader sees whether the answer hangs on the pick; and a flag
  where the best model is within 2 standard errors of `dummy`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd

from src.reports.analysis import lower_is_better
from src.reports.paired import CLASSICAL, DEEP, INCONCLUSIVE, Paired, adjusted_verdict, compare, holm

COLUMNS = [
    "dataset",
    "n_train",
    "metric",
    "margin",
    "best_deep",
    "best_classical",
    "n_pairs",
    "mean_diff",
    "ci_low",
    "ci_high",
    "p_value",
    "min_detectable",
    "verdict",
    "why",
    "pairs_needed",
    "chosen_on",
    "tie_break",
    "beats_dummy",
]
PAIR_COLUMNS = ["dataset", "n_train", "metric", "deep", "classical", "n_pairs", "mean_diff", "ci_low", "ci_high"]
PAIR_COLUMNS += ["p_value", "p_holm", "verdict"]
REFERENCE = "dummy"  # the constant predictor: a reference line, never a candidate
# Equivalence margins: absolute for scores on a fixed scale; for error metrics a share of the
# constant predictor's error (dummy's mean; else the classical pick's), since their scale is the target's.
MARGINS = {"roc_auc": 0.01, "accuracy": 0.01, "f1_macro": 0.01, "r2": 0.01, "log_loss": 0.02, "brier": 0.01}
RELATIVE_MARGINS = {"rmse": 0.02, "mae": 0.02, "mse": 0.04}
TIE_TOLERANCE = 1e-12


def metric_name(metric: str) -> str:
    """test_roc_auc -> roc_auc."""
    return metric.removeprefix("test_")


def second_metric(metric: str) -> str:
    """What breaks an exact tie on the verdict metric."""
    if metric in ("rmse", "mse", "r2"):
        return "mae"
    if metric == "mae":
        return "rmse"
    return "brier" if metric == "log_loss" else "log_loss"


def _column(runs: pd.DataFrame, name: str) -> pd.Series:
    column = f"metrics.{name}"
    if column not in runs:
        return pd.Series(np.nan, index=runs.index)
    return pd.to_numeric(runs[column], errors="coerce")


def _oriented(values: pd.Series, metric: str) -> pd.Series:
    """Higher is better."""
    return -values if lower_is_better(metric) else values


@dataclass(frozen=True)
class Pick:
    variant: Optional[str]
    chosen_on: str  # selection, validation or test
    tie_break: str  # "" or what decided a tie


def pick_best(runs: pd.DataFrame, metric: str) -> Pick:
    """The variant with the best mean selection score (module doc), ties broken by the second
    metric, then by the shorter median fit time."""
    for split in ("select", "final_val", "test"):
        scores = _oriented(_column(runs, f"{split}_{metric}"), metric)
        means = scores.groupby(runs["variant"]).mean().dropna()
        if not means.empty:
            break
    else:
        return Pick(None, "", "")
    chosen_on = {"select": "selection", "final_val": "validation", "test": "test"}[split]
    tied = means[means >= means.max() - TIE_TOLERANCE].index.tolist()
    if len(tied) == 1:
        return Pick(str(tied[0]), chosen_on, "")
    second = second_metric(metric)
    seconds = _oriented(_column(runs, f"{split}_{second}"), second).groupby(runs["variant"]).mean()
    seconds = seconds.reindex(tied).dropna()
    names = " and ".join(sorted(map(str, tied)))
    if not seconds.empty and (seconds >= seconds.max() - TIE_TOLERANCE).sum() == 1:
        best = str(seconds.idxmax())
        return Pick(best, chosen_on, f"{names} tied on {split} {metric}; {second} decided")
    times = runs[runs["variant"].isin(tied)].groupby("variant")["fit_time_s"].median()
    best = str(times.idxmin()) if times.notna().any() else str(sorted(map(str, tied))[0])
    return Pick(best, chosen_on, f"{names} tied on {split} {metric} and {second}; the shorter fit time decided")


def margin_for(metric: str, runs: pd.DataFrame, classical: Optional[str], override: Optional[float]) -> float:
    if override is not None:
        return float(override)
    if metric in MARGINS:
        return MARGINS[metric]
    share = RELATIVE_MARGINS.get(metric, 0.02)
    reference = runs[runs["model"] == REFERENCE]
    if reference.empty and classical is not None:
        reference = runs[runs["variant"] == classical]
    scale = float(_column(reference, f"test_{metric}").mean()) if not reference.empty else math.nan
    return share * scale if not math.isnan(scale) else math.nan


def test_ratio(runs: pd.DataFrame) -> float:
    """Mean n_test / n_rest over the runs (n_rest: the rows outside the test set), the
    Nadeau-Bengio correction's ratio; n_test / n_train where n_rows was not recorded."""
    n_test = pd.to_numeric(runs["n_test"], errors="coerce")
    n_rows = pd.to_numeric(runs.get("n_rows", pd.Series(np.nan, index=runs.index)), errors="coerce")
    rest = (n_rows - n_test).where(n_rows.notna(), pd.to_numeric(runs["n_train"], errors="coerce"))
    ratio = (n_test / rest).replace([np.inf, -np.inf], np.nan)
    return float(ratio.mean()) if ratio.notna().any() else 0.0


def paired(runs: pd.DataFrame, deep: str, other: str, metric: str, margin: float) -> Paired:
    """deep - other on the test metric, paired by seed and test rows (split_digest: runs that
    tested different rows never pair), oriented so that > 0 means deep better."""
    values = _oriented(_column(runs, f"test_{metric}"), metric)
    digest = runs["split_digest"].fillna("") if "split_digest" in runs else pd.Series("", index=runs.index)
    keys = [runs["seed"], digest]
    by_pair = {
        name: values[runs["variant"] == name].groupby([k[runs["variant"] == name] for k in keys]).mean()
        for name in (deep, other)
    }
    both = pd.concat(by_pair, axis=1, join="inner").dropna()
    seeds = both.index.get_level_values(0)
    pair_runs = runs[runs["variant"].isin((deep, other)) & runs["seed"].isin(seeds)]
    return compare((both[deep] - both[other]).to_numpy(float), test_ratio(pair_runs), margin)


@dataclass
class Verdicts:
    rows: pd.DataFrame  # COLUMNS, one row per (dataset, n_train) with both families
    pairs: pd.DataFrame  # PAIR_COLUMNS: the best deep model against every classical candidate
    notes: list[str]  # models left out, selections that fell back, fixed test sets
    crossover: Crossover  # what the rows say about a crossover (crossover_of)


def verdicts_of(runs: pd.DataFrame, metric: str, dataset: str, margin: Optional[float] = None) -> Verdicts:
    """One dataset's verdict rows, one per training size where both families finished runs."""
    metric = metric_name(metric)
    done = runs[runs["finished"] & runs["n_train"].notna()]
    rows, pairs, notes = [], [], []
    for size, group in done.groupby("n_train", sort=True):
        where = f"{dataset}, n_train = {size:g}"
        candidates = group[group["model"] != REFERENCE]
        scored = _column(candidates, f"test_{metric}").notna()
        left_out = sorted(set(candidates.loc[~scored, "variant"]) - set(candidates.loc[scored, "variant"]))
        if left_out:
            notes.append(
                f"{where}: {', '.join(left_out)} logged no {metric} (no probabilities): left out of the verdict."
            )
        candidates = candidates[scored]
        picks = {family: pick_best(candidates[candidates["family"] == family], metric) for family in (DEEP, CLASSICAL)}
        if any(p.variant is None for p in picks.values()):
            continue
        deep, classical = picks[DEEP].variant, picks[CLASSICAL].variant
        for family, pick in picks.items():
            if pick.chosen_on != "selection":
                notes.append(f"{where}: no selection split; best {family} chosen on {pick.chosen_on}.")
        delta = margin_for(metric, group, classical, margin)
        stats = paired(group, deep, classical, metric, delta)
        tie_break = "; ".join(p.tie_break for p in picks.values() if p.tie_break)
        rows.append(
            [dataset, int(size), metric, delta, deep, classical, stats.n_pairs, stats.mean_diff, stats.ci_low]
            + [stats.ci_high, stats.p_value, stats.min_detectable, stats.verdict, stats.why, stats.pairs_needed]
            + [picks[DEEP].chosen_on, tie_break, _beats_dummy(group, metric, delta, (deep, classical))]
        )
        against = [
            (name, paired(group, deep, name, metric, delta))
            for name in sorted(candidates.loc[candidates["family"] == CLASSICAL, "variant"].unique())
        ]
        adjusted = holm([s.p_value for _, s in against])
        for (name, s), p_holm in zip(against, adjusted):
            pairs.append(
                [dataset, int(size), metric, deep, name, s.n_pairs, s.mean_diff, s.ci_low, s.ci_high, s.p_value]
                + [p_holm, adjusted_verdict(s, p_holm, delta)]
            )
    notes += _test_set_notes(done, dataset)
    table = pd.DataFrame(rows, columns=COLUMNS)
    return Verdicts(table, pd.DataFrame(pairs, columns=PAIR_COLUMNS), notes, crossover_of(table, dataset))


def _beats_dummy(group: pd.DataFrame, metric: str, margin: float, picks: tuple[str, str]) -> Optional[bool]:
    """Whether the better of the two picks is more than 2 corrected standard errors above
    `dummy` (None without dummy runs)."""
    reference = group[group["model"] == REFERENCE]
    if reference.empty:
        return None
    label = str(reference["variant"].iloc[0])
    gaps = [paired(group, pick, label, metric, margin) for pick in picks]
    best = max(gaps, key=lambda s: -math.inf if math.isnan(s.mean_diff) else s.mean_diff)
    if math.isnan(best.mean_diff):
        return None
    if math.isnan(best.se) or best.se == 0:
        return bool(best.mean_diff > 0)
    return bool(best.mean_diff > 2 * best.se)


def _test_set_notes(done: pd.DataFrame, dataset: str) -> list[str]:
    schemes = set(done["test_set"].dropna()) if "test_set" in done else set()
    notes = []
    if "fixed" in schemes:
        notes.append(
            f"{dataset} has one fixed test set, the same for every repeat: its intervals cover the randomness of "
            "the training rows, the validation and selection rows and the initialisation on that test set, not the "
            "sampling of new test rows."
        )
    if "random" in schemes:
        notes.append(f"{dataset}: repeats are random splits (not folds): their test sets overlap.")
    return notes


@dataclass(frozen=True)
class Crossover:
    size: Optional[int]  # the first size of the final run of `deep` verdicts after a `classical` one
    sentence: str


def gap_text(row: pd.Series) -> str:
    difference = f"{row['best_deep']} - {row['best_classical']} = {row['mean_diff']:+.4g} {row['metric']}"
    if math.isnan(row["ci_low"]):
        return f"{difference} ({row['why']}; verdict {row['verdict']})"
    return (
        f"{difference} (95% CI [{row['ci_low']:+.4g}, {row['ci_high']:+.4g}] over {row['n_pairs']} pairs, "
        f"margin ±{row['margin']:.3g}; verdict {row['verdict']})"
    )


def resolve_text(rows: pd.DataFrame) -> str:
    """How many pairs would decide the inconclusive rows, at their observed means and spreads."""
    open_rows = rows[rows["verdict"] == INCONCLUSIVE]
    if open_rows.empty:
        return ""
    parts = []
    for _, row in open_rows.iterrows():
        needed = row["pairs_needed"]
        if needed is None or (isinstance(needed, float) and math.isnan(needed)):
            parts.append(f"n_train = {row['n_train']:g}: no number of repeats (the overlap correction's floor)")
        else:
            parts.append(f"n_train = {row['n_train']:g}: about {int(needed)} pairs (now {row['n_pairs']})")
    return " Inconclusive at " + "; ".join(parts) + ", if the mean gap and its spread stay as observed."


def crossover_of(rows: pd.DataFrame, dataset: str) -> Crossover:
    """A crossover only where the decided verdicts (deep / classical) turn from classical to deep
    and no decided verdict after the turn is classical; otherwise the gap at the largest size."""
    if rows.empty:
        return Crossover(
            None, f"{dataset}: no verdict: no training size has finished runs of both a deep and a classical model."
        )
    rows = rows.sort_values("n_train").reset_index(drop=True)
    largest = rows.iloc[-1]
    at_largest = "verdicts by training size: " + ", ".join(f"{r.n_train:g} {r.verdict}" for r in rows.itertuples())
    decided = rows[rows["verdict"].isin((DEEP, CLASSICAL))]
    verdicts = decided["verdict"].tolist()
    first_deep = len(verdicts)
    while first_deep > 0 and verdicts[first_deep - 1] == DEEP:
        first_deep -= 1
    resolve = resolve_text(rows)
    if first_deep < len(verdicts) and CLASSICAL in verdicts[:first_deep]:
        size = int(decided["n_train"].iloc[first_deep])
        return Crossover(
            size,
            f"{dataset}: crossover at n_train = {size}: the decided verdicts turn from classical to deep there and "
            f"none after it is classical; {at_largest}.{resolve}",
        )
    if decided.empty:
        return Crossover(None, f"{dataset}: no decided verdict, so no crossover; {at_largest}.{resolve}")
    return Crossover(
        None, f"{dataset}: no crossover up to {largest['n_train']:g} training rows; {at_largest}.{resolve}"
    )


def row_sentence(row: pd.Series) -> str:
    return f"{row['dataset']}, n_train = {row['n_train']:g}: {gap_text(row)}."
