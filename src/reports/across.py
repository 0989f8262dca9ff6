"""Across datasets: the numbers behind the critical-difference diagram, the normalised
scores, times per 1,000 rows and the Pareto front of score against time. Pure functions
on the per-dataset model tables (analysis.model_table) and tidy run frames.

Each model is taken at its largest training size on each dataset, its metric averaged
over repeats; datasets are the blocks of the Friedman test (Demšar 2006), never the
repeats, which are not independent datasets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd

from src.reports.analysis import lower_is_better

MIN_DATASETS, MIN_MODELS = 2, 3
ROWS_PER_UNIT = 1000  # times are given per 1,000 rows


def score_matrix(tables: dict[str, tuple[pd.DataFrame, str]]) -> pd.DataFrame:
    """Datasets x variants: each variant's mean metric at its largest size, in the metric's
    own units (NaN where a variant did not run or finished nothing)."""
    columns = {
        dataset: table.dropna(subset=["mean"]).set_index("variant")["mean"] for dataset, (table, _) in tables.items()
    }
    return pd.DataFrame(columns).T if columns else pd.DataFrame()


def normalised_scores(tables: dict[str, tuple[pd.DataFrame, str]]) -> pd.DataFrame:
    """Datasets x variants: per dataset the best variant 1 and the worst 0, linear in between
    (Grinsztajn et al. 2022, TabArena). A dataset where every variant scores the same gives 1."""
    matrix = score_matrix(tables)
    rows = {}
    for dataset, values in matrix.iterrows():
        metric = tables[dataset][1]
        best, worst = (values.min(), values.max()) if lower_is_better(metric) else (values.max(), values.min())
        span = best - worst
        rows[dataset] = (values - worst) / span if span != 0 and not np.isnan(span) else values * 0 + 1.0
    return pd.DataFrame(rows).T


@dataclass
class CriticalDifference:
    ranks: pd.Series  # mean rank per variant (1 = best), over the complete datasets
    p_values: Optional[pd.DataFrame]  # Nemenyi's pairwise p-values; None when not computed
    friedman_p: float
    note: str  # what was computed, or why not


def critical_difference(tables: dict[str, tuple[pd.DataFrame, str]]) -> CriticalDifference:
    """Friedman's test over datasets, then Nemenyi's pairwise test (scikit-posthocs), on the
    variants that have a result on every dataset."""
    from scipy import stats

    matrix = score_matrix(tables)
    complete = matrix.dropna(axis=1) if not matrix.empty else matrix
    n_datasets, n_models = complete.shape
    if n_datasets < MIN_DATASETS or n_models < MIN_MODELS:
        return CriticalDifference(
            pd.Series(dtype=float),
            None,
            float("nan"),
            f"Critical-difference diagram not drawn: it needs at least {MIN_MODELS} models with a result on each "
            f"of at least {MIN_DATASETS} datasets; here {n_models} model(s) on {n_datasets} dataset(s) qualify.",
        )
    import scikit_posthocs

    ranks = pd.DataFrame(
        {d: complete.loc[d].rank(ascending=lower_is_better(tables[d][1])) for d in complete.index}
    ).T  # datasets x variants, 1 = best
    mean_ranks = ranks.mean().sort_values()
    friedman = stats.friedmanchisquare(*[ranks[v].to_numpy(float) for v in ranks.columns])
    p_values = scikit_posthocs.posthoc_nemenyi_friedman(ranks.to_numpy(float))
    p_values.index = p_values.columns = ranks.columns
    note = (
        f"Friedman test over {n_models} models x {n_datasets} datasets: p = {friedman.pvalue:.3g}; pairwise "
        "Nemenyi test (scikit-posthocs); models joined by a bar do not differ at the 5% level."
        + (" With so few datasets the tests have little power." if n_datasets < 5 else "")
    )
    return CriticalDifference(mean_ranks, p_values, float(friedman.pvalue), note)


def _per_1000_rows(runs: pd.DataFrame) -> pd.DataFrame:
    """The finished runs with their fit time per 1,000 training rows (train_s) and predict
    time per 1,000 predicted (test) rows (predict_s)."""
    done = runs[runs["finished"] & (runs["n_train"] > 0)]
    return done.assign(
        train_s=done["fit_time_s"] / done["n_train"] * ROWS_PER_UNIT,
        predict_s=done["predict_time_s"] / done["n_test"].where(done["n_test"] > 0) * ROWS_PER_UNIT,
    )


def times_per_rows(runs: pd.DataFrame) -> pd.DataFrame:
    """A row per variant and training size: the median over its finished runs of that size
    (every dataset and seed) of the fit time per 1,000 training rows and the predict time
    per 1,000 predicted (test) rows, and how many runs that is. A time per row is no constant
    (a fit is rarely linear in its rows), so sizes are never pooled. Variants in order of
    their fit time at their largest size, each variant's sizes from small to large."""
    per = _per_1000_rows(runs)
    if per.empty:
        return pd.DataFrame(columns=["variant", "family", "n_train", "train_s", "predict_s", "n_runs"])
    grouped = (
        per.groupby(["variant", "n_train"], sort=False)
        .agg(
            family=("family", "first"),
            train_s=("train_s", "median"),
            predict_s=("predict_s", "median"),
            n_runs=("train_s", "size"),
        )
        .reset_index()
    )
    order = times_at_largest_size(runs)["variant"].tolist()
    grouped["_order"] = grouped["variant"].map({v: i for i, v in enumerate(order)})
    grouped = grouped.sort_values(["_order", "n_train"]).drop(columns="_order")
    return grouped[["variant", "family", "n_train", "train_s", "predict_s", "n_runs"]].reset_index(drop=True)


def times_at_largest_size(runs: pd.DataFrame) -> pd.DataFrame:
    """Per variant, the times per 1,000 rows where the normalised scores take it: on each
    dataset its runs at its largest training size there; the median over those runs."""
    per = _per_1000_rows(runs)
    if per.empty:
        return pd.DataFrame(columns=["variant", "family", "train_s", "predict_s"])
    by = ["dataset", "variant"] if "dataset" in per else ["variant"]
    largest = per.groupby(by, sort=False)["n_train"].transform("max")
    at = per[per["n_train"] == largest]
    grouped = at.groupby("variant", sort=False).agg(
        family=("family", "first"), train_s=("train_s", "median"), predict_s=("predict_s", "median")
    )
    return grouped.reset_index().sort_values("train_s", kind="stable").reset_index(drop=True)


def pareto_front(frame: pd.DataFrame, score: str, time: str) -> pd.Series:
    """True where no other row is at least as fast and as good, and strictly better on one."""
    s, t = frame[score].to_numpy(float), frame[time].to_numpy(float)
    return pd.Series(
        [not np.any((t <= t[i]) & (s >= s[i]) & ((t < t[i]) | (s > s[i]))) for i in range(len(frame))],
        index=frame.index,
    )


def score_against_time(scores: pd.DataFrame, times: pd.DataFrame) -> pd.DataFrame:
    """Per variant: mean normalised score over datasets, train time per 1,000 rows (`times`:
    times_at_largest_size, one row per variant), on the front or not."""
    mean_score = scores.mean().rename("score")
    points = times.set_index("variant").join(mean_score, how="inner").dropna(subset=["score", "train_s"])
    points = points.reset_index()
    points["pareto"] = pareto_front(points, "score", "train_s")
    return points
