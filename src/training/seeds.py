"""`seeds=[0,1,2,3,4]`: one MLP configuration trained for several seeds at once.

Each seed keeps everything a single run with that seed has -- its split, its
preprocessing, its initial weights and its batch order -- and gets its own
MLflow run, recorded exactly like a single run; only the training is shared,
as one vectorized model (src/models/stacked_estimator.py).
"""

from __future__ import annotations

import copy
import time
from contextlib import ExitStack

from omegaconf import DictConfig, open_dict
from threadpoolctl import threadpool_limits

from src.errors import ConfigError
from src.models import build_estimator, model_family
from src.tracking.record import Tag
from src.training.runner import RunResult, evaluate_and_record, log_config, prepare_data, start_run, validate


def config_for_seed(cfg: DictConfig, seed: int) -> DictConfig:
    one = copy.deepcopy(cfg)
    with open_dict(one):
        one.seed = seed
        one.seeds = None
        if one.tracking.run_name:  # a sweep job's name: keep the seeds' runs apart
            one.tracking.run_name = f"{one.tracking.run_name}-s{seed}"
    return one


def run_seeds(cfg: DictConfig) -> list[RunResult]:
    """Train the MLP once per seed in `cfg.seeds`, all at once; one MLflow run each."""
    from src.models.stacked_estimator import StackedMLPEstimator

    seeds = list(cfg.seeds)
    if model_family(cfg.model) != "deep":
        raise ConfigError(f"seeds=[...] trains MLPs together; model={cfg.model.name} is not one (use seed=0,1,2 -m)")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"seeds={seeds} repeats a seed")
    if cfg.trainer.strategy != "auto" or cfg.trainer.devices not in (1, "1", "auto"):
        raise ConfigError("seeds=[...] trains on one device; use a single-device trainer")
    unsupported = {
        "trainer.early_stopping_patience": cfg.trainer.early_stopping_patience is not None,
        "trainer.checkpoint_every_n_epochs": bool(cfg.trainer.get("checkpoint_every_n_epochs")),
        "model.dropout": bool(cfg.model.get("dropout")),
        "model.batch_norm": bool(cfg.model.get("batch_norm")),
        "resume": bool(cfg.get("resume")),
        "trainer.precision=16-mixed": "16-mixed" in str(cfg.trainer.precision),
    }
    for key, used in unsupported.items():
        if used:  # each would make a replica differ from the single run with its seed
            raise ConfigError(
                f"seeds=[...] trains replicas together and does not support {key}; "
                f"drop it, or sweep the seeds with -m seed=..."
            )
    configs = [config_for_seed(cfg, seed) for seed in seeds]
    for one in configs:
        validate(one)
    with ExitStack() as stack:  # every run ends FAILED / KILLED if anything goes wrong
        runs = [stack.enter_context(start_run(one)) for one in configs]
        prepared = []
        for one, tracked in zip(configs, runs):
            log_config(one, tracked)
            tracked.set_tags({Tag.TRAINED_TOGETHER: len(seeds), Tag.SEEDS: ",".join(map(str, seeds))})
            prepared.append(prepare_data(one, tracked))
        sizes = {len(p.data.y_train) for p in prepared}
        if len(sizes) != 1:
            raise ConfigError(f"seeds={seeds}: the training splits differ in size ({sorted(sizes)})")
        first = prepared[0].dataset
        estimator = StackedMLPEstimator(build_estimator(configs[0], first.task, first.n_classes), seeds)
        with threadpool_limits(None):  # the stacked model sets its own thread budget
            started = time.perf_counter()
            try:
                estimator.fit(
                    [p.data.X_train for p in prepared],
                    [p.data.y_train for p in prepared],
                    [p.data.X_val for p in prepared],
                    [p.data.y_val for p in prepared],
                )
            finally:
                for k, tracked in enumerate(runs):
                    tracked.add_history(getattr(estimator, "histories_", [[]] * len(runs))[k])
            shared = time.perf_counter() - started
        results = []
        for k, (one, tracked, data) in enumerate(zip(configs, runs, prepared)):
            # fit_time_s is this seed's share of the joint fit; the whole is logged beside it.
            tracked.add_metrics({"fit_time_shared_s": shared})
            results.append(evaluate_and_record(one, tracked, data, estimator.replica(k), shared / len(seeds)))
    return results
