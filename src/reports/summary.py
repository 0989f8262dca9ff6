"""Tables of runs read back from MLflow."""

from __future__ import annotations

from typing import Any, Iterable

import pandas as pd

SUMMARY_COLUMNS = ["run", "model", "dataset", "seed", "status"]
TIMING_COLUMNS = ["fit_time_s", "predict_time_s", "n_params"]


def sweep_summary(runs: Iterable[Any]) -> pd.DataFrame:
    """One row per run: model, dataset, seed, status, its task's main metric,
    fit_time_s, predict_time_s and n_params."""
    rows = []
    for run in runs:
        tags, metrics, params = run.data.tags, run.data.metrics, run.data.params
        status = run.info.status
        if tags.get("status_reason") and status != "FINISHED":
            status = f"{status} ({tags['status_reason']})"
        row: dict[str, Any] = {
            "run": run.info.run_name,
            "model": tags.get("model"),
            "dataset": tags.get("dataset"),
            "seed": tags.get("seed"),
            "status": status,
        }
        main = tags.get("main_metric")
        if main:
            row[main] = metrics.get(main)
        row["fit_time_s"] = metrics.get("fit_time_s")
        row["predict_time_s"] = metrics.get("predict_time_s")
        row["n_params"] = params.get("n_params")
        rows.append(row)
    if not rows:
        return pd.DataFrame(columns=SUMMARY_COLUMNS + TIMING_COLUMNS)
    table = pd.DataFrame(rows)
    metric_columns = [c for c in table.columns if c not in SUMMARY_COLUMNS + TIMING_COLUMNS]
    table = table[SUMMARY_COLUMNS + metric_columns + TIMING_COLUMNS]
    return table.sort_values(["dataset", "model", "seed", "run"], na_position="last").reset_index(drop=True)
