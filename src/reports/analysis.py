"""The report's analysis: pure functions on tidy run frames (see src/reports/runs.py),
testable without MLflow.

Per dataset: the tuned trial of each searched model (chosen on validation, never
on test), the model table, learning curves and the Pareto front of time against
the metric (the verdicts of deep against classical: src/reports/verdicts.py).
Across datasets: mean ranks with a Friedman test, and a paired Wilcoxon
signed-rank test of the best deep against the best classical model.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import pandas as pd

from src.data.types import Task

LOWER_IS_BETTER = {"mse", "rmse", "mae", "loss"}


def lower_is_better(metric: str) -> bool:
    """mse / rmse / mae / loss and times are better lower; accuracy, f1, r2 higher."""
    return metric.rsplit("_", 1)[-1] in LOWER_IS_BETTER or metric.endswith("_s")


def default_metric(task: Any) -> str:
    return "test_mse" if task == Task.regression else "test_accuracy"


def dataset_metric(runs: pd.DataFrame) -> str:
    """The dataset's main metric: the most common main_metric tag of its runs."""
    done = runs[runs["finished"]]
    source = done if not done.empty else runs
    return str(source["main_metric"].mode().iloc[0]) if not source.empty else "test_accuracy"


def best_trial(trials: pd.DataFrame) -> Optional[tuple[Any, float]]:
    """The finished trials' best by their optimized metric (scored on the validation split,
    never on the test split the report judges by): (its index, its value); None when no
    trial logged that metric."""
    if trials.empty:
        return None
    metric = trials["optimized_metric"].iloc[0]
    column = f"metrics.{metric}"
    if column not in trials:
        return None
    values = pd.to_numeric(trials[column], errors="coerce")
    if values.isna().all():
        return None
    best = values.idxmin() if lower_is_better(metric) else values.idxmax()
    return best, float(values[best])


def select_tuned(runs: pd.DataFrame) -> pd.DataFrame:
    """Hyperparameter-search runs (optimized_metric set): per model, only the best trial
    (see `best_trial`). Other runs pass through."""
    searched = runs["optimized_metric"].notna() & runs["finished"]
    if not searched.any():
        return runs
    keep = ~searched
    for _, group in runs[searched].groupby(["dataset", "model"]):
        best = best_trial(group)
        if best is None:
            keep |= runs.index.isin(group.index)
        else:
            keep |= runs.index == best[0]
    chosen = runs[keep].copy()
    tuned = chosen["optimized_metric"].notna() & chosen["finished"]
    chosen.loc[tuned, "variant"] = [f"{m} (tuned)" for m in chosen.loc[tuned, "model"]]
    return chosen


