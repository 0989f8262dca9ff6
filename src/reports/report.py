"""The study report: runs read back from MLflow -> one Markdown file with PNG plots.

    python -m src.report --study data_dependency
    python -m src.report --experiment mlvsdl --tag dataset=digits
    python -m src.report --study main --sweep latest      # only the last sweep of the study

Runs are read with `mlflow.search_runs` into pandas (params come back as
strings; an empty result has no `params.*` columns, both handled below). The
sweeps' parent runs and earlier report runs are left out. The report goes into
`reports/<study or experiment>/report.md` (with its PNGs beside it) and is
logged as the artifacts of a "report" run (tag `report=true`).

What it shows, per dataset: a table of models (mean ± std of the main test
metric over seeds, median times, parameter counts, the best of each column in
bold); learning curves against the training-set size with the crossover of the
best deep and the best classical model; training time; time against the
metric with its Pareto front; loss curves where optimizers or learning rates
vary; gradient norms where they were logged; feature importances where they
were logged. Across datasets: mean ranks with a Friedman test and a Wilcoxon
signed-rank test of the best deep against the best classical model. Runs that
failed or diverged are listed as such, never dropped.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

import numpy as np
import pandas as pd

from src.reports import figures

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REPORTS_DIR = PROJECT_ROOT / "reports"
DEFAULT_EXPERIMENT = "mlvsdl"  # where the report run goes when no experiment is named
REPORT_NAME = "report.md"
# Files this module writes (a rerun into the same folder removes its own stale ones only).
OWN_FILES = re.compile(
    r"^(report\.md|summary\.txt|(learning_curve|fit_time|pareto|loss_curves|lr_sweep|grad_norms|"
    r"importance)_.*\.png)$"
)
LOWER_IS_BETTER = {"mse", "rmse", "mae", "loss"}
# Config keys that never tell two variants of a model apart.
NOT_A_VARIANT = ("tracking.", "dataset.train_size", "hydra.")
MAX_HISTORIES = 400  # metric histories fetched per figure, at most

TAG_COLUMNS = {
    "model": "tags.model",
    "family": "tags.model_family",
    "dataset": "tags.dataset",
    "task": "tags.task",
    "seed": "tags.seed",
    "study": "tags.study",
    "main_metric": "tags.main_metric",
    "accelerator": "tags.accelerator",
    "status_reason": "tags.status_reason",
    "error": "tags.error",
    "epochs_trained": "tags.epochs_trained",
    "run_name": "tags.mlflow.runName",
    "parent": "tags.mlflow.parentRunId",
}
PARAM_COLUMNS = {
    "n_train": "params.n_train",
    "n_params": "params.n_params",
    "train_size": "params.dataset.train_size",
    "optimized_metric": "params.optimized_metric",
}
METRIC_COLUMNS = {
    "fit_time_s": "metrics.fit_time_s",
    "predict_time_s": "metrics.predict_time_s",
    "diverged_epoch": "metrics.diverged_epoch",
}


def lower_is_better(metric: str) -> bool:
    """mse / rmse / mae / loss and times are better lower; accuracy, f1, r2 higher."""
    return metric.rsplit("_", 1)[-1] in LOWER_IS_BETTER or metric.endswith("_s")


def default_metric(task: Any) -> str:
    return "test_mse" if task == "regression" else "test_accuracy"


# =============================================================================== loading


@dataclass
class RunFilter:
    experiments: list[str] = field(default_factory=list)
    study: Optional[str] = None
    tags: dict[str, str] = field(default_factory=dict)
    sweep: Optional[str] = None  # "latest" or a sweep's parent run id

    def filter_string(self) -> str:
        clauses = []
        tags = dict(self.tags)
        if self.study:
            tags["study"] = self.study
        for key, value in tags.items():
            clauses.append(f"tags.`{key}` = '{_quote(value)}'")
        return " and ".join(clauses)

    def describe(self) -> str:
        parts = []
        if self.experiments:
            parts.append("experiment " + ", ".join(self.experiments))
        if self.study:
            parts.append(f"study={self.study}")
        parts += [f"{k}={v}" for k, v in self.tags.items()]
        if self.sweep:
            parts.append(f"sweep {self.sweep}")
        return "; ".join(parts) or "all runs"

    def name(self) -> str:
        """The report folder's name."""
        name = self.study or (self.experiments[0] if len(self.experiments) == 1 else None) or "all"
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _quote(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace("'", "\\'")


def search_runs(tracking_uri: str, run_filter: RunFilter) -> pd.DataFrame:
    """The matching runs as `mlflow.search_runs` returns them, sweep parents and reports left out."""
    import mlflow

    from src.errors import UserError
    from src.tracking.mlflow_run import client_for

    client = client_for(tracking_uri)
    if run_filter.experiments:
        known = {e.name for e in client.search_experiments()}
        missing = [e for e in run_filter.experiments if e not in known]
        if missing:
            raise UserError(
                f"no experiment named {', '.join(missing)} in {tracking_uri}; "
                f"experiments there: {', '.join(sorted(known)) or 'none'}"
            )
    from src.tracking.mlflow_run import fluent_tracking_uri

    # search_runs is fluent-only; point it at the store and restore exactly what was
    # there (mlflow.get_tracking_uri() would pin $MLFLOW_TRACKING_URI's current value).
    with fluent_tracking_uri(tracking_uri):
        frame = mlflow.search_runs(
            experiment_names=run_filter.experiments or None,
            search_all_experiments=not run_filter.experiments,
            filter_string=run_filter.filter_string(),
            max_results=100000,
            output_format="pandas",
        )
    frame = _with_columns(frame, ["tags.sweep", "tags.report", "tags.mlflow.parentRunId", "start_time"])
    if run_filter.sweep:
        parent = _sweep_parent(frame, run_filter.sweep)
        frame = frame[frame["tags.mlflow.parentRunId"] == parent]
    keep = (frame["tags.sweep"] != "true") & (frame["tags.report"] != "true")
    return frame[keep].reset_index(drop=True)


def _sweep_parent(frame: pd.DataFrame, sweep: str) -> str:
    from src.errors import UserError

    parents = frame[frame["tags.sweep"] == "true"]
    if sweep != "latest":
        return sweep
    if parents.empty:
        raise UserError("--sweep latest: no sweep among the matching runs (run one with python -m src.train -m ...)")
    return str(parents.sort_values("start_time")["run_id"].iloc[-1])


def _with_columns(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    frame = frame.copy()
    for column in columns:
        if column not in frame.columns:
            frame[column] = None
    return frame


def tidy(raw: pd.DataFrame) -> pd.DataFrame:
    """One row per run with typed columns (params are strings in MLflow); raw columns kept."""
    frame = _with_columns(
        raw,
        [
            "run_id",
            "status",
            "start_time",
            "experiment_id",
            *TAG_COLUMNS.values(),
            *PARAM_COLUMNS.values(),
            *METRIC_COLUMNS.values(),
        ],
    )
    for name, column in {**TAG_COLUMNS, **PARAM_COLUMNS, **METRIC_COLUMNS}.items():
        frame[name] = frame[column]
    for name in (
        "n_train",
        "n_params",
        "train_size",
        "fit_time_s",
        "predict_time_s",
        "epochs_trained",
        "diverged_epoch",
    ):
        frame[name] = pd.to_numeric(frame[name], errors="coerce")  # "undefined", "None" -> NaN
    frame["seed"] = pd.to_numeric(frame["seed"], errors="coerce")
    frame["family"] = frame["family"].fillna("deep").where(frame["model"].notna(), None)
    frame["model"] = frame["model"].fillna("?")
    frame["dataset"] = frame["dataset"].fillna("?")
    frame["optimized_metric"] = frame["optimized_metric"].where(frame["optimized_metric"] != "None", None)
    frame["main_metric"] = [
        m if isinstance(m, str) and m else default_metric(t) for m, t in zip(frame["main_metric"], frame["task"])
    ]
    frame["value"] = [_metric(row, m) for (_, row), m in zip(frame.iterrows(), frame["main_metric"])]
    frame["finished"] = frame["status"] == "FINISHED"
    frame["outcome"] = [_outcome(s, r) for s, r in zip(frame["status"], frame["status_reason"])]
    frame["variant"] = variant_labels(frame)
    return frame


def _metric(row: pd.Series, name: str) -> float:
    value = row.get(f"metrics.{name}")
    return float(value) if value is not None and not pd.isna(value) else math.nan


def _outcome(status: Any, reason: Any) -> str:
    if status == "FINISHED":
        return "finished"
    if reason == "diverged":
        return "diverged"
    return str(status).lower() if isinstance(status, str) else "unknown"


def _param_text(value: Any) -> str:
    """A param string as a label shows it: 0.0022881136684755237 -> 0.002288."""
    text = str(value)
    items = re.fullmatch(r"\[(\d+)(?:, \1){3,}\]", text)
    if items:  # [32, 32, 32, 32, 32] -> [32]x5
        return f"[{items.group(1)}]x{text.count(',') + 1}"
    try:
        number = float(text)
    except ValueError:
        return text
    if number.is_integer():
        return str(int(number)) if abs(number) < 1e15 else text  # 10.0 -> 10
    return text if "e" in text.lower() and len(text) < 8 else f"{number:.4g}"


def _short_key(key: str) -> str:
    """optimizer.name -> optimizer, optimizer.lr -> lr, model.hidden_sizes -> hidden_sizes."""
    group, _, leaf = key.rpartition(".")
    return group.rsplit(".", 1)[-1] if leaf == "name" and group else leaf or key


def variant_labels(frame: pd.DataFrame) -> list[str]:
    """The model's name, plus the config values that differ between runs of that model on
    that dataset (seed and training size aside): 'mlp (optimizer=adam, lr=0.001)'."""
    labels = pd.Series(frame["model"].astype(str), index=frame.index)
    params = [
        c
        for c in frame.columns
        if c.startswith("params.") and "." in c[len("params.") :] and not c[len("params.") :].startswith(NOT_A_VARIANT)
    ]
    for _, group in frame.groupby(["dataset", "model"], dropna=False):
        varying = [c for c in params if group[c].dropna().nunique() > 1]
        if not varying:
            continue
        for index, row in group.iterrows():
            parts = [
                f"{_short_key(c[len('params.') :])}={_param_text(row[c])}"
                for c in varying
                if row[c] is not None and not pd.isna(row[c])
            ]
            if parts:
                labels[index] = f"{row['model']} ({', '.join(parts)})"
    return labels.tolist()


# =============================================================================== analysis


def better(a: float, b: float, lower: bool) -> bool:
    return a < b if lower else a > b


def dataset_metric(runs: pd.DataFrame) -> str:
    """The dataset's main metric: the most common main_metric tag of its runs."""
    done = runs[runs["finished"]]
    source = done if not done.empty else runs
    return str(source["main_metric"].mode().iloc[0]) if not source.empty else "test_accuracy"


def select_tuned(runs: pd.DataFrame) -> pd.DataFrame:
    """Hyperparameter-search runs (optimized_metric set): per model, only the best trial,
    chosen on the optimized metric (never on the test metric). Other runs pass through."""
    searched = runs["optimized_metric"].notna() & runs["finished"]
    if not searched.any():
        return runs
    keep = ~searched
    for _, group in runs[searched].groupby(["dataset", "model"]):
        metric = group["optimized_metric"].iloc[0]
        column = f"metrics.{metric}"
        values = pd.to_numeric(group[column], errors="coerce") if column in group else None
        if values is None or values.isna().all():
            keep |= runs.index.isin(group.index)
            continue
        best = values.idxmin() if lower_is_better(metric) else values.idxmax()
        keep |= runs.index == best
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


@dataclass
class Crossover:
    size: Optional[float]  # the smallest size from which deep stays ahead; None: no crossover
    largest: Optional[float]
    sentence: str


def crossover(curves: pd.DataFrame, metric: str, dataset: str) -> Crossover:
    """The smallest training size from which the best deep model stays ahead of the best
    classical one at every larger size tried; else 'no crossover up to N'."""
    lower = lower_is_better(metric)
    families = set(curves["family"].dropna()) if not curves.empty else set()
    if not {"deep", "classical"} <= families:
        return Crossover(
            None,
            None,
            f"{dataset}: crossover not computed: it needs both a deep and a classical "
            f"model (have: {', '.join(sorted(families)) or 'none'}).",
        )
    best: list[tuple[float, str, float, str, float]] = []  # size, deep variant, value, classical variant, value
    for size, group in curves.dropna(subset=["mean"]).groupby("n_train"):
        picks = []
        for family in ("deep", "classical"):
            part = group[group["family"] == family]
            if part.empty:
                break
            row = part.loc[part["mean"].idxmin() if lower else part["mean"].idxmax()]
            picks += [row["variant"], float(row["mean"])]
        if len(picks) == 4:
            best.append((float(size), *picks))
    if not best:
        return Crossover(
            None, None, f"{dataset}: crossover not computed: no training size has both a deep and a classical result."
        )
    best.sort()
    ahead = [better(d, c, lower) for _, _, d, _, c in best]
    largest = best[-1][0]
    first = None
    for i in range(len(best) - 1, -1, -1):
        if not ahead[i]:
            break
        first = i
    size, deep, dv, classical, cv = best[-1]
    at_largest = f"{metric} at n_train = {size:g}: {deep} {dv:.4g} vs {classical} {cv:.4g}"
    if first is None:
        return Crossover(
            None,
            largest,
            f"{dataset}: no crossover up to {largest:g} training rows: at the largest "
            f"size the best classical model is not behind ({at_largest}).",
        )
    start = best[first][0]
    where = f"from n_train = {start:g} on" + (" (every size tried)" if first == 0 else "")
    return Crossover(
        start,
        largest,
        f"{dataset}: crossover at n_train = {start:g}: the best deep model stays ahead "
        f"of the best classical model {where} ({at_largest}).",
    )


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


# =============================================================================== histories


def fetch_histories(tracking_uri: str, runs: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Per-epoch metric histories (step = epoch) of the runs: columns run_id, variant, key, step, value."""
    from src.tracking.mlflow_run import client_for

    client = client_for(tracking_uri)
    rows = []
    for _, run in runs.head(MAX_HISTORIES).iterrows():
        for key in keys:
            for m in client.get_metric_history(run["run_id"], key):
                rows.append((run["run_id"], run["variant"], key, m.step, m.value))
    return pd.DataFrame(rows, columns=["run_id", "variant", "key", "step", "value"])


def _history_runs(done: pd.DataFrame, key: str) -> pd.DataFrame:
    """Final per-epoch values sit at step = epochs; histories are what comes before."""
    return done[done[f"metrics.{key}"].notna()] if f"metrics.{key}" in done else done.iloc[:0]


# =============================================================================== Markdown


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if float(value).is_integer() and abs(value) < 1e12:
            return str(int(value))
        return f"{value:.{digits}g}"
    return str(value)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        return _fmt(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _bold_best(values: pd.Series, lower: bool) -> list[bool]:
    finite = values.dropna()
    if len(finite) < 2:
        return [False] * len(values)
    best = finite.min() if lower else finite.max()
    return [(not pd.isna(v)) and np.isclose(v, best) for v in values]


def model_table_markdown(table: pd.DataFrame, metric: str) -> str:
    lower = lower_is_better(metric)
    marks = {
        "mean": _bold_best(table["mean"], lower),
        "fit": _bold_best(table["fit"], True),
        "predict": _bold_best(table["predict"], True),
        "n_params": _bold_best(table["n_params"], True),
    }
    rows = []
    for i, row in table.iterrows():
        value = _fmt(row["mean"]) if pd.isna(row["std"]) else f"{_fmt(row['mean'])} ± {_fmt(row['std'], 2)}"
        cells = {
            "mean": value,
            "fit": _fmt(row["fit"], 3),
            "predict": _fmt(row["predict"], 3),
            "n_params": _fmt(row["n_params"]),
        }
        for key, flags in marks.items():
            if flags[i]:
                cells[key] = f"**{cells[key]}**"
        rows.append(
            [
                row["variant"],
                row["family"],
                _fmt(row["n_train"]),
                row["seeds"],
                cells["mean"],
                cells["fit"],
                cells["predict"],
                cells["n_params"],
                row["failed"] or "",
            ]
        )
    header = [
        "model",
        "family",
        "n_train",
        "seeds",
        f"{metric} (mean ± std)",
        "median fit_time_s",
        "median predict_time_s",
        "n_params",
        "failed",
    ]
    return markdown_table(header, rows)


# =============================================================================== the report


@dataclass
class Report:
    name: str
    out: Path
    markdown: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)  # what the command line prints
    figures: list[str] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)  # the crossover sentences
    n_runs: int = 0
    n_failed: int = 0
    run_id: Optional[str] = None  # the MLflow report run, once logged

    def add(self, *lines: str) -> None:
        self.markdown.extend(lines)

    def figure(self, fig: Any, filename: str, caption: str) -> None:
        if fig is None:
            return
        fig.savefig(self.out / filename, dpi=90, bbox_inches="tight")
        self.figures.append(filename)
        self.add(f"![{caption}]({filename})", "")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text))


def build_report(runs: pd.DataFrame, out: Path, name: str, description: str, tracking_uri: str) -> Report:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        if old.is_file() and OWN_FILES.match(old.name):
            old.unlink()
    report = Report(name=name, out=out, n_runs=len(runs), n_failed=int((~runs["finished"]).sum()) if len(runs) else 0)
    n_diverged = int((runs["outcome"] == "diverged").sum()) if len(runs) else 0
    report.add(
        f"# Report: {name}",
        "",
        f"Runs: {description} ({len(runs)} runs: {len(runs) - report.n_failed} finished, "
        f"{report.n_failed} failed, diverged or killed, of which {n_diverged} diverged). "
        f"Store: `{tracking_uri}`. Generated {time.strftime('%Y-%m-%d %H:%M:%S')}.",
        "",
    )
    if runs.empty:
        report.add("No runs matched.", "")
        report.summary.append(f"No runs matched ({description}).")
        return report

    tables: dict[str, tuple[pd.DataFrame, str]] = {}
    for dataset in sorted(runs["dataset"].unique()):
        part = runs[runs["dataset"] == dataset]
        _dataset_section(report, part, dataset, tables, tracking_uri)
    _ranks_section(report, runs, tables)
    _search_section(report, runs)
    _failures_section(report, runs)
    return report


def _dataset_section(
    report: Report, runs: pd.DataFrame, dataset: str, tables: dict[str, tuple[pd.DataFrame, str]], tracking_uri: str
) -> None:
    metric = dataset_metric(runs)
    task = runs["task"].dropna().iloc[0] if runs["task"].notna().any() else "?"
    direction = "lower is better" if lower_is_better(metric) else "higher is better"
    report.add(f"## {dataset}", "", f"Task: {task}; main metric: `{metric}` ({direction}).", "")
    chosen = select_tuned(runs)
    table = model_table(chosen, metric)
    tables[dataset] = (table, metric)
    report.add(
        "### Models",
        "",
        "Each model at its largest training size; mean ± std over seeds; median times; best of each column "
        "in bold; `failed`: runs that failed or diverged (listed at the end).",
        "",
        model_table_markdown(table, metric),
        "",
    )
    report.summary += [f"== {dataset} ({metric}, {direction})", model_table_markdown(table, metric), ""]

    curves = curves_of(chosen)
    slug = _slug(dataset)
    if curves["n_train"].nunique() >= 2:
        cross = crossover(curves, metric, dataset)
        report.add("### Learning curves", "")
        report.figure(
            figures.learning_curves(curves, metric, f"{dataset}: {metric} against training-set size", cross.size),
            f"learning_curve_{slug}.png",
            f"learning curves {dataset}",
        )
        report.add(f"**Crossover.** {cross.sentence}", "")
        report.sentences.append(cross.sentence)
        report.summary.append(cross.sentence)
        report.summary.append("")
        report.add("### Training time", "")
        report.figure(
            figures.fit_times(curves, f"{dataset}: fit time against training-set size"),
            f"fit_time_{slug}.png",
            f"fit time {dataset}",
        )
    _epoch_time_table(report, chosen)
    points = pareto_points(curves, metric)
    if len(points) >= 2:
        report.add(f"### Time against {metric}", "")
        report.figure(
            figures.pareto_scatter(points, metric, f"{dataset}: {metric} against fit time"),
            f"pareto_{slug}.png",
            f"time against {metric} {dataset}",
        )
        front = points[points["pareto"]].sort_values("fit")
        report.add(
            "Pareto front (no other point is both faster and better): "
            + "; ".join(
                f"{r.variant} at n_train = {_fmt(r.n_train)} ({_fmt(r.fit, 3)} s, {_fmt(r.mean)})"
                for r in front.itertuples()
            )
            + ".",
            "",
        )
    _optimizer_section(report, runs, dataset, metric, tracking_uri)
    _grad_norm_section(report, runs, dataset, tracking_uri)
    _importance_section(report, runs, dataset, tracking_uri)


def _epoch_time_table(report: Report, runs: pd.DataFrame) -> None:
    deep = runs[runs["finished"] & (runs["family"] == "deep") & (runs["epochs_trained"] > 0)]
    if deep.empty:
        return
    deep = deep.assign(
        per_epoch=deep["fit_time_s"] / deep["epochs_trained"], accelerator=deep["accelerator"].fillna("?")
    )
    largest = deep.groupby("variant")["n_train"].transform("max")
    at = deep[deep["n_train"] == largest]
    rows = [
        [
            v,
            acc,
            _fmt(n),
            _fmt(g["epochs_trained"].median()),
            _fmt(g["per_epoch"].median(), 3),
            _fmt(g["fit_time_s"].median(), 3),
        ]
        for (v, acc, n), g in at.groupby(["variant", "accelerator", "n_train"], sort=False)
    ]
    report.add(
        "Deep models' time per epoch (at each one's largest training size):",
        "",
        markdown_table(["model", "accelerator", "n_train", "epochs", "median s / epoch", "median fit_time_s"], rows),
        "",
    )


def _optimizer_section(report: Report, runs: pd.DataFrame, dataset: str, metric: str, tracking_uri: str) -> None:
    deep = runs[runs["family"] == "deep"]
    keys = [k for k in ("params.optimizer.name", "params.optimizer.lr") if k in deep and deep[k].dropna().nunique() > 1]
    if not keys:
        return
    slug = _slug(dataset)
    what = " and ".join("optimizers" if k.endswith("name") else "learning rates" for k in keys)
    report.add(f"### Loss curves: {what}", "")
    done = _history_runs(deep[deep["finished"]], "train_loss")
    histories = fetch_histories(tracking_uri, done, ["train_loss"])
    report.figure(
        figures.loss_curves(histories, f"{dataset}: training loss per epoch"),
        f"loss_curves_{slug}.png",
        f"loss curves {dataset}",
    )
    if "params.optimizer.lr" in keys:
        lr = pd.to_numeric(deep["params.optimizer.lr"], errors="coerce")
        group_key = "params.optimizer.name" if "params.optimizer.name" in deep else None
        group = deep[group_key].fillna("?") if group_key else pd.Series("mlp", index=deep.index)
        frame = pd.DataFrame({"group": group, "lr": lr, "value": deep["value"], "outcome": deep["outcome"]})
        points = frame[deep["finished"]].groupby(["group", "lr"], as_index=False)["value"].mean()
        points = points.rename(columns={"value": "mean"})
        diverged = frame[frame["outcome"] == "diverged"][["group", "lr"]].drop_duplicates()
        report.figure(
            figures.lr_sweep(points, diverged, metric, f"{dataset}: {metric} against the learning rate"),
            f"lr_sweep_{slug}.png",
            f"learning-rate sweep {dataset}",
        )
        if diverged.empty:
            report.add("No run diverged.", "")
        else:
            lines = []
            for (g, rate), part in deep[deep["outcome"] == "diverged"].groupby([group, lr]):
                epochs = ", ".join(_fmt(e) for e in part["diverged_epoch"].dropna().unique())
                lines.append(
                    f"- {g}, lr = {rate:g}: {len(part)} run(s) diverged (the loss became NaN or inf"
                    + (f", at epoch {epochs}" if epochs else "")
                    + ")"
                )
            report.add("Diverged (listed, not dropped):", "", *lines, "")


def _grad_norm_section(report: Report, runs: pd.DataFrame, dataset: str, tracking_uri: str) -> None:
    columns = sorted(
        (c for c in runs.columns if re.fullmatch(r"metrics\.grad_norm_layer_\d+", c)),
        key=lambda c: int(c.rsplit("_", 1)[-1]),
    )
    done = runs[runs["finished"]]
    if not columns or done[columns].notna().to_numpy().sum() == 0:
        return
    done = done[done[columns[0]].notna()]
    keys = [c.split(".", 1)[1] for c in columns]
    histories = fetch_histories(tracking_uri, done, keys)
    if histories.empty:
        return
    histories["layer"] = histories["key"].str.rsplit("_", n=1).str[-1].astype(int)
    activation = done.get("params.activation.name", pd.Series("?", index=done.index)).fillna("?")
    depth = done.get("params.model.hidden_sizes", pd.Series("", index=done.index)).fillna("")
    depth = depth.map(lambda s: f"depth {len(re.findall(r'[0-9]+', s))}" if s else "")
    panels = list(dict.fromkeys(zip(done["variant"], activation, depth)))
    report.add(
        "### Gradient norms per layer",
        "",
        "Mean gradient norm of each layer's weights per epoch (layer 1 = nearest the input), averaged over "
        "seeds. Norms that shrink towards the input layers are vanishing gradients.",
        "",
    )
    report.figure(
        figures.grad_norms(histories, panels, f"{dataset}: gradient norm per layer and epoch"),
        f"grad_norms_{_slug(dataset)}.png",
        f"gradient norms {dataset}",
    )
    first = histories[histories["step"] == histories.groupby("run_id")["step"].transform("min")]
    rows = []
    for variant, part in first.groupby("variant", sort=False):
        by_layer = part.groupby("layer")["value"].mean()
        input_layer, output_layer = by_layer.iloc[0], by_layer.iloc[-1]
        ratio = input_layer / output_layer if output_layer > 0 else math.nan
        rows.append([variant, len(by_layer), _fmt(input_layer, 3), _fmt(output_layer, 3), _fmt(ratio, 3)])
    report.add(
        "At the first epoch:",
        "",
        markdown_table(["model", "layers", "grad norm, layer 1", "grad norm, last layer", "layer 1 / last"], rows),
        "",
    )


def _importance_section(report: Report, runs: pd.DataFrame, dataset: str, tracking_uri: str) -> None:
    from src.reports.importance import CSV_NAME

    flag = runs.get("params.tracking.log_importance")
    if flag is None:
        return
    done = runs[runs["finished"] & (flag.astype(str) == "True")]
    if done.empty:
        return
    from src.tracking.mlflow_run import client_for

    client = client_for(tracking_uri)
    frames = []
    with tempfile.TemporaryDirectory(prefix="mlvsdl-report-") as tmp:
        for _, run in done.head(MAX_HISTORIES).iterrows():
            try:
                path = client.download_artifacts(run["run_id"], CSV_NAME, tmp)
            except Exception:
                continue
            frame = pd.read_csv(path).assign(variant=run["variant"], run_id=run["run_id"])
            frames.append(frame)
            Path(path).unlink()
    if not frames:
        report.add("### Feature importance", "", "No feature_importance.csv found in the runs.", "")
        return
    table = pd.concat(frames, ignore_index=True)
    perm = table[table["kind"] == "permutation"]
    matrix = perm.pivot_table(index="feature", columns="variant", values="importance_mean", aggfunc="mean")
    scaled = matrix / matrix.abs().max().replace(0, 1)
    top = scaled.mean(axis=1).sort_values(ascending=False).head(15).index
    report.add(
        "### Feature importance",
        "",
        "Permutation importance on the test split (how much the main metric worsens when one raw column is "
        "shuffled; mean over 5 shuffles and over seeds), every model through the same predict wrapper. "
        "Columns scaled to each model's largest importance.",
        "",
    )
    report.figure(
        figures.importance_heatmap(matrix.loc[top], f"{dataset}: permutation importance, side by side"),
        f"importance_{_slug(dataset)}.png",
        f"feature importance {dataset}",
    )
    rows = [[v, ", ".join(matrix[v].sort_values(ascending=False).head(5).index)] for v in matrix.columns]
    if len(matrix.columns) >= 2:
        agreement = matrix.corr(method="spearman")
        pairs = [(a, b, agreement.loc[a, b]) for i, a in enumerate(matrix.columns) for b in matrix.columns[i + 1 :]]
        mean_rho = np.nanmean([p[2] for p in pairs]) if pairs else math.nan
        report.add(
            f"Mean Spearman correlation of the models' importances: {_fmt(mean_rho, 3)} "
            "(1: they agree on the order of the features).",
            "",
        )
    report.add(markdown_table(["model", "five most important columns (permutation)"], rows), "")
    tree = table[table["kind"] == "tree"]
    if not tree.empty:
        tree_top = tree.groupby(["variant", "feature"])["importance_mean"].mean().reset_index()
        rows = [
            [v, ", ".join(g.sort_values("importance_mean", ascending=False)["feature"].head(5))]
            for v, g in tree_top.groupby("variant")
        ]
        report.add(
            "Tree importances (impurity decrease, on the preprocessed columns):",
            "",
            markdown_table(["model", "five most important columns (tree)"], rows),
            "",
        )


def _ranks_section(report: Report, runs: pd.DataFrame, tables: dict[str, tuple[pd.DataFrame, str]]) -> None:
    summary, notes = ranks_across_datasets(tables)
    report.add("## Ranks across datasets", "")
    if summary.empty:
        report.add(*notes, "")
        return
    report.add(
        "Rank of each model on each dataset (1 = best, at its largest training size), averaged:",
        "",
        markdown_table(
            ["model", "mean rank", "datasets"],
            [[v, _fmt(r["mean rank"], 3), int(r["datasets"])] for v, r in summary.iterrows()],
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


def _search_section(report: Report, runs: pd.DataFrame) -> None:
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
    params = [c for c in runs.columns if c.startswith("params.model.") or c.startswith("params.optimizer.")]
    for (dataset, model), group in searched.groupby(["dataset", "model"]):
        metric = group["optimized_metric"].iloc[0]
        done = group[group["finished"]]
        column = f"metrics.{metric}"
        values = pd.to_numeric(done[column], errors="coerce") if column in done else pd.Series(dtype=float)
        if values.dropna().empty:
            rows.append([dataset, model, len(group), len(group) - len(done), metric, "—", "—", ""])
            continue
        best = values.idxmin() if lower_is_better(metric) else values.idxmax()
        row = done.loc[best]
        varying = [c for c in params if group[c].dropna().nunique() > 1]
        chosen = ", ".join(f"{_short_key(c[len('params.') :])}={_param_text(row[c])}" for c in varying)
        rows.append(
            [
                dataset,
                model,
                len(group),
                len(group) - len(done),
                metric,
                _fmt(values[best]),
                f"{_fmt(row['value'])} ({row['main_metric']})",
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


def _failures_section(report: Report, runs: pd.DataFrame) -> None:
    failed = runs[~runs["finished"]]
    report.add("## Failed and diverged runs", "")
    if failed.empty:
        report.add("None: every run finished.", "")
        return
    rows = [
        [
            r.run_name,
            r.dataset,
            r.variant,
            _fmt(r.n_train),
            _fmt(r.seed),
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


# =============================================================================== entry point


def log_report(tracking_uri: str, experiment: str, report: Report, run_filter: RunFilter) -> str:
    """The report's files as the artifacts of a run tagged report=true."""
    from src.tracking.mlflow_run import client_for, ensure_experiment, git_commit

    client = client_for(tracking_uri)
    experiment_id = ensure_experiment(client, experiment)
    tags = {
        "report": "true",
        "study": run_filter.study,
        "report_filter": run_filter.describe(),
        "git_commit": git_commit(),
    }
    run = client.create_run(
        experiment_id, run_name=f"report-{report.name}", tags={k: str(v) for k, v in tags.items() if v is not None}
    )
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    client.log_batch(
        run.info.run_id, metrics=[Metric("n_runs", report.n_runs, now, 0), Metric("n_failed", report.n_failed, now, 0)]
    )
    client.log_artifacts(run.info.run_id, str(report.out))
    client.set_terminated(run.info.run_id, "FINISHED")
    return run.info.run_id


def make_report(
    run_filter: RunFilter,
    tracking_uri: Optional[str] = None,
    out: Optional[Path] = None,
    log: bool = True,
) -> Report:
    """Read the runs, write report.md and its PNGs into `out`, log them as a report run."""
    import os

    import matplotlib

    matplotlib.use("Agg")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    from src.tracking.mlflow_run import resolve_tracking_uri

    uri = resolve_tracking_uri(tracking_uri)
    runs = tidy(search_runs(uri, run_filter))
    name = run_filter.name()
    out = Path(out) if out is not None else REPORTS_DIR / name
    report = build_report(runs, out, name, run_filter.describe(), uri)
    text = "\n".join(report.markdown).rstrip() + "\n"
    (out / REPORT_NAME).write_text(text)
    (out / "summary.txt").write_text("\n".join(report.summary).rstrip() + "\n")
    if log:
        experiment = run_filter.experiments[0] if run_filter.experiments else DEFAULT_EXPERIMENT
        report.run_id = log_report(uri, experiment, report, run_filter)
    return report


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m src.report",
        description="Write a Markdown report (tables, learning curves, crossover, Pareto front, ranks, failed runs) "
        "of MLflow runs, and log it as a report run.",
    )
    parser.add_argument(
        "--experiment", action="append", default=[], help="MLflow experiment (repeatable; default: every experiment)"
    )
    parser.add_argument("--study", help="only runs tagged study=<name>")
    parser.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="only runs with this tag (repeatable), e.g. --tag dataset=digits",
    )
    parser.add_argument(
        "--sweep",
        metavar="latest|RUN_ID",
        help="only the jobs of one sweep: the latest one among the matching runs, or the sweep's parent run id",
    )
    parser.add_argument("--tracking-uri", help="MLflow store (default: $MLFLOW_TRACKING_URI, else ./mlflow.db)")
    parser.add_argument(
        "--out", type=Path, help="folder for report.md and its PNGs (default: reports/<study or experiment>/)"
    )
    parser.add_argument("--no-log", action="store_true", help="do not log the report as an MLflow run")
    parser.add_argument("--quiet", action="store_true", help="print only where the report is")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    from src.errors import UserError, one_line

    args = parse_args(argv)
    tags = {}
    for item in args.tag:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"error: --tag {item}: use KEY=VALUE", file=sys.stderr)
            return 2
        tags[key] = value
    run_filter = RunFilter(args.experiment, args.study, tags, args.sweep)
    try:
        report = make_report(run_filter, args.tracking_uri, args.out, log=not args.no_log)
    except UserError as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 2
    if not args.quiet:
        print("\n".join(report.summary).rstrip())
    where = report.out / REPORT_NAME
    print(f"\nreport: {where}" + (f"  [mlflow report run {report.run_id}]" if report.run_id else ""))
    return 0
