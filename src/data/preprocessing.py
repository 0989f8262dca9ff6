"""One preprocessing pipeline for every model family, fit on the training split only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from src.data.catalogue import REGRESSION, Dataset
from src.data.splits import Split


def build_preprocessor(X: pd.DataFrame, standardize: bool) -> ColumnTransformer:
    """Numeric columns are (optionally) standardized; nothing else is learned."""
    numeric = Pipeline([("scale", StandardScaler() if standardize else "passthrough")])
    return ColumnTransformer([("numeric", numeric, list(X.columns))], sparse_threshold=0.0)


@dataclass
class TargetScaler:
    """Standardizes a regression target; predictions are mapped back to its units."""

    mean_: float = 0.0
    scale_: float = 1.0

    @classmethod
    def fit(cls, y: np.ndarray, enabled: bool) -> "TargetScaler":
        if not enabled or len(y) < 2:
            return cls()
        std = float(np.std(y))
        return cls(float(np.mean(y)), std if std > 0 else 1.0)

    def transform(self, y: np.ndarray) -> np.ndarray:
        return (y - self.mean_) / self.scale_

    def inverse_transform(self, y: np.ndarray) -> np.ndarray:
        return y * self.scale_ + self.mean_


@dataclass
class PreparedData:
    """Model-ready arrays. Regression targets here are on the training scale."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    preprocessor: ColumnTransformer
    target_scaler: Optional[TargetScaler]
    feature_names: list[str]

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]


def prepare(dataset: Dataset, split: Split, standardize: bool) -> PreparedData:
    """Fit the preprocessing on the training rows and apply it to every split."""
    X = dataset.X
    preprocessor = build_preprocessor(X, standardize)
    X_train = preprocessor.fit_transform(X.iloc[split.train]).astype(np.float32)

    def transform(rows: np.ndarray) -> np.ndarray:
        if len(rows) == 0:
            return np.empty((0, X_train.shape[1]), dtype=np.float32)
        return preprocessor.transform(X.iloc[rows]).astype(np.float32)

    y = dataset.y
    target_scaler = None
    if dataset.task == REGRESSION:
        target_scaler = TargetScaler.fit(y[split.train], enabled=standardize)
        y = target_scaler.transform(y)
    return PreparedData(
        X_train=X_train,
        y_train=y[split.train],
        X_val=transform(split.val),
        y_val=y[split.val],
        X_test=transform(split.test),
        y_test=y[split.test],
        preprocessor=preprocessor,
        target_scaler=target_scaler,
        feature_names=[str(n).split("__", 1)[-1] for n in preprocessor.get_feature_names_out()],
    )
