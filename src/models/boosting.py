"""XGBoost, LightGBM and CatBoost behind the classical models' interface.

Each `model=` option wraps its library's classifier / regressor pair (the
dataset's task picks one, src/models/registry.py), with the library's own
parameter names from the typed config (src/config/models.py). What the
three share, and the reason for this module:

- early stopping on the run's validation split (the same split the MLP stops
  on), on by default: `early_stopping_rounds` rounds after the best
  validation round training ends, and predictions use the best round, not
  the last; `best_iteration_` is the number of rounds kept;
- threads from `trainer.cpu_threads`, the budget every model gets, set
  explicitly in the library's own parameter (null: all cores);
- the seed from `seed`, and each library's deterministic settings, so that
  a seed gives the same predictions;
- no files, no console output.

Each library is imported only when its model is built: a LightGBM run
imports neither XGBoost, CatBoost, torch nor Lightning.

Categorical columns reach each library in its native form (the registry's
`native_categorical`; `model.native_categorical: false` gives them one-hot
instead, for an ablation): the shared preprocessing encodes them as integer
codes, NaN for a category not seen in training, at the indices
`categorical_features`; XGBoost gets them as feature type "c" with
`enable_categorical`, LightGBM as `categorical_feature`, CatBoost as
`cat_features` (as integers, -1 for NaN, since CatBoost takes no floats there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Sequence

import numpy as np

from src.models.classical import ClassicalEstimator, TrainingDataError
from src.models.registry import arguments_by_name, spec_of

if TYPE_CHECKING:
    from src.config.spec import RunSpec

# Handled by the wrapper, not handed to the library's constructor.
NOT_LIBRARY_PARAMS = ("early_stopping_rounds", "native_categorical")


def _library_params(cfg: RunSpec, task: str) -> dict[str, Any]:
    estimator_class = spec_of(str(cfg.model.name)).estimator_class(task)
    return arguments_by_name(estimator_class, cfg.model, exclude=NOT_LIBRARY_PARAMS)


def _threads(cfg: RunSpec) -> Optional[int]:
    return cfg.trainer.cpu_threads


class _BoostingEstimator(ClassicalEstimator):
    def __init__(
        self,
        name: str,
        estimator: Any,
        task: str,
        early_stopping_rounds: Optional[int],
        categorical_features: Sequence[int] = (),
    ):
        super().__init__(name, estimator, task, categorical_features)
        self.early_stopping_rounds = early_stopping_rounds

    def _fit(self, model: Any, X: np.ndarray, y: np.ndarray, X_val, y_val) -> Any:
        if self.early_stopping_rounds is None:
            return self._fit_all_rounds(model, X, y)
        self._require_validation(X_val, "model.early_stopping_rounds=null")
        model = self._fit_early_stopping(model, X, y, X_val, y_val)
        self.best_iteration_ = self._best_iteration(model)
        return model

    def _fit_all_rounds(self, model: Any, X, y) -> Any:
        return model.fit(X, y)


class XGBoostEstimator(_BoostingEstimator):
    requirements = ("xgboost-cpu|xgboost",)  # the pip distributions that provide it, for logged models

    def _fit(self, model: Any, X: np.ndarray, y: np.ndarray, X_val, y_val) -> Any:
        if len(self.categorical_features):
            types = ["c" if j in self.categorical_features else "q" for j in range(X.shape[1])]
            model.set_params(enable_categorical=True, feature_types=types)
        if self.task == "regression":
            return super()._fit(model, X, y, X_val, y_val)
        # XGBoost wants the training labels to be exactly 0..m-1; a small training subset
        # may lack one of the dataset's classes: fit on the classes present, answer in the dataset's.
        present = np.unique(y)
        if len(present) < 2:
            raise TrainingDataError(
                f"model={self.name} needs 2 classes or more to train on; the training rows hold one class only "
                f"({present[0]}), a single class: nothing to classify: raise dataset.train_size"
            )
        if y_val is not None and len(y_val):
            seen = np.isin(y_val, present)  # early stopping cannot score a class the model does not know
            X_val, y_val = X_val[seen], np.searchsorted(present, y_val[seen])
        fitted = super()._fit(model, X, np.searchsorted(present, y), X_val, y_val)
        return XGBoostOnPresentClasses(fitted, present)

    def _fit_all_rounds(self, model: Any, X, y) -> Any:
        return model.set_params(early_stopping_rounds=None).fit(X, y, verbose=False)

    def _fit_early_stopping(self, model: Any, X, y, X_val, y_val) -> Any:
        model.set_params(early_stopping_rounds=self.early_stopping_rounds)
        # predict() then uses the trees up to best_iteration (0-based).
        return model.fit(X, y, eval_set=[(X_val, y_val)], verbose=False)

    def _best_iteration(self, model: Any) -> int:
        return int(model.best_iteration) + 1

    def _count_parameters(self, fitted: Any) -> int:
        """Nodes of the trees predictions use (one dump line per node)."""
        booster = fitted.get_booster()
        rounds = self.best_iteration_
        kept = booster[:rounds] if rounds is not None else booster
        return int(sum(len(tree.strip().splitlines()) for tree in kept.get_dump()))


class XGBoostOnPresentClasses:
    """A fitted XGBoost classifier trained on the classes present in its training
    rows (codes 0..m-1), answering in the dataset's class indices: `classes_` maps
    its probability columns to them (src/job/artifacts.py pads the rest)."""

    def __init__(self, model: Any, classes: np.ndarray):
        self.model = model
        self.classes_ = classes

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[np.asarray(self.model.predict(X), dtype=np.int64)]

    def __getattr__(self, name: str) -> Any:
        if name == "model":  # not set yet (unpickling)
            raise AttributeError(name)
        return getattr(self.model, name)


class LightGBMEstimator(_BoostingEstimator):
    requirements = ("lightgbm",)

    def _categorical(self) -> Any:
        return list(self.categorical_features) if len(self.categorical_features) else "auto"

    def _fit_all_rounds(self, model: Any, X, y) -> Any:
        return model.fit(X, y, categorical_feature=self._categorical())

    def _fit_early_stopping(self, model: Any, X, y, X_val, y_val) -> Any:
        import lightgbm

        stop = lightgbm.early_stopping(self.early_stopping_rounds, first_metric_only=True, verbose=False)
        # predict() then uses best_iteration_ rounds.
        return model.fit(
            X, y, eval_X=(X_val,), eval_y=(y_val,), callbacks=[stop], categorical_feature=self._categorical()
        )

    def _best_iteration(self, model: Any) -> int:
        return int(model.best_iteration_)

    def _count_parameters(self, fitted: Any) -> int:
        """Nodes (splits and leaves) of the trees predictions use."""
        rounds = self.best_iteration_
        trees = fitted.booster_.dump_model(num_iteration=rounds)["tree_info"]
        return int(sum(2 * tree["num_leaves"] - 1 for tree in trees))


def _catboost_frame(X: Optional[np.ndarray], categorical_features: tuple[int, ...]) -> Any:
    """The preprocessed rows as CatBoost takes them: categorical codes as
    integers (-1 for NaN, a category not seen in training), the rest as floats."""
    import pandas as pd

    if X is None:
        return None
    frame = pd.DataFrame(X)
    for j in categorical_features:
        frame[j] = np.nan_to_num(X[:, j], nan=-1).astype(np.int64)
    return frame


class CatBoostOnCodes:
    """A fitted CatBoost model with native categorical columns that takes the
    preprocessed float rows, as every other fitted model does (and so does
    its logged copy); anything else is the CatBoost model's own."""

    def __init__(self, model: Any, categorical_features: tuple[int, ...]):
        self.model = model
        self.categorical_features = categorical_features

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict(_catboost_frame(X, self.categorical_features))

    @property
    def predict_proba(self):
        predict_proba = self.model.predict_proba  # a regressor has none: AttributeError
        return lambda X: predict_proba(_catboost_frame(X, self.categorical_features))

    def __getattr__(self, name: str) -> Any:
        if name == "model":  # not set yet (unpickling)
            raise AttributeError(name)
        return getattr(self.model, name)


