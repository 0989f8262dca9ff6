"""Fit times of the strongest models, fitted as a run fits them, next to the random forest.

Each fit goes through the runner's own stages: the composed config is
validated (`validate`), the data loaded, split and preprocessed by
`prepare_data` (with a tracker that records nothing), the estimator built
by `build_estimator`, and `fit(X_train, y_train, X_val, y_val)` timed as the
runner times it, inside the same thread budget (`trainer.cpu_threads`, one
thread by default). Early stopping on the validation split is therefore on,
as in a run. Repetition r uses seed r, so the accuracy column is the mean
test accuracy over seeds 0..reps-1 and the time the median of their fits.

`mlp_plus` is measured where the registry has it; its ensemble is also
fitted with `model.ensemble_size=1`, and time(K) / time(1) is reported: K
members trained together should cost far less than K single fits.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from src.bench.training import config

if TYPE_CHECKING:
    from src.config.spec import RunSpec

# The comparison's reference first: the other rows are read against it.
REFERENCE = "random_forest"
GBDTS = ("xgboost", "lightgbm", "catboost")
ENSEMBLE_MODEL = "mlp_plus"
ENSEMBLE_KEY = "ensemble_size"  # the mlp_plus field of its K members
ONE_MEMBER = f"{ENSEMBLE_MODEL} (K=1)"
# The keys that bound a tree model's size, each library's own name.
ROUNDS_KEYS = ("n_estimators", "iterations")
# Share of the generated rows left to the training pool by the default split
# (test_size 0.2, then val_size 0.1 of the rest).
TRAIN_SHARE = 0.8 * 0.9


@dataclass(frozen=True)
class Variant:
    """One row of the table: a model option and the overrides it is fitted with."""

    label: str
    model: str
    overrides: tuple[str, ...] = ()


def dataset_overrides(name: str, large_rows: int, mnist1d_rows: Optional[int]) -> list[str]:
    """MNIST-1D (3,600 training rows after the validation split) or the generated
    10-class set of `large_rows` training rows, 40 features, as configs."""
    if name == "mnist1d":
        rows = [] if mnist1d_rows is None else [f"dataset.train_size={mnist1d_rows}"]
        return ["dataset=mnist1d", *rows]
    return [
        "dataset=classification",
        "dataset.task=multiclass",
        "dataset.n_features=40",
        "dataset.n_classes=10",
        f"dataset.n_samples={math.ceil(large_rows / TRAIN_SHARE) + 10}",
        f"dataset.train_size={large_rows}",
    ]


def variants(registry: dict[str, Any]) -> tuple[list[Variant], list[str]]:
    """The rows to measure, and notes on what was left out (mlp_plus not built yet)."""
    rows = [Variant(REFERENCE, REFERENCE), *(Variant(name, name) for name in GBDTS)]
    notes = []
    if ENSEMBLE_MODEL in registry:
        rows.append(Variant(ENSEMBLE_MODEL, ENSEMBLE_MODEL))
    else:
        notes.append(f"model={ENSEMBLE_MODEL} is not in src.models.registry.REGISTRY: skipped, and its ensemble ratio")
    missing = [v.model for v in rows if v.model not in registry]
    notes += [f"model={name} is not in the registry: skipped" for name in missing]
    return [v for v in rows if v.model in registry], notes


def _compose(variant: Variant, data: list[str], seed: int, epochs: Optional[int], rounds: Optional[int]):
    base = [f"model={variant.model}", *data, f"seed={seed}", "trainer.accelerator=cpu", "trainer.progress_bar=false"]
    cfg = config(*base, *variant.overrides)
    small = []
    if epochs is not None and cfg.family == "deep":
        small.append(f"trainer.max_epochs={epochs}")
    if rounds is not None:
        small += [f"model.{key}={rounds}" for key in ROUNDS_KEYS if hasattr(cfg.model, key)]
    return config(*base, *variant.overrides, *small) if small else cfg


class _PreparedCache:
    """The runner's prepared data, once per (dataset config, seed): every model of a
    repetition fits the same split and preprocessing."""

    def __init__(self) -> None:
        self._prepared: dict[tuple[str, int, bool], Any] = {}

    def get(self, cfg: RunSpec) -> Any:
        from src.job.runner import prepare_data
        from src.models.registry import takes_native_categorical
        from src.tracking.mlflow_run import NullTrackedRun

        # Models with native categorical handling get their categorical columns as codes.
        key = (repr(cfg.dataset), int(cfg.seed), takes_native_categorical(cfg.model))
        if key not in self._prepared:
            self._prepared[key] = prepare_data(cfg, NullTrackedRun())
        return self._prepared[key]


def _kept(estimator: Any) -> Optional[int]:
    """Boosting rounds, or epochs, that the predicting model was trained for: early
    stopping's best round, the restored best epoch, else the epochs trained."""
    if getattr(estimator, "best_iteration_", None) is not None:
        return int(estimator.best_iteration_)  # a count of rounds
    if getattr(estimator, "best_epoch_", None) is not None:
        return int(estimator.best_epoch_) + 1  # an index: epochs up to and with it
    trained = getattr(estimator, "epochs_trained_", None)
    return None if trained is None else int(trained)


