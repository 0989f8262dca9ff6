"""One preprocessing pipeline for every model family, fit on the training split only.

    numeric columns      -> impute (dataset.impute_numeric)     -> scale (dataset.scaling: standard,
                                                                  robust, quantile or none)
    categorical columns  -> impute (dataset.impute_categorical) -> one-hot (or ordinal) encode,
                            or integer codes for a model that takes them natively

Every statistic -- imputation values, means and scales, the categories the
encoder knows -- comes from the training rows; validation and test rows are
only transformed. A category first seen outside the training rows encodes as
all zeros (one-hot), -1 (ordinal) or NaN (native: the libraries' missing value).

A model that takes categorical columns natively (the gradient-boosting
libraries, scikit-learn's HistGradientBoosting: `native_categorical` in the
model registry) gets the same imputation and scaling; only the encoding of
the categorical columns differs: one column of codes 0..k-1 each (the
training categories in sorted order), at the indices `categorical_features`
names, which the model hands to its library.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Optional, Sequence

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    OneHotEncoder,
    OrdinalEncoder,
    QuantileTransformer,
    RobustScaler,
    StandardScaler,
)

from src.data.splits import Split
from src.data.types import Dataset, Task
from src.errors import ConfigError

if TYPE_CHECKING:
    from src.config.dataset import DatasetConfig


@dataclass(frozen=True)
class PreprocessOptions:
    impute_numeric: str = "median"  # mean | median | most_frequent | constant (0)
    impute_categorical: str = "most_frequent"  # most_frequent | constant ('missing')
    categorical_encoding: str = "onehot"  # onehot | ordinal (dataset config) | native (set per model)
    max_categories: Optional[int] = None
    scaling: str = "standard"  # standard | robust | quantile | none (numeric columns; when standardize is on)

    @classmethod
    def from_config(cls, cfg: DatasetConfig) -> PreprocessOptions:
        """The options of a dataset's schema (src/config/dataset.py DatasetConfig)."""

        def plain(value: Any) -> Any:
            return getattr(value, "value", value)

        scaling = plain(cfg.scaling)
        if not cfg.standardize and scaling not in ("standard", "none"):
            raise ConfigError(f"dataset.scaling={scaling} with dataset.standardize=false; drop one of them")
        return cls(
            impute_numeric=plain(cfg.impute_numeric),
            impute_categorical=plain(cfg.impute_categorical),
            categorical_encoding=plain(cfg.categorical_encoding),
            max_categories=cfg.max_categories,
            scaling=scaling,
        )

    def for_model(self, native_categorical: bool) -> PreprocessOptions:
        """The options of a model's run: categorical columns as integer codes
        when the model takes them natively, else as the dataset config says."""
        return replace(self, categorical_encoding="native") if native_categorical else self


def make_scaler(kind: str, n_rows: int) -> Any:
    """The numeric scaler `kind` names ("passthrough" for none), to be fitted on
    `n_rows` training rows (the quantile transform's grid is at most that fine)."""
    if kind == "standard":
        return StandardScaler()
    if kind == "robust":
        return RobustScaler()
    if kind == "quantile":
        return QuantileTransformer(
            output_distribution="normal", n_quantiles=max(1, min(1000, n_rows)), subsample=10**9, random_state=0
        )
    if kind == "none":
        return "passthrough"
    raise ValueError(f"unknown scaling '{kind}'; scalings: standard, robust, quantile, none")


def build_preprocessor(
    X: pd.DataFrame,
    standardize: bool,
    categorical: Sequence[str] = (),
    options: Optional[PreprocessOptions] = None,
    n_train_rows: Optional[int] = None,
) -> ColumnTransformer:
    """Numeric columns are imputed and (with `standardize`) scaled as
    `options.scaling` says; categorical ones are imputed and encoded."""
    options = options or PreprocessOptions()
    categorical = [c for c in X.columns if c in set(categorical)]
    numeric_columns = [c for c in X.columns if c not in set(categorical)]
    # keep_empty_features: a column with no value in the training rows still
    # yields a column (filled), so the feature count never depends on the split.
    numeric = Pipeline(
        [
            ("impute", SimpleImputer(strategy=options.impute_numeric, fill_value=0.0, keep_empty_features=True)),
            ("scale", make_scaler(options.scaling if standardize else "none", n_train_rows or len(X))),
        ]
    )
    transformers: list[tuple[str, Any, list[str]]] = [("numeric", numeric, numeric_columns)]
    if categorical:
        if options.categorical_encoding == "ordinal":
            encoder: Any = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        elif options.categorical_encoding == "native":
            # NaN: what the libraries read as missing (CatBoost gets -1, src/models/boosting.py);
            # max_categories groups the rarest training categories into one code.
            encoder = OrdinalEncoder(
                handle_unknown="use_encoded_value", unknown_value=np.nan, max_categories=options.max_categories
            )
        else:
            encoder = OneHotEncoder(
                handle_unknown="infrequent_if_exist" if options.max_categories else "ignore",
                max_categories=options.max_categories,
                sparse_output=False,
            )
        categorical_pipeline = Pipeline(
            [
                (
                    "impute",
                    SimpleImputer(strategy=options.impute_categorical, fill_value="missing", keep_empty_features=True),
                ),  # fmt: skip
                ("encode", encoder),
            ]
        )
        transformers.append(("categorical", categorical_pipeline, categorical))
    return ColumnTransformer(transformers, sparse_threshold=0.0)


