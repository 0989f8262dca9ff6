"""Runs read back from MLflow and tidied into one typed row per run.

Runs are read with `mlflow.search_runs` into pandas (params come back as
strings; an empty result has no `params.*` columns, both handled here). The
sweeps' parent runs and earlier report runs are left out.
"""

from __future__ import annotations

import math
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

import pandas as pd

from src.reports.analysis import default_metric
from src.tracking.record import Artifact, Param, Status, Tag
from src.tracking.secrets import mask_secrets

# Config keys that never tell two variants of a model apart.
NOT_A_VARIANT = ("tracking.", "dataset.train_size", "hydra.")
MAX_HISTORIES = 400  # metric histories (or artifacts) fetched per figure, at most

TAG_COLUMNS = {
    "model": f"tags.{Tag.MODEL}",
    "family": f"tags.{Tag.MODEL_FAMILY}",
    "dataset": f"tags.{Tag.DATASET}",
    "task": f"tags.{Tag.TASK}",
    "seed": f"tags.{Tag.SEED}",
    "study": f"tags.{Tag.STUDY}",
    "main_metric": f"tags.{Tag.MAIN_METRIC}",
    "accelerator": f"tags.{Tag.ACCELERATOR}",
    "status_reason": f"tags.{Tag.STATUS_REASON}",
    "error": f"tags.{Tag.ERROR}",
    "epochs_trained": f"tags.{Tag.EPOCHS_TRAINED}",
    "run_name": "tags.mlflow.runName",
    "parent": f"tags.{Tag.PARENT_RUN_ID}",
}
PARAM_COLUMNS = {
    "n_train": f"params.{Param.N_TRAIN}",
    "n_params": f"params.{Param.N_PARAMS}",
    "n_test": f"params.{Param.N_TEST}",
    "n_rows": f"params.{Param.N_ROWS}",
    "test_set": f"params.{Param.TEST_SET}",
    "split_digest": f"params.{Param.SPLIT_DIGEST}",
    "train_size": "params.dataset.train_size",
    "optimized_metric": "params.optimized_metric",
}
METRIC_COLUMNS = {
    "fit_time_s": "metrics.fit_time_s",
    "predict_time_s": "metrics.predict_time_s",
    "diverged_epoch": "metrics.diverged_epoch",
}
NUMERIC = (
    "n_train",
    "n_test",
    "n_rows",
    "n_params",
    "train_size",
    "fit_time_s",
    "predict_time_s",
    "epochs_trained",
    "diverged_epoch",
)


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
            tags[Tag.STUDY] = self.study
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
        """The report's name (its folder's, and its run's after `report-`): what it covers, the
        study or experiment, and the sweep's short id where it covers one sweep."""
        name = self.study or (self.experiments[0] if len(self.experiments) == 1 else None) or "all"
        if self.sweep and self.sweep != "latest":
            name += f"-{self.sweep[:8]}"
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _quote(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace("'", "\\'")


def search_runs(tracking_uri: str, run_filter: RunFilter) -> pd.DataFrame:
    """The matching runs as `mlflow.search_runs` returns them, sweep parents and reports left out."""
    import mlflow

    from src.errors import UserError
    from src.tracking.mlflow_run import client_for, fluent_tracking_uri

    client = client_for(tracking_uri, create=False)
    if run_filter.experiments:
        known = {e.name for e in client.search_experiments()}
        missing = [e for e in run_filter.experiments if e not in known]
        if missing:
            raise UserError(
                f"no experiment named {', '.join(missing)} in {mask_secrets(tracking_uri)}; "
                f"experiments there: {', '.join(sorted(known)) or 'none'}"
            )
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
    sweep, report, parent = f"tags.{Tag.SWEEP}", f"tags.{Tag.REPORT}", f"tags.{Tag.PARENT_RUN_ID}"
    frame = _with_columns(frame, [sweep, report, parent, "start_time"])
    if run_filter.sweep:
        run_filter.sweep = _sweep_parent(frame, run_filter.sweep)  # "latest" resolved: the report names it
        frame = frame[frame[parent] == run_filter.sweep]
    keep = (frame[sweep] != "true") & (frame[report] != "true")
    return frame[keep].reset_index(drop=True)


def what_is_there(tracking_uri: str) -> str:
    """What the store holds, for an error saying that nothing matched: its experiments and studies."""
    from src.tracking.mlflow_run import client_for

    client = client_for(tracking_uri, create=False)
    experiments = sorted(e.name for e in client.search_experiments())
    runs = (
        client.search_runs([e.experiment_id for e in client.search_experiments()], max_results=5000)
        if experiments
        else []
    )
    studies = sorted({r.data.tags[Tag.STUDY] for r in runs if r.data.tags.get(Tag.STUDY)})
    if not runs:
        return "the store holds no runs (train some with python -m src.train)"
    return (
        f"experiments there: {', '.join(experiments)}; studies: {', '.join(studies) or 'none'} "
        "(pick with --experiment / --study)"
    )


def _sweep_parent(frame: pd.DataFrame, sweep: str) -> str:
    from src.errors import UserError

    parents = frame[frame[f"tags.{Tag.SWEEP}"] == "true"]
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
        ["run_id", "status", "start_time", "experiment_id", *TAG_COLUMNS.values(), *PARAM_COLUMNS.values()]
        + [*METRIC_COLUMNS.values()],
    )
    for name, column in {**TAG_COLUMNS, **PARAM_COLUMNS, **METRIC_COLUMNS}.items():
        frame[name] = frame[column]
    for name in NUMERIC:
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
    frame["finished"] = frame["status"] == Status.FINISHED
    frame["outcome"] = [_outcome(s, r) for s, r in zip(frame["status"], frame["status_reason"])]
    frame["variant"] = variant_labels(frame)
    frame["n_train_exact"] = frame["n_train"]
    frame["n_train"] = one_size_per_setting(frame)
    return frame