def model_table(runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per variant, at its largest training size: mean/std of the metric over seeds, median
    fit/predict time and n_params, failed-run count."""
    lower = lower_is_better(metric)
    rows = []
    for variant, group in runs.groupby("variant", sort=False):
        done = group[group["finished"]]
        failed = int((~group["finished"]).sum())
        if done.empty:
            rows.append(
                {
                    "variant": variant,
                    "family": group["family"].iloc[0],
                    "n_train": np.nan,
                    "seeds": 0,
                    "mean": np.nan,
                    "std": np.nan,
                    "fit": np.nan,
                    "predict": np.nan,
                    "n_params": np.nan,
                    "failed": failed,
                }
            )
            continue
        size = done["n_train"].max()
        at = done[done["n_train"] == size] if not pd.isna(size) else done
        rows.append(
            {
                "variant": variant,
                "family": group["family"].iloc[0],
                "n_train": size,
                "seeds": int(at["value"].notna().sum()),
                "mean": at["value"].mean(),
                "std": at["value"].std(ddof=1) if at["value"].notna().sum() > 1 else np.nan,
                "fit": at["fit_time_s"].median(),
                "predict": at["predict_time_s"].median(),
                "n_params": at["n_params"].median(),
                "failed": failed,
            }
        )
    table = pd.DataFrame(
        rows, columns=["variant", "family", "n_train", "seeds", "mean", "std", "fit", "predict", "n_params", "failed"]
    )
    if table.empty:
        return table
    key = table["mean"] if lower else -table["mean"]
    return table.assign(_key=key).sort_values("_key", na_position="last").drop(columns="_key").reset_index(drop=True)


def curves_of(runs: pd.DataFrame) -> pd.DataFrame:
    """Finished runs grouped by (variant, n_train): mean, std and count of the metric; median fit time."""
    done = runs[runs["finished"] & runs["n_train"].notna()]
    if done.empty:
        return pd.DataFrame(columns=["variant", "family", "n_train", "mean", "std", "n", "fit"])
    grouped = done.groupby(["variant", "n_train"], sort=False)
    curves = grouped.agg(
        family=("family", "first"),
        mean=("value", "mean"),
        std=("value", "std"),
        n=("value", "count"),
        fit=("fit_time_s", "median"),
    ).reset_index()
    return curves


def pareto_points(curves: pd.DataFrame, metric: str) -> pd.DataFrame:
    """(variant, n_train) points with their fit time; `pareto` marks those no other point beats
    on both time and metric."""
    points = curves.dropna(subset=["fit", "mean"]).copy()
    lower = lower_is_better(metric)
    score = points["mean"].to_numpy(float) * (1 if lower else -1)  # lower is better for both axes now
    fit = points["fit"].to_numpy(float)
    front = []
    for i in range(len(points)):
        dominated = np.any((fit <= fit[i]) & (score <= score[i]) & ((fit < fit[i]) | (score < score[i])))
        front.append(not dominated)
    points["pareto"] = front
    return points


def ranks_across_datasets(tables: dict[str, tuple[pd.DataFrame, str]]) -> tuple[pd.DataFrame, list[str]]:
    """Mean rank (1 = best) of each variant over the datasets it was run on, plus notes and a
    Friedman test over the variants present on every dataset."""
    from scipy import stats

    ranks = {}
    for dataset, (table, metric) in tables.items():
        values = table.dropna(subset=["mean"]).set_index("variant")["mean"]
        if values.empty:
            continue
        ranks[dataset] = values.rank(ascending=lower_is_better(metric), method="average")
    notes: list[str] = []
    if not ranks:
        return pd.DataFrame(), ["Ranks not computed: no finished runs."]
    if len(ranks) < 2:  # one dataset's ranks restate its table, and a small spread would read as a ranking
        return pd.DataFrame(), ["Ranks not computed: they need at least 2 datasets; the models table above says it."]
    matrix = pd.DataFrame(ranks)  # variants x datasets
    summary = pd.DataFrame({"mean rank": matrix.mean(axis=1), "datasets": matrix.notna().sum(axis=1)})
    summary = summary.sort_values("mean rank")
    complete = matrix.dropna()
    n_variants, n_datasets = complete.shape
    if n_datasets < 2 or n_variants < 3:
        notes.append(
            f"Friedman test not computed: it needs at least 3 models and 2 datasets with results for "
            f"every model; here {n_variants} model(s) on {n_datasets} dataset(s) qualify."
        )
    else:
        values = [complete.loc[v].to_numpy(float) for v in complete.index]
        statistic, p = stats.friedmanchisquare(*values)
        verdict = "the models' ranks differ" if p < 0.05 else "no significant difference between the models' ranks"
        notes.append(
            f"Friedman test over {n_variants} models x {n_datasets} datasets: chi2 = {statistic:.3g}, "
            f"p = {p:.3g} ({verdict} at the 5% level"
            + ("; with so few datasets the test has little power)." if n_datasets < 5 else ").")
        )
    return summary, notes


def paired_wilcoxon(runs: pd.DataFrame, summary: pd.DataFrame) -> Optional[str]:
    """Wilcoxon signed-rank test of the best-ranked deep against the best-ranked classical variant,
    paired on (dataset, n_train, seed)."""
    from scipy import stats

    if summary.empty:
        return None
    family = runs.drop_duplicates("variant").set_index("variant")["family"]
    ranked = [v for v in summary.index if v in family.index]
    deep = next((v for v in ranked if family[v] == "deep"), None)
    classical = next((v for v in ranked if family[v] == "classical"), None)
    if deep is None or classical is None:
        return None
    done = runs[runs["finished"] & runs["variant"].isin([deep, classical])]
    table = done.pivot_table(index=["dataset", "n_train", "seed"], columns="variant", values="value", aggfunc="mean")
    if deep not in table or classical not in table:
        return None
    table = table.dropna(subset=[deep, classical])
    if table.empty:
        return None
    lower = np.array(
        [lower_is_better(dataset_metric(runs[runs["dataset"] == d])) for d in table.index.get_level_values(0)]
    )
    diff = (table[deep] - table[classical]).to_numpy(float)
    diff = np.where(lower, -diff, diff)  # > 0: deep better
    metrics = {dataset_metric(runs[runs["dataset"] == d]) for d in table.index.get_level_values(0)}
    if len(metrics) > 1:  # different metrics: compare relative differences
        scale = np.abs(table[[deep, classical]].to_numpy(float)).mean(axis=1)
        diff = diff / np.where(scale > 0, scale, 1)
    wins, losses = int((diff > 0).sum()), int((diff < 0).sum())
    head = (
        f"Wilcoxon signed-rank test, {deep} against {classical}, paired over {len(diff)} (dataset, n_train, "
        f"seed) results: {deep} better in {wins}, worse in {losses}"
    )
    if np.count_nonzero(diff) < 2:
        return head + "; too few non-tied pairs for the test."
    try:
        result = stats.wilcoxon(diff)
    except ValueError as exc:
        return head + f"; test not computed ({exc})."
    verdict = "significant" if result.pvalue < 0.05 else "not significant"
    return head + f"; p = {result.pvalue:.3g} ({verdict} at the 5% level)."