@dataclass
class TargetScaler:
    """Standardizes a regression target; predictions are mapped back to its units."""

    mean_: float = 0.0
    scale_: float = 1.0

    @classmethod
    def fit(cls, y: np.ndarray, enabled: bool) -> TargetScaler:
        if not enabled or len(y) < 2:
            return cls()
        std = float(np.std(y))
        return cls(float(np.mean(y)), std if std > 0 else 1.0)

    def transform(self, y: np.ndarray) -> np.ndarray:
        return (y - self.mean_) / self.scale_

    def inverse_transform(self, y: np.ndarray) -> np.ndarray:
        return y * self.scale_ + self.mean_


@dataclass
class RawRowPipeline:
    """What a fitted model needs around it to take a user's raw rows: the
    feature columns, typed as the training data was (numbers as floats,
    categories as text, missing cells as NaN), the preprocessing fitted on the
    training split, and the way back from the model's outputs to the original
    labels (classification) or units (regression). Picklable, and free of
    torch: a logged classical model loads without it."""

    columns: list[Any]  # as the dataset names them; raw rows may name them as text
    categorical: tuple[str, ...]
    preprocessor: ColumnTransformer
    target_scaler: Optional[TargetScaler]
    class_names: Optional[list[str]]

    def typed(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The feature columns of `rows`, in training order and types (other columns are ignored)."""
        given = {str(c): c for c in rows.columns}
        missing = [str(c) for c in self.columns if str(c) not in given]
        if missing:
            raise ValueError(f"the rows lack the feature column(s) {', '.join(map(repr, missing))}")
        typed = {}
        for name in self.columns:
            column = rows[given[str(name)]]
            if name in self.categorical:
                present = column.notna().to_numpy()
                values = column[present]
                if pd.api.types.is_float_dtype(values) and np.all(values == np.round(values)):
                    values = values.astype(np.int64)  # as the table reader does: 3.0 -> '3'
                text = np.full(len(column), np.nan, dtype=object)
                text[present] = values.astype(str).to_numpy(dtype=object)
                typed[name] = pd.Series(text, index=rows.index, dtype=object)
            else:
                typed[name] = pd.to_numeric(column, errors="coerce").astype(np.float64)
        return pd.DataFrame(typed, index=rows.index)

    def features(self, rows: pd.DataFrame) -> np.ndarray:
        """Raw rows -> the model's input, as the run's own features were made."""
        return self.preprocessor.transform(self.typed(rows)).astype(np.float32)

    def _labels(self) -> np.ndarray:
        """The class labels as the target held them: integers for an integer target
        (the dataset keeps labels as text: '1' -> 1), else text."""
        names = [str(n) for n in self.class_names or ()]
        try:
            numbers = [int(n) for n in names]
        except ValueError:
            return np.asarray(names, dtype=object)
        # '007' or '+1' are text labels that happen to parse.
        return (
            np.asarray(numbers, dtype=np.int64)
            if [str(n) for n in numbers] == names
            else np.asarray(names, dtype=object)
        )

    def decode(self, outputs: np.ndarray) -> np.ndarray:
        """The model's predictions -> original labels, or the target's units."""
        if self.class_names is not None:
            return self._labels()[np.asarray(outputs).astype(np.int64)]
        if self.target_scaler is not None:
            return self.target_scaler.inverse_transform(np.asarray(outputs, dtype=np.float64))
        return np.asarray(outputs, dtype=np.float64)


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
    # Missing feature cells filled by the imputers, over the train, val and test rows.
    n_imputed_cells: int = 0
    # How the categorical columns were encoded (onehot, ordinal or native; None: there are none),
    # and, when native, the indices of their code columns.
    categorical_encoding: Optional[str] = None
    categorical_features: tuple[int, ...] = ()
    # The selection split (dataset.select_size): scored for model selection, never trained on.
    X_select: np.ndarray = field(default_factory=lambda: np.empty((0, 0), dtype=np.float32))
    y_select: np.ndarray = field(default_factory=lambda: np.empty(0))

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    def raw_row_pipeline(self, dataset: Dataset) -> RawRowPipeline:
        return RawRowPipeline(
            columns=list(dataset.X.columns),
            categorical=tuple(dataset.categorical),
            preprocessor=self.preprocessor,
            target_scaler=self.target_scaler,
            class_names=None if dataset.class_names is None else [str(n) for n in dataset.class_names],
        )


def prepare(
    dataset: Dataset,
    split: Split,
    standardize: bool,
    options: Optional[PreprocessOptions] = None,
) -> PreparedData:
    """Fit the preprocessing on the training rows and apply it to every split."""
    X = dataset.X
    preprocessor = build_preprocessor(X, standardize, dataset.categorical, options, n_train_rows=len(split.train))
    X_train = preprocessor.fit_transform(X.iloc[split.train]).astype(np.float32)

    def transform(rows: np.ndarray) -> np.ndarray:
        if len(rows) == 0:
            return np.empty((0, X_train.shape[1]), dtype=np.float32)
        return preprocessor.transform(X.iloc[rows]).astype(np.float32)

    used = np.concatenate([split.train, split.val, split.select, split.test])
    n_imputed = int(X.iloc[used].isna().to_numpy().sum())

    encoding = (options or PreprocessOptions()).categorical_encoding if dataset.categorical else None
    native_columns: tuple[int, ...] = ()
    if encoding == "native":
        codes = preprocessor.output_indices_.get("categorical", slice(0, 0))
        native_columns = tuple(range(codes.start, codes.stop))

    y = dataset.y
    target_scaler = None
    if dataset.task == Task.regression:
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
        n_imputed_cells=n_imputed,
        categorical_encoding=encoding,
        categorical_features=native_columns,
        X_select=transform(split.select),
        y_select=y[split.select],
    )