def one_size_per_setting(frame: pd.DataFrame) -> pd.Series:
    """Cross-validated folds of one training-size setting differ by a row or so (318 and 319
    rows of 569 in 5 folds); the report treats them as one size, the setting's median n_train,
    so that their repeats pair up. n_train_exact keeps each run's own count."""
    sizes = frame["n_train"].copy()
    if "params.dataset.cv_folds" not in frame:
        return sizes
    folded = pd.to_numeric(frame["params.dataset.cv_folds"], errors="coerce").notna() & sizes.notna()
    setting = frame["train_size"].fillna(-1.0)  # -1: the whole pool (train_size null)
    keys = [frame["dataset"], frame["params.dataset.cv_folds"], setting]
    median = sizes[folded].groupby([k[folded] for k in keys]).transform("median").round()
    sizes[folded] = median
    return sizes


def _metric(row: pd.Series, name: str) -> float:
    value = row.get(f"metrics.{name}")
    return float(value) if value is not None and not pd.isna(value) else math.nan


def _outcome(status: Any, reason: Any) -> str:
    if status == Status.FINISHED:
        return "finished"
    if reason == "diverged":
        return "diverged"
    return str(status).lower() if isinstance(status, str) else "unknown"


def param_text(value: Any) -> str:
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


def short_key(key: str) -> str:
    """optimizer.name -> optimizer, optimizer.lr -> lr, model.hidden_sizes -> hidden_sizes."""
    group, _, leaf = key.rpartition(".")
    return group.rsplit(".", 1)[-1] if leaf == "name" and group else leaf or key


def variant_labels(frame: pd.DataFrame) -> list[str]:
    """The model's name, plus the config values that differ between runs of that model on
    some dataset (seed and training size aside), by key: 'mlp (lr=0.001, optimizer=adam)'.
    A model's keys are the same on every dataset, so that a model is labelled alike
    across datasets (and ranks across datasets count it once), even where only one
    dataset has a diverged variant of it."""
    labels = pd.Series(frame["model"].astype(str), index=frame.index)
    # Sorted: mlflow.search_runs orders its params columns differently from one process to the next.
    params = sorted(
        c
        for c in frame.columns
        if c.startswith("params.") and "." in c[len("params.") :] and not c[len("params.") :].startswith(NOT_A_VARIANT)
    )
    for _, runs_of_model in frame.groupby("model", dropna=False):
        by_dataset = runs_of_model.groupby("dataset", dropna=False)
        varying = [c for c in params if (by_dataset[c].nunique() > 1).any()]
        if not varying:
            continue
        for index, row in runs_of_model.iterrows():
            parts = [
                f"{short_key(c[len('params.') :])}={param_text(row[c])}"
                for c in varying
                if row[c] is not None and not pd.isna(row[c])
            ]
            if parts:
                labels[index] = f"{row['model']} ({', '.join(parts)})"
    return labels.tolist()


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


def history_runs(done: pd.DataFrame, key: str) -> pd.DataFrame:
    """Final per-epoch values sit at step = epochs; histories are what comes before."""
    return done[done[f"metrics.{key}"].notna()] if f"metrics.{key}" in done else done.iloc[:0]


def fetch_importances(tracking_uri: str, runs: pd.DataFrame) -> list[pd.DataFrame]:
    """The runs' feature_importance.csv artifacts, each with its run's variant and id (runs without one skipped)."""
    from src.tracking.mlflow_run import client_for

    client = client_for(tracking_uri)
    frames = []
    with tempfile.TemporaryDirectory(prefix="mlvsdl-report-") as tmp:
        for _, run in runs.head(MAX_HISTORIES).iterrows():
            try:
                path = client.download_artifacts(run["run_id"], Artifact.FEATURE_IMPORTANCE_CSV, tmp)
            except Exception:
                continue
            frames.append(pd.read_csv(path).assign(variant=run["variant"], run_id=run["run_id"]))
            Path(path).unlink()
    return frames
