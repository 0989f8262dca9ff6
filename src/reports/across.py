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


def times_per_rows(runs: pd.DataFrame) -> pd.DataFrame:
    """Per variant, median over its finished runs (every dataset and size) of the fit time per
    1,000 training rows and the predict time per 1,000 predicted (test) rows."""
    done = runs[runs["finished"] & (runs["n_train"] > 0)]
    if done.empty:
        return pd.DataFrame(columns=["variant", "family", "train_s", "predict_s"])
    per = done.assign(
        train_s=done["fit_time_s"] / done["n_train"] * ROWS_PER_UNIT,
        predict_s=done["predict_time_s"] / done["n_test"].where(done["n_test"] > 0) * ROWS_PER_UNIT,
    )
    grouped = per.groupby("variant", sort=False).agg(
        family=("family", "first"), train_s=("train_s", "median"), predict_s=("predict_s", "median")
    )
    return grouped.reset_index().sort_values("train_s").reset_index(drop=True)


def pareto_front(frame: pd.DataFrame, score: str, time: str) -> pd.Series:
    """True where no other row is at least as fast and as good, and strictly better on one."""
    s, t = frame[score].to_numpy(float), frame[time].to_numpy(float)
    return pd.Series(
        [not np.any((t <= t[i]) & (s >= s[i]) & ((t < t[i]) | (s > s[i]))) for i in range(len(frame))],
        index=frame.index,
    )


def score_against_time(scores: pd.DataFrame, times: pd.DataFrame) -> pd.DataFrame:
    """Per variant: mean normalised score over datasets, train time per 1,000 rows, on the front or not."""
    mean_score = scores.mean().rename("score")
    points = times.set_index("variant").join(mean_score, how="inner").dropna(subset=["score", "train_s"])
    points = points.reset_index()
    points["pareto"] = pareto_front(points, "score", "train_s")
    return points
