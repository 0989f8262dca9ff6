"""What each run records about its data.

- `log_inputs`: the training set (its raw feature columns and the target, the
  rows of the training split) as an MLflow dataset input with context
  `train`: its digest, its schema (column names and types) and its source (a
  file path, an OpenML URL, or the code / package it came from);
- tags `dataset` (set when the run starts) and `dataset_source`;
- params `n_dropped_rows` (rows without a target), `n_imputed_cells`,
  `n_unparseable_cells`, and for classification `n_classes` and
  `class_balance` (the training split's share of each class), for regression
  `target_mean` and `target_std` (training split, in the target's units).
  `n_features` is logged by the runner with the split sizes.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from typing import Any

import numpy as np
import pandas as pd

from src.data.preprocessing import PreparedData
from src.data.splits import Split
from src.data.types import Dataset, Task


def training_frame(dataset: Dataset, split: Split) -> pd.DataFrame:
    """The training rows as they were read: raw features plus the target."""
    frame = dataset.X.iloc[split.train].reset_index(drop=True).copy()
    target = dataset.target_name
    while target in frame.columns:  # a feature may share the default name
        target = f"{target}_"
    frame[target] = dataset.target_labels()[split.train]
    return frame


def frame_digest(frame: pd.DataFrame) -> str:
    """A short content hash of a frame: values, column names and row count."""
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    digest = hashlib.sha256(hashed.tobytes())
    digest.update(json.dumps([str(c) for c in frame.columns]).encode())
    digest.update(str(len(frame)).encode())
    return digest.hexdigest()[:16]


def dataset_source(dataset: Dataset) -> Any:
    """The MLflow DatasetSource of where the data came from."""
    if dataset.source_kind == "local":
        from pathlib import Path

        from mlflow.data.dataset_source_registry import resolve_dataset_source

        with warnings.catch_warnings():  # two registered resolvers both claim local files
            warnings.simplefilter("ignore")
            return resolve_dataset_source(Path(dataset.source).resolve().as_uri())
    if dataset.source_kind == "http":
        from mlflow.data.http_dataset_source import HTTPDatasetSource

        return HTTPDatasetSource(dataset.source)
    from mlflow.data.code_dataset_source import CodeDatasetSource

    return CodeDatasetSource({"mlvsdl.dataset": dataset.name, "mlvsdl.loader": dataset.source})


def data_description(dataset: Dataset, split: Split, data: PreparedData) -> dict[str, Any]:
    """Params describing the data a run trains on."""
    params: dict[str, Any] = {
        "n_dropped_rows": dataset.n_dropped_rows,
        "n_imputed_cells": data.n_imputed_cells,
        "n_unparseable_cells": dataset.n_unparseable_cells,
    }
    if dataset.dropped_columns:  # text ID columns (a distinct value on most rows), dropped when read
        params["dropped_columns"] = ",".join(dataset.dropped_columns)[:500]
    y_train = dataset.y[split.train]
    if dataset.task == Task.regression:
        params["target_mean"] = f"{float(np.mean(y_train)):.6g}"
        params["target_std"] = f"{float(np.std(y_train)):.6g}"
    else:
        counts = np.bincount(y_train, minlength=dataset.n_classes)
        shares = counts / max(1, len(y_train))
        params["n_classes"] = dataset.n_classes
        params["class_balance"] = json.dumps(
            {name: round(float(share), 4) for name, share in zip(dataset.class_names or [], shares)}
        )
    return params


def log_dataset(tracked: Any, dataset: Dataset, split: Split, data: PreparedData) -> None:
    """Record the training data of a run (see the module docstring)."""
    import time

    import mlflow.data
    from mlflow.entities import DatasetInput, InputTag
    from mlflow.exceptions import MlflowException
    from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

    frame = training_frame(dataset, split)
    train = mlflow.data.from_pandas(
        frame,
        source=dataset_source(dataset),
        targets=frame.columns[-1],
        name=f"{dataset.name}-train",
        digest=frame_digest(frame),
    )
    datasets = [DatasetInput(train._to_mlflow_entity(), tags=[InputTag(MLFLOW_DATASET_CONTEXT, "train")])]
    try:
        tracked.log_inputs(datasets)
    except MlflowException:
        # Parallel jobs logging the same dataset race inside MLflow (it checks,
        # then inserts; PostgreSQL answers with a unique-key violation). By the
        # retry the other job's row exists and this run is only linked to it.
        time.sleep(0.2)
        tracked.log_inputs(datasets)
    tracked.set_tags({"dataset_source": dataset.source})
    tracked.log_params(data_description(dataset, split, data))