class CatBoostEstimator(_BoostingEstimator):
    requirements = ("catboost",)

    def _allows_nan(self) -> bool:
        return True  # CatBoost treats NaN as a value of its own (nan_mode); it declares no scikit-learn tags

    def _fit(self, model: Any, X: np.ndarray, y: np.ndarray, X_val, y_val) -> Any:
        # CatBoost refuses these too, deep inside and with its own error type:
        # a ValueError that says why, as scikit-learn's estimators raise.
        if len(X) < 2:
            raise TrainingDataError(f"model={self.name} needs at least 2 training rows; n_samples = {len(X)}")
        if self._classifies() and len(self.classes_) < 2:
            raise TrainingDataError(f"model={self.name} needs 2 classes or more to train on; y has one class only")
        if not len(self.categorical_features):
            return super()._fit(model, X, y, X_val, y_val)
        model.set_params(cat_features=list(self.categorical_features))
        codes = tuple(self.categorical_features)
        fitted = super()._fit(model, _catboost_frame(X, codes), y, _catboost_frame(X_val, codes), y_val)
        return CatBoostOnCodes(fitted, codes)

    def _fit_early_stopping(self, model: Any, X, y, X_val, y_val) -> Any:
        # use_best_model shrinks the model to the best round.
        return model.fit(
            X, y, eval_set=(X_val, y_val), early_stopping_rounds=self.early_stopping_rounds, use_best_model=True
        )

    def _best_iteration(self, model: Any) -> int:
        return int(model.get_best_iteration()) + 1

    def _count_parameters(self, fitted: Any) -> int:
        """Nodes of the (oblivious) trees: 2**depth leaves and depth splits each."""
        leaves = np.asarray(fitted.get_tree_leaf_counts())
        return int(leaves.sum() + np.log2(leaves).round().sum())


