"""`seeds=[0,1,2,3,4]`: one configuration repeated over several seeds in one job.

Each seed keeps everything a single run with that seed has -- its split, its
preprocessing, its initial weights and its batch order -- and gets its own
MLflow run, recorded exactly like a single run (inside a `-m` sweep, a child of
the sweep's parent). An MLP's seeds train together, as one vectorized model
(src/models/stacked_estimator.py); any other model's seeds run one after the
other, each exactly the `seed=k` run.
"""

from __future__ import annotations

import time
from contextlib import ExitStack

from threadpoolctl import threadpool_limits

from src.config.spec import RunSpec
from src.errors import ConfigError, DivergedError, one_line
from src.job.runner import RunResult, evaluate_and_record, log_config, prepare_data, run, start_run, validate
from src.models import build_estimator
from src.tracking.record import RunMetric, Tag


def run_seeds(cfg: RunSpec) -> list[RunResult]:
    """Train the configuration once per seed in `cfg.seeds`; one MLflow run each.
    A seed that fails (an MLP replica that diverges) fails its own run only
    (SeedsFailed once the others are recorded)."""
    seeds = list(cfg.seeds or ())
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"seeds={seeds} repeats a seed")
    if cfg.family != "deep":
        return _run_one_after_another(cfg, seeds)
    if cfg.trainer.strategy != "auto" or cfg.trainer.devices not in (1, "1", "auto"):
        raise ConfigError("seeds=[...] trains on one device; use a single-device trainer")
    unsupported = {
        "trainer.checkpoint_every_n_epochs": bool(cfg.trainer.checkpoint_every_n_epochs),
        "model.batch_norm": bool(getattr(cfg.model, "batch_norm", False)),  # the MLPs' field
        "resume": cfg.resume,
        "trainer.precision=16-mixed": "16-mixed" in str(cfg.trainer.precision),
    }
    for key, used in unsupported.items():
        if used:  # each would make a replica differ from the single run with its seed
            raise ConfigError(
                f"seeds=[...] trains replicas together and does not support {key}; "
                f"drop it, or sweep the seeds with -m seed=..."
            )
    configs = [cfg.for_seed(seed) for seed in seeds]
    for one in configs:
        validate(one)
    with ExitStack() as stack:  # every run still open ends FAILED / KILLED if anything goes wrong
        runs = [stack.enter_context(start_run(one)) for one in configs]
        prepared = []
        for one, tracked in zip(configs, runs):
            log_config(one, tracked)
            tracked.set_tags({Tag.TRAINED_TOGETHER: len(seeds), Tag.SEEDS: ",".join(map(str, seeds))})
            prepared.append(prepare_data(one, tracked))
        sizes = {len(p.data.y_train) for p in prepared}
        if len(sizes) != 1:
            raise ConfigError(f"seeds={seeds}: the training splits differ in size ({sorted(sizes)})")
        try:
            fits = _fit_replicas(configs[0], prepared, seeds)
        except BaseException as exc:  # Ctrl-C, an error: the epochs before it are kept
            for tracked, history in zip(runs, getattr(exc, "histories", None) or []):
                tracked.add_history(history)
            raise
        results, diverged = [], []
        for k, (one, tracked, data) in enumerate(zip(configs, runs, prepared)):
            estimator, history, fit_time, shared, error = fits[k]
            tracked.add_history(history)
            if error is not None:  # this replica diverged: its run alone ends FAILED
                tracked.__exit__(type(error), error, None)
                diverged.append(f"seed {seeds[k]}: {error}")
                continue
            # fit_time_s is this seed's share of the joint fit; the whole is logged beside it.
            tracked.add_metrics({RunMetric.FIT_TIME_SHARED_S: shared})
            results.append(evaluate_and_record(one, tracked, data, estimator, fit_time))
    if diverged:
        raise SeedsFailed(diverged, len(seeds), results, "diverged")
    return results


def _run_one_after_another(cfg: RunSpec, seeds: list[int]) -> list[RunResult]:
    """A classical model's seeds: each the `seed=k` run, in turn, in this process.
    A seed that fails ends its own run FAILED and the next seed still runs;
    an interrupt (Ctrl-C) stops them all."""
    configs = [cfg.for_seed(seed) for seed in seeds]
    for one in configs:  # a config error is every seed's: refuse it before any run starts
        validate(one)
    results, failed = [], []
    for seed, one in zip(seeds, configs):
        try:
            results.append(run(one))
        except Exception as error:  # recorded on its own run by the runner
            if getattr(error, "mlflow_run_id", None) is None:
                raise  # not recorded on a run: nothing would show it
            failed.append(f"seed {seed}: {one_line(error)}")
    if failed:
        raise SeedsFailed(failed, len(seeds), results, "failed")
    return results


class SeedsFailed(Exception):
    """Some seeds of seeds=[...] failed (an MLP replica diverged); their runs are FAILED, the others' FINISHED."""

    def __init__(self, failures: list[str], total: int, finished_results: list[RunResult], how: str):
        super().__init__(f"{len(failures)} of {total} seeds {how} ({'; '.join(failures)}); the other runs finished")
        self.finished_results = finished_results
        self.mlflow_run_id = "recorded"  # each seed's run holds its own fate: no FAILED run to add


def _fit_replicas(cfg: RunSpec, prepared: list, seeds: list[int]) -> list[tuple]:
    """Fit the replicas together; per replica (estimator, history, fit_time_s,
    the joint fit's seconds, DivergedError or None). When a replica diverges the
    joint training stops for all, so each replica is then trained alone (each
    equals the single run with its seed): only the ones that diverge alone fail."""
    fitted = _fit_together(cfg, prepared, seeds)
    if not isinstance(fitted[0], DivergedError):
        estimator, shared = fitted
        return [(estimator.replica(k), estimator.histories_[k], shared / len(seeds), shared, None)
                for k in range(len(seeds))]  # fmt: skip
    fits = []
    for k, seed in enumerate(seeds):
        alone = _fit_together(cfg, prepared[k : k + 1], [seed], joint=False)
        if isinstance(alone[0], DivergedError):
            fits.append((None, alone[1], None, None, alone[0]))
        else:
            estimator, seconds = alone
            fits.append((estimator.replica(0), estimator.histories_[0], seconds, seconds, None))
    return fits


def _fit_together(cfg: RunSpec, prepared: list, seeds: list[int], joint: bool = True) -> tuple:
    """(the fitted stacked estimator, seconds), or (the DivergedError, the epochs before it) of the first replica."""
    from src.models.stacked_estimator import StackedMLPEstimator

    first = prepared[0].dataset
    estimator = StackedMLPEstimator(build_estimator(cfg, first.task, first.n_classes), seeds)
    with threadpool_limits(None):  # the stacked model sets its own thread budget
        started = time.perf_counter()
        try:
            estimator.fit(
                [p.data.X_train for p in prepared],
                [p.data.y_train for p in prepared],
                [p.data.X_val for p in prepared],
                [p.data.y_val for p in prepared],
            )
        except DivergedError as error:
            return error, getattr(estimator, "histories_", [[]])[0]
        except BaseException as error:
            if joint:  # one history per run
                error.histories = getattr(estimator, "histories_", None)  # type: ignore[attr-defined]
            raise
    return estimator, time.perf_counter() - started
