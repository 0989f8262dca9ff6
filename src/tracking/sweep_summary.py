"""The sweep summary: one row per job of a sweep, read back from MLflow, as a
table and as the Markdown that the sweep prints and logs on its parent run."""

from __future__ import annotations

from typing import Any, Iterable

import pandas as pd

from src.markdown_tables import frame_markdown
from src.tracking.record import Param, Status, Tag

SUMMARY_COLUMNS = ["run", "model", "dataset", "n_train", "seed", "status"]
TIMING_COLUMNS = ["fit_time_s", "predict_time_s", "n_params"]
# Swept keys the summary's own columns already show.
_SHOWN = {"model", "dataset", "seed", "dataset.train_size"}


def sweep_summary(runs: Iterable[Any], swept_keys: Iterable[str] = ()) -> pd.DataFrame:
    """One row per run: model, dataset, n_train, seed, the run's values of the
    other swept keys (`optimizer.lr`; a swept group by its option,
    `optimizer.name`), status, its task's main metric, fit_time_s,
    predict_time_s and n_params."""
    swept = [key for key in swept_keys if key not in _SHOWN]
    rows = []
    for run in runs:
        tags, metrics, params = run.data.tags, run.data.metrics, run.data.params
        status = run.info.status
        if tags.get(Tag.STATUS_REASON) and status != Status.FINISHED:
            status = f"{status} ({tags[Tag.STATUS_REASON]})"
        row: dict[str, Any] = {
            "run": run.info.run_name,
            "model": tags.get(Tag.MODEL),
            "dataset": tags.get(Tag.DATASET),
            "n_train": _number(params.get(Param.N_TRAIN)),
            "seed": tags.get(Tag.SEED),
        }
        for key in swept:  # a classical run has no optimizer.* params: an empty cell
            row[key] = params.get(key, params.get(f"{key}.name"))
        row["status"] = status
        main = tags.get(Tag.MAIN_METRIC)
        if main:
            row[main] = metrics.get(main)
        row["fit_time_s"] = metrics.get("fit_time_s")
        row["predict_time_s"] = metrics.get("predict_time_s")
        row["n_params"] = params.get(Param.N_PARAMS)
        rows.append(row)
    if not rows:
        return pd.DataFrame(columns=SUMMARY_COLUMNS[:-1] + swept + SUMMARY_COLUMNS[-1:] + TIMING_COLUMNS)
    table = pd.DataFrame(rows)
    leading = SUMMARY_COLUMNS[:-1] + swept + SUMMARY_COLUMNS[-1:]
    metric_columns = [c for c in table.columns if c not in leading + TIMING_COLUMNS]
    table = table[leading + metric_columns + TIMING_COLUMNS]
    order = ["dataset", "model", "n_train", "seed", *swept, "run"]
    return table.sort_values(order, na_position="last").reset_index(drop=True)


def _number(value: Any) -> Any:
    """A param read back as text, as the integer it is (so that sizes sort by size)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def summary_markdown(table: pd.DataFrame, failures: list[str]) -> str:
    """The summary as Markdown: the table (a missing value as an empty cell), then the failed jobs."""
    body = "No runs were recorded.\n" if table.empty else frame_markdown(table, missing="") + "\n"
    if failures:
        body += "\n## Failed jobs\n\n" + "\n".join(f"- {f}" for f in failures) + "\n"
    return "# Sweep summary\n\n" + body