def xgboost_from_config(
    cfg: RunSpec, task: str, n_classes: int, categorical_features: tuple[int, ...] = ()
) -> XGBoostEstimator:
    spec = spec_of(str(cfg.model.name))
    estimator = spec.estimator_class(task)(
        **_library_params(cfg, task),
        tree_method="hist",  # deterministic, and the fast one
        random_state=cfg.seed,
        n_jobs=_threads(cfg),  # None: all cores
        verbosity=0,
    )
    return XGBoostEstimator(spec.name, estimator, task, cfg.model.early_stopping_rounds, categorical_features)


def lightgbm_from_config(
    cfg: RunSpec, task: str, n_classes: int, categorical_features: tuple[int, ...] = ()
) -> LightGBMEstimator:
    spec = spec_of(str(cfg.model.name))
    estimator = spec.estimator_class(task)(
        **_library_params(cfg, task),
        random_state=cfg.seed,
        n_jobs=_threads(cfg),  # None: all cores
        # The same seed gives the same model; row-wise histograms are what
        # LightGBM's documentation pairs with `deterministic`.
        deterministic=True,
        force_row_wise=True,
        verbose=-1,
    )
    return LightGBMEstimator(spec.name, estimator, task, cfg.model.early_stopping_rounds, categorical_features)


def catboost_from_config(
    cfg: RunSpec, task: str, n_classes: int, categorical_features: tuple[int, ...] = ()
) -> CatBoostEstimator:
    spec = spec_of(str(cfg.model.name))
    threads = _threads(cfg)
    estimator = spec.estimator_class(task)(
        **_library_params(cfg, task),
        random_seed=cfg.seed,
        thread_count=threads if threads else -1,  # -1: all cores
        verbose=False,
        allow_writing_files=False,  # no catboost_info/ in the working directory
    )
    return CatBoostEstimator(spec.name, estimator, task, cfg.model.early_stopping_rounds, categorical_features)