def fit_once(cfg: RunSpec, prepared: Any) -> dict[str, Any]:
    """Build and fit as `src.job.runner.run` does; the fit's seconds by the
    runner's timer and thread budget, and the test accuracy."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    from src.job.runner import validate
    from src.models import build_estimator

    validate(cfg)
    data = prepared.data
    estimator = build_estimator(
        cfg, prepared.dataset.task, prepared.dataset.n_classes, categorical_features=prepared.data.categorical_features
    )
    with threadpool_limits(cfg.trainer.cpu_threads):
        started = time.perf_counter()
        estimator.fit(data.X_train, data.y_train, eval_set=(data.X_val, data.y_val))
        fit_s = time.perf_counter() - started
        accuracy = float(np.mean(estimator.predict(data.X_test) == data.y_test))
    return {"fit_s": fit_s, "accuracy": accuracy, "kept": _kept(estimator), "n_train": len(data.y_train)}


def _warm_up(cfg: RunSpec, prepared: Any) -> None:
    """One untimed fit on a few rows: the library's imports are not its fit time."""
    from dataclasses import replace

    data = prepared.data
    few = replace(data, X_train=data.X_train[:256], y_train=data.y_train[:256])
    fit_once(cfg, replace(prepared, data=few))


def bench_models(
    name: str,
    reps: int,
    large_rows: int,
    mnist1d_rows: Optional[int] = None,
    epochs: Optional[int] = None,
    rounds: Optional[int] = None,
    ensemble_ratio: bool = True,
) -> dict[str, Any]:
    """Median fit time and mean test accuracy of each model on one dataset; the
    models alternate within each repetition, so that a slow spell hits them alike.
    `ensemble_ratio`: also fit mlp_plus with one member, for time(K) / time(1)."""
    from src.models.registry import REGISTRY

    rows, notes = variants(REGISTRY)
    data = dataset_overrides(name, large_rows, mnist1d_rows)
    ensemble_k = None
    if ensemble_ratio and any(v.model == ENSEMBLE_MODEL for v in rows):
        ensemble_k = getattr(config(f"model={ENSEMBLE_MODEL}").model, ENSEMBLE_KEY, None)
        if ensemble_k is None:
            notes.append(f"model={ENSEMBLE_MODEL} has no model.{ENSEMBLE_KEY}: no ensemble ratio")
        elif int(ensemble_k) == 1:
            notes.append(f"model={ENSEMBLE_MODEL} defaults to model.{ENSEMBLE_KEY}=1: no ensemble ratio")
        else:
            rows.append(Variant(ONE_MEMBER, ENSEMBLE_MODEL, (f"model.{ENSEMBLE_KEY}=1",)))
    cache = _PreparedCache()
    fits: dict[str, list[dict[str, Any]]] = {v.label: [] for v in rows}
    threads = set()
    for v in rows:
        cfg = _compose(v, data, 0, epochs, rounds)
        threads.add(cfg.trainer.cpu_threads)
        _warm_up(cfg, cache.get(cfg))
    for seed in range(reps):
        for v in rows:
            cfg = _compose(v, data, seed, epochs, rounds)
            fits[v.label].append(fit_once(cfg, cache.get(cfg)))
    out: dict[str, Any] = {
        "dataset": " ".join(data),  # the overrides that compose it
        "n_train": next(iter(fits.values()))[0]["n_train"] if rows else 0,
        "reps": reps,
        "seeds": list(range(reps)),
        "cpu_threads": sorted(threads, key=str),  # one value: every model had the same budget
        "models": {label: _summary(runs) for label, runs in fits.items()},
        "notes": notes,
    }
    if ONE_MEMBER in out["models"]:
        k_s, one_s = out["models"][ENSEMBLE_MODEL]["fit_s"], out["models"][ONE_MEMBER]["fit_s"]
        out["ensemble"] = {"k": int(ensemble_k), "k_fit_s": k_s, "one_fit_s": one_s, "ratio": k_s / one_s}
    return out


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    accuracies = [r["accuracy"] for r in runs]
    kept = [r["kept"] for r in runs if r["kept"] is not None]
    return {
        "fit_s": statistics.median(r["fit_s"] for r in runs),
        "fit_s_all": [round(r["fit_s"], 3) for r in runs],
        "accuracy": statistics.fmean(accuracies),
        "accuracy_std": statistics.pstdev(accuracies),
        "kept_median": statistics.median(kept) if kept else None,
    }
