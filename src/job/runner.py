"""One run: config -> data -> split -> preprocessing -> fit -> metrics -> MLflow.

Every model family goes through `run` unchanged, which is what makes the
comparison fair: the same split, the same preprocessing (fit on the training
rows only), the same seed, the same metric code and the same timers.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml
from threadpoolctl import threadpool_limits

from src.config import option
from src.config.spec import RunSpec
from src.data import Dataset, PreparedData, Split, load_dataset, make_split, prepare
from src.data.catalogue import check_dataset_config
from src.data.preprocessing import PreprocessOptions
from src.data.splits import check_split_settings
from src.errors import ConfigError
from src.job.artifacts import Evaluated, class_probabilities, to_target_units, write_artifacts
from src.job.metrics import main_metric_name, score
from src.job.resume import Previous, checkpoint_dir, find_previous
from src.models import build_estimator, check_model_task
from src.models.contract import Estimator
from src.models.heads import resolve_loss
from src.models.registry import takes_native_categorical
from src.tracking.record import Param, RunMetric, Tag

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    run_id: str
    run_name: str
    metrics: dict[str, float]
    main_metric: str
    skipped: bool = False  # resume=true found a FINISHED run of the same configuration
    model_uri: Optional[str] = None  # tracking.log_model=true: models:/<model id>, what loads or serves it

    @property
    def value(self) -> float:
        return self.metrics[self.main_metric]


def validate(cfg: RunSpec) -> None:
    """Checks across config groups, before any data is loaded (each group's own keys and
    ranges were checked when the spec was made: src/config/checks.py)."""
    check_dataset_config(cfg.dataset)
    check_split_settings(cfg.dataset.cv_folds, cfg.dataset.select_size)
    if cfg.task is not None:  # null: inferred from the data, checked once it is loaded
        validate_task(cfg, cfg.task)
    if cfg.family == "deep":
        _check_accelerator(cfg.trainer)
    if cfg.dataset.fit_only and cfg.trainer.early_stopping_patience is not None:
        raise ConfigError("trainer.early_stopping_patience needs a validation split; fit-only datasets have none")
    if not cfg.dataset.fit_only and cfg.trainer.early_stopping_patience is not None and cfg.dataset.val_size == 0:
        raise ConfigError("trainer.early_stopping_patience needs a validation split; set dataset.val_size > 0")


def validate_task(cfg: RunSpec, task: str) -> None:
    """The model and loss fit the task: before any data loads when the config
    names the task, else once the task inferred from the data is known."""
    check_model_task(cfg.model, task)
    if cfg.family == "deep":
        resolve_loss(option(cfg.loss.name), task)


def _check_accelerator(trainer: Any) -> None:
    if trainer.accelerator not in ("gpu", "cuda"):
        return
    import torch

    if not torch.cuda.is_available():
        raise ConfigError(
            f"trainer={trainer.name} asks for a GPU but none is visible to torch on this machine; "
            "use trainer=cpu or trainer=default"
        )


def _run_tags(cfg: RunSpec) -> dict[str, Any]:
    from src.tracking.mlflow_run import git_commit

    return {
        Tag.MODEL: cfg.model.name,
        Tag.MODEL_FAMILY: cfg.family,
        Tag.DATASET: cfg.dataset_label,
        Tag.TASK: cfg.task,  # None: set once inferred from the data
        Tag.SEED: cfg.seed,
        Tag.STUDY: cfg.study,
        Tag.GIT_COMMIT: git_commit(),
        Tag.MLFLOW_GIT_COMMIT: git_commit(),
    }


def log_config(cfg: RunSpec, tracked: Any) -> None:
    """Log the recorded config as the run's params (flattened: `optimizer.lr`)."""
    from src.tracking.mlflow_run import flatten

    tracked.log_params(flatten(cfg.recorded()))


def start_run(cfg: RunSpec, reopen: Optional[Any] = None):
    from src.tracking.mlflow_run import NullTrackedRun, TrackedRun, is_global_zero

    if not is_global_zero():
        return NullTrackedRun()

    tags = {**_run_tags(cfg), Tag.CONFIG_HASH: cfg.config_hash}
    if reopen is not None:
        return TrackedRun.reopen(cfg.tracking_uri, reopen.info.run_id, reopen.info.experiment_id)
    return TrackedRun.start(cfg.tracking_uri, cfg.tracking.experiment, cfg.run_name(), tags)


def _join_active_sweep(cfg: RunSpec, run_id: str) -> None:
    """A skipped job's run counts in the sweep in progress (its summary, --sweep latest)."""
    from src.tracking.mlflow_run import client_for, is_global_zero, join_active_sweep

    if is_global_zero():
        join_active_sweep(client_for(cfg.tracking_uri), run_id)


def record_failure(cfg: RunSpec, exc: BaseException) -> str:
    """Record a job that failed before its run started (a sweep's config error)
    as a FAILED run, so that the sweep's summary lists it."""
    tracked = start_run(cfg)
    tracked.__exit__(type(exc), exc, None)
    return tracked.run_id


