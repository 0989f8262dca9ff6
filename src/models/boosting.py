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

Categorical columns arrive one-hot encoded by the shared preprocessing, like
for every other model; the libraries' native categorical handling needs the
preprocessing to pass them through (not done yet).
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from src.models.classical import ClassicalEstimator
from src.models.registry import spec_of

NOT_LIBRARY_PARAMS = ("name", "family", "early_stopping_rounds")


def _library_params(cfg: Any) -> dict[str, Any]:
    return {k: v for k, v in cfg.model.items() if k not in NOT_LIBRARY_PARAMS}


def _threads(cfg: Any) -> Optional[int]:
    return cfg.trainer.get("cpu_threads")


class _BoostingEstimator(ClassicalEstimator):
    def __init__(self, name: str, estimator: Any, task: str, early_stopping_rounds: Optional[int]):
        super().__init__(name, estimator, task)
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
        rounds = getattr(self, "best_iteration_", None)
        kept = booster[:rounds] if rounds is not None else booster
        return int(sum(len(tree.strip().splitlines()) for tree in kept.get_dump()))


class LightGBMEstimator(_BoostingEstimator):
    requirements = ("lightgbm",)

    def _fit_early_stopping(self, model: Any, X, y, X_val, y_val) -> Any:
        import lightgbm

        stop = lightgbm.early_stopping(self.early_stopping_rounds, first_metric_only=True, verbose=False)
        # predict() then uses best_iteration_ rounds.
        return model.fit(X, y, eval_X=(X_val,), eval_y=(y_val,), callbacks=[stop])

    def _best_iteration(self, model: Any) -> int:
        return int(model.best_iteration_)

    def _count_parameters(self, fitted: Any) -> int:
        """Nodes (splits and leaves) of the trees predictions use."""
        rounds = getattr(self, "best_iteration_", None)
        trees = fitted.booster_.dump_model(num_iteration=rounds)["tree_info"]
        return int(sum(2 * tree["num_leaves"] - 1 for tree in trees))


class CatBoostEstimator(_BoostingEstimator):
    requirements = ("catboost",)

    def _fit_early_stopping(self, model: Any, X, y, X_val, y_val) -> Any:
        # use_best_model shrinks the model to the best round.
        return model.fit(
            X, y, eval_set=(X_val, y_val), early_stopping_rounds=self.early_stopping_rounds, use_best_model=True
        )

    def _best_iteration(self, model: Any) -> int:
        return int(model.get_best_iteration()) + 1

    def predict(self, X: np.ndarray) -> np.ndarray:
        # CatBoost's multiclass classifier answers one column, (n, 1).
        return np.ravel(self.estimator_.predict(X))

    def _count_parameters(self, fitted: Any) -> int:
        """Nodes of the (oblivious) trees: 2**depth leaves and depth splits each."""
        leaves = np.asarray(fitted.get_tree_leaf_counts())
        return int(leaves.sum() + np.log2(leaves).round().sum())


def xgboost_from_config(cfg: Any, task: str, n_classes: int) -> XGBoostEstimator:
    spec = spec_of(str(cfg.model.name))
    estimator = spec.estimator_class(task)(
        **_library_params(cfg),
        tree_method="hist",  # deterministic, and the fast one
        random_state=cfg.seed,
        n_jobs=_threads(cfg),  # None: all cores
        verbosity=0,
    )
    return XGBoostEstimator(spec.name, estimator, task, cfg.model.early_stopping_rounds)


def lightgbm_from_config(cfg: Any, task: str, n_classes: int) -> LightGBMEstimator:
    spec = spec_of(str(cfg.model.name))
    estimator = spec.estimator_class(task)(
        **_library_params(cfg),
        random_state=cfg.seed,
        n_jobs=_threads(cfg),  # None: all cores
        # The same seed gives the same model; row-wise histograms are what
        # LightGBM's documentation pairs with `deterministic`.
        deterministic=True,
        force_row_wise=True,
        verbose=-1,
    )
    return LightGBMEstimator(spec.name, estimator, task, cfg.model.early_stopping_rounds)


def catboost_from_config(cfg: Any, task: str, n_classes: int) -> CatBoostEstimator:
    spec = spec_of(str(cfg.model.name))
    threads = _threads(cfg)
    estimator = spec.estimator_class(task)(
        **_library_params(cfg),
        random_seed=cfg.seed,
        thread_count=threads if threads else -1,  # -1: all cores
        verbose=False,
        allow_writing_files=False,  # no catboost_info/ in the working directory
    )
    return CatBoostEstimator(spec.name, estimator, task, cfg.model.early_stopping_rounds)
