"""Feature importance of one fitted model: what the interpretability study logs.

- Permutation importance on the evaluated split (test, or train for fit-only
  tables), for every model alike: scikit-learn's `permutation_importance`
  shuffles one *raw* column at a time (before imputation and one-hot
  encoding, so a categorical column counts once) and measures how much the
  run's main metric gets worse. The model is reached through a predict
  wrapper -- raw rows -> the run's fitted preprocessing -> the estimator ->
  target units -- so the MLP and the scikit-learn models go through exactly
  the same code.
- Tree importances (impurity decrease, on the preprocessed columns) where the
  fitted estimator has `feature_importances_` (decision tree, random forest).

Written into the run's artifact folder as `feature_importance.csv` (one row
per feature and kind) and `feature_importance.png` (bar charts). Switched on
by `tracking.log_importance=true`; the report compares the models side by side.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from src.data.types import Task
from src.tracking.record import Artifact

N_REPEATS = 5
TOP_K = 15


class _RawRowsModel:
    """A fitted model seen through raw feature rows (what permutation_importance shuffles)."""

    def __init__(self, predict: Callable[[pd.DataFrame], np.ndarray]):
        self._predict = predict

    def fit(self, X: Any, y: Any) -> _RawRowsModel:  # already fitted
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self._predict(X)


def raw_rows_predictor(data: Any, estimator: Any) -> Callable[[pd.DataFrame], np.ndarray]:
    """Predictions, in the target's units, from raw rows of the dataset's frame."""

    def predict(frame: pd.DataFrame) -> np.ndarray:
        X = np.asarray(data.preprocessor.transform(frame), dtype=np.float32)
        y = estimator.predict(X)
        return data.target_scaler.inverse_transform(y) if data.target_scaler is not None else y

    return predict


def feature_importance(estimator: Any, dataset: Any, split: Any, data: Any, seed: int = 0) -> pd.DataFrame:
    """Permutation importance of each raw column (+ tree importances): one row per feature and kind."""
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import accuracy_score, mean_squared_error

    rows = split.train if split.fit_only else split.test
    X = dataset.X.iloc[rows].reset_index(drop=True)
    y = np.asarray(dataset.y)[rows]
    regression = dataset.task == Task.regression
    if regression:
        # scikit-learn maximizes the score: the importance is the rise of the test MSE.
        def scorer(model: Any, X_: pd.DataFrame, y_: np.ndarray) -> float:
            return -mean_squared_error(y_, model.predict(X_))

        metric = "mse"
    else:

        def scorer(model: Any, X_: pd.DataFrame, y_: np.ndarray) -> float:
            return accuracy_score(y_, model.predict(X_))

        metric = "accuracy"
    result = permutation_importance(
        _RawRowsModel(raw_rows_predictor(data, estimator)),
        X,
        y,
        scoring=scorer,
        n_repeats=N_REPEATS,
        random_state=seed,
    )
    frames = [
        pd.DataFrame(
            {
                "feature": list(map(str, X.columns)),
                "kind": "permutation",
                "metric": metric,
                "importance_mean": result.importances_mean,
                "importance_std": result.importances_std,
            }
        )
    ]
    tree = getattr(getattr(estimator, "estimator_", None), "feature_importances_", None)
    if tree is not None:
        names = list(getattr(data, "feature_names", None) or [f"x{i}" for i in range(len(tree))])
        frames.append(
            pd.DataFrame(
                {
                    "feature": names[: len(tree)],
                    "kind": "tree",
                    "metric": "impurity_decrease",
                    "importance_mean": np.asarray(tree, dtype=float),
                    "importance_std": np.nan,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def importance_figure(table: pd.DataFrame, title: str) -> Figure:
    """Bar charts of the TOP_K most important features, one panel per kind."""
    kinds = [k for k in ("permutation", "tree") if (table["kind"] == k).any()]
    fig = Figure(figsize=(6 * len(kinds), 0.3 * TOP_K + 1.8))
    fig.subplots_adjust(left=0.25 if len(kinds) == 1 else 0.14, right=0.97, bottom=0.12, top=0.9, wspace=0.55)
    for i, kind in enumerate(kinds):
        part = table[table["kind"] == kind].sort_values("importance_mean", ascending=False).head(TOP_K)[::-1]
        ax = fig.add_subplot(1, len(kinds), i + 1)
        errors = part["importance_std"].to_numpy() if kind == "permutation" else None
        ax.barh(part["feature"], part["importance_mean"], xerr=errors, color="tab:blue" if i == 0 else "tab:green")
        ax.tick_params(axis="y", labelsize=7)
        if kind == "permutation":
            metric = part["metric"].iloc[0] if len(part) else ""
            label = "rise of test MSE" if metric == "mse" else f"drop of test {metric}"
            ax.set_xlabel(f"{label} when the column is shuffled")
        else:
            ax.set_xlabel("impurity decrease (tree importance)")
        ax.set_title(f"{title}: {kind}", fontsize=9)
    return fig


def write_importance(out: Path, estimator: Any, dataset: Any, split: Any, data: Any, title: str, seed: int) -> None:
    """feature_importance.csv and feature_importance.png in the run's artifact folder."""
    table = feature_importance(estimator, dataset, split, data, seed=seed)
    table.to_csv(Path(out) / Artifact.FEATURE_IMPORTANCE_CSV, index=False)
    importance_figure(table, title).savefig(Path(out) / Artifact.FEATURE_IMPORTANCE_PNG, dpi=100)