@dataclass
class Prepared:
    """A run's data after the shared split and preprocessing."""

    dataset: Dataset
    split: Split
    data: PreparedData


def run(cfg: RunSpec) -> RunResult:
    """Train and evaluate the configured model; record everything in one MLflow run."""
    from src.tracking.mlflow_run import client_for
    from src.tracking.owner import settle_running_runs

    validate(cfg)
    family = cfg.family
    digest = cfg.config_hash
    previous = Previous()
    if cfg.resume:
        settle_running_runs(client_for(cfg.tracking_uri), cfg.tracking.experiment, digest)
        previous = find_previous(cfg, digest)
    if previous.finished is not None:
        done = previous.finished  # its name carries n_train, known once its split was made
        log.info("resume: %s already has a FINISHED run %s; skipped", done.info.run_name, done.info.run_id)
        print(f"{done.info.run_name}: skipped, already FINISHED as mlflow run {done.info.run_id}", flush=True)
        _join_active_sweep(cfg, done.info.run_id)
        return RunResult(
            done.info.run_id,
            done.info.run_name,
            dict(done.data.metrics),
            done.data.tags.get(Tag.MAIN_METRIC, ""),
            skipped=True,
        )
    with start_run(cfg, reopen=previous.resumable) as tracked:
        if previous.resumable is None:
            log_config(cfg, tracked)
        prepared = prepare_data(cfg, tracked)
        estimator = build_estimator(
            cfg, prepared.dataset.task, prepared.dataset.n_classes, prepared.data.categorical_features
        )
        epochs_logged = 0
        if family == "deep":
            estimator.checkpoint_dir = str(checkpoint_dir(cfg, digest))
            if previous.checkpoint is None:  # a fresh start must not leave an older last.ckpt behind
                for stale in Path(estimator.checkpoint_dir).glob("*.ckpt"):
                    stale.unlink(missing_ok=True)
            else:
                estimator.resume_from = str(previous.checkpoint)
                epochs_logged = _epochs_logged(tracked)
                tracked.set_tags({Tag.RESUMED_FROM_EPOCH: epochs_logged})
        data = prepared.data
        # Both families get the same thread budget, and the same timer.
        with threadpool_limits(cfg.trainer.cpu_threads):
            started = time.perf_counter()
            try:
                estimator.fit(data.X_train, data.y_train, eval_set=(data.X_val, data.y_val))
            finally:  # the epochs before a failure or an interrupt are kept
                tracked.add_history(estimator.history_, from_epoch=epochs_logged)
            fit_time = time.perf_counter() - started
        return evaluate_and_record(cfg, tracked, prepared, estimator, fit_time)


def prepare_data(cfg: RunSpec, tracked: Any) -> Prepared:
    """Load, split and preprocess the data; record its shape and digest."""
    from src.tracking.inputs import log_dataset

    dataset = load_dataset(cfg.dataset)
    if cfg.dataset.task is None:  # inferred from the target: check the model and loss now
        validate_task(cfg, dataset.task)
    split = make_split(
        dataset,
        seed=cfg.seed,
        test_size=cfg.dataset.test_size,
        val_size=cfg.dataset.val_size,
        fit_only=cfg.dataset.fit_only,
        train_size=cfg.dataset.train_size,
        cv_folds=cfg.dataset.cv_folds,
        select_size=cfg.dataset.select_size,
    )
    # Only the categorical columns' encoding depends on the model: codes for one that takes them natively.
    options = PreprocessOptions.from_config(cfg.dataset).for_model(takes_native_categorical(cfg.model))
    data = prepare(dataset, split, standardize=cfg.dataset.standardize, options=options)
    # The run is named once its training size is known.
    tracked.set_tags({Tag.TASK: dataset.task, Tag.RUN_NAME: cfg.run_name(len(split.train))})
    tracked.log_params(
        {
            Param.N_TRAIN: len(split.train),
            Param.N_VAL: len(split.val),
            Param.N_TEST: len(split.test),
            Param.N_SELECT: len(split.select),
            Param.N_ROWS: dataset.n_rows,
            Param.TEST_SET: split.scheme,
            Param.N_FEATURES: data.n_features,
            Param.SPLIT_DIGEST: split.digest,
        }
    )
    if split.fold is not None:
        tracked.log_params({Param.CV_FOLD: split.fold, Param.CV_REPEAT: split.repeat})
    if data.categorical_encoding:  # onehot, ordinal or native
        tracked.log_params({Param.CATEGORICAL_HANDLING: data.categorical_encoding})
    log_dataset(tracked, dataset, split, data)
    return Prepared(dataset, split, data)


def evaluate_and_record(
    cfg: RunSpec, tracked: Any, prepared: Prepared, estimator: Estimator, fit_time: float
) -> RunResult:
    """Score a fitted estimator with the shared metric code and timer, and
    record metrics, tags, the model and the pictures in its run."""
    dataset, split, data = prepared.dataset, prepared.split, prepared.data
    family = cfg.family
    name = cfg.run_name(len(split.train))
    evaluated_split = "train" if split.fit_only else "test"
    X_eval = data.X_train if split.fit_only else data.X_test
    with threadpool_limits(cfg.trainer.cpu_threads):
        started = time.perf_counter()
        y_eval_pred = estimator.predict(X_eval)
        predict_time = time.perf_counter() - started
        # Not timed: predict_time_s stays the time of predict alone.
        proba = class_probabilities(estimator, X_eval, dataset.n_classes) if dataset.task.is_classification else None

    y_train_pred = estimator.predict(data.X_train) if not split.fit_only else y_eval_pred
    y_train_true, y_train_pred = to_target_units(data, data.y_train), to_target_units(data, y_train_pred)
    metrics = score(dataset.task, y_train_true, y_train_pred, "train")
    if not split.fit_only:
        y_test_true = to_target_units(data, data.y_test)
        y_test_pred = to_target_units(data, y_eval_pred)
        metrics.update(score(dataset.task, y_test_true, y_test_pred, "test", proba))
        # final_val: the validation split (early stopping watched it; a search selects on it);
        # select: the selection split, which neither training nor early stopping saw (what the
        # report picks each side's best model on).
        for prefix, X_rows, y_rows in (
            ("final_val", data.X_val, data.y_val),
            ("select", data.X_select, data.y_select),
        ):
            if len(y_rows):
                metrics.update(_scored(estimator, dataset, data, X_rows, y_rows, prefix))
    else:
        y_test_true, y_test_pred = y_train_true, y_train_pred
    metrics.update({RunMetric.FIT_TIME_S: fit_time, RunMetric.PREDICT_TIME_S: predict_time})
    weights = estimator.learned_weights()
    if weights:
        metrics.update(weights)

    n_params = estimator.n_params_
    tracked.log_params({Param.N_PARAMS: n_params if n_params is not None else "undefined"})
    history = estimator.history_
    # Final metrics at one step (0) for every run, whatever its epochs: MLflow's
    # chart view then compares them across runs as bars; the curves keep their epochs.
    tracked.add_metrics(metrics, step=0)
    if family == "deep":
        tracked.set_tags({Tag.ACCELERATOR: estimator.train_device_.type, Tag.EPOCHS_TRAINED: estimator.epochs_trained_})
    else:  # scikit-learn runs on the CPU
        tracked.set_tags({Tag.ACCELERATOR: "cpu"})
    # What a model that watches its validation split kept: a boosting round, an MLP epoch.
    kept = {Tag.BEST_ITERATION: estimator.best_iteration_}
    kept[Tag.BEST_EPOCH] = estimator.best_epoch_
    tracked.set_tags({name: value for name, value in kept.items() if value is not None})
    model_uri = None
    if cfg.tracking.log_model:
        from src.tracking.models import log_fitted_model

        example_rows = dataset.X.iloc[split.train[:5]]
        model_uri = log_fitted_model(
            tracked,
            estimator,
            data.raw_row_pipeline(dataset),
            example_rows,
            cfg.tracking.register_as,
            family=cfg.family,
        )

    row_ids = split.train if split.fit_only else split.test
    evaluated = Evaluated(evaluated_split, row_ids, y_test_true, y_test_pred, proba)
    with tempfile.TemporaryDirectory(prefix="mlvsdl-") as tmp:
        config_yaml = yaml.safe_dump(cfg.recorded(), sort_keys=False)
        write_artifacts(Path(tmp), cfg, config_yaml, name, dataset, split, data, estimator, history, evaluated)
        tracked.log_artifacts(tmp)

    main = main_metric_name(dataset.task, split.fit_only)
    tracked.set_tags({Tag.MAIN_METRIC: main})
    return RunResult(tracked.run_id, name, metrics, main, model_uri=model_uri)


def _scored(estimator: Any, dataset: Dataset, data: PreparedData, X: Any, y: Any, prefix: str) -> dict[str, float]:
    """The shared metrics of one more split (validation, selection), probabilities included."""
    with threadpool_limits(1):
        y_pred = to_target_units(data, estimator.predict(X))
        proba = class_probabilities(estimator, X, dataset.n_classes) if dataset.task.is_classification else None
    return score(dataset.task, to_target_units(data, y), y_pred, prefix, proba)


def _epochs_logged(tracked: Any) -> int:
    """How many epochs of train_loss a reopened run already holds (0 off rank 0,
    which logs nothing)."""
    from src.tracking.mlflow_run import NullTrackedRun

    if isinstance(tracked, NullTrackedRun):
        return 0
    history = tracked.client.get_metric_history(tracked.run_id, "train_loss")
    return max((m.step for m in history), default=-1) + 1
