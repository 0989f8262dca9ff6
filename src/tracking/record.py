"""The run record: every tag, param, metric and artifact name that runs write
and reports, summaries and resume read back, defined once; and which config
groups a run records and hashes (`family_config`).

A leaf module (plain strings, no imports of the project): the runner writes
with these names and the report, the sweep summary and `resume=true` read
with them, so a rename happens here or nowhere.
"""

from __future__ import annotations

from typing import Any, Mapping


class Tag:
    """Tags of a job's run."""

    MODEL = "model"
    MODEL_FAMILY = "model_family"
    DATASET = "dataset"
    DATASET_SOURCE = "dataset_source"
    TASK = "task"
    SEED = "seed"
    STUDY = "study"
    MAIN_METRIC = "main_metric"
    CONFIG_HASH = "config_hash"
    ACCELERATOR = "accelerator"
    GIT_COMMIT = "git_commit"
    MLFLOW_GIT_COMMIT = "mlflow.source.git.commit"
    PARENT_RUN_ID = "mlflow.parentRunId"
    RUN_NAME = "mlflow.runName"  # setting it renames the run
    # How a run ended, beyond MLflow's status: the error line, and why (e.g. "diverged").
    ERROR = "error"
    STATUS_REASON = "status_reason"
    EPOCHS_TRAINED = "epochs_trained"
    RESUMED = "resumed"
    RESUMED_FROM_EPOCH = "resumed_from_epoch"
    # The process that runs the run (host:pid:start time): resume takes over a RUNNING run only if it is gone.
    OWNER = "owner"
    # Seeds trained together (seeds=[...]): how many, and which.
    TRAINED_TOGETHER = "trained_together"
    SEEDS = "seeds"
    # Sweep parents and report runs.
    SWEEP = "sweep"
    SWEEP_OVERRIDES = "sweep_overrides"
    LAUNCHER = "launcher"
    REPORT_FILTER = "report_filter"
    # Models that stop early on the validation split: the round or epoch they kept.
    BEST_ITERATION = "best_iteration"
    BEST_EPOCH = "best_epoch"  # 0-based; absent when the MLP kept its last epoch
    FAILED_JOBS = "failed_jobs"
    REPORT = "report"
    # Hyperparameter searches (hparams_search=<name>): trial runs and the tuned runs after them.
    SEARCH_STUDY = "search_study"
    SEARCH_STAGE = "search_stage"  # trial (a run scoring a proposal) or final (the chosen one, on every seed)
    TRIAL_NUMBER = "trial_number"
    TRIAL_STATE = "trial_state"  # complete, pruned or failed
    PRUNED_AT_EPOCH = "pruned_at_epoch"
    BEST_TRIAL = "best_trial"


class Reason:
    """Values of the status_reason tag."""

    DIVERGED = "diverged"
    INTERRUPTED = "interrupted"
    INVALID_INPUT = "invalid_input"
    EXCEPTION = "exception"
    RESUMED = "resumed"


class Param:
    """Params logged beside the flattened config."""

    N_TRAIN = "n_train"
    N_VAL = "n_val"
    N_TEST = "n_test"
    N_SELECT = "n_select"  # rows scored for model selection only (dataset.select_size)
    N_ROWS = "n_rows"  # the dataset's rows: n_test / (n_rows - n_test) corrects the verdict's interval
    TEST_SET = "test_set"  # how the test rows were drawn: cv, fixed, random or fit_only
    CV_FOLD = "cv_fold"  # cv: the test fold, and the repeat of the k-fold partition
    CV_REPEAT = "cv_repeat"
    N_FEATURES = "n_features"
    N_PARAMS = "n_params"
    SPLIT_DIGEST = "split_digest"
    CATEGORICAL_HANDLING = "categorical_handling"  # native, onehot or ordinal


class RunMetric:
    """Metrics beside the per-split scores (`<split>_<metric>`) and per-epoch curves."""

    FIT_TIME_S = "fit_time_s"
    PREDICT_TIME_S = "predict_time_s"
    FIT_TIME_SHARED_S = "fit_time_shared_s"
    DIVERGED_EPOCH = "diverged_epoch"
    # Sweep parents.
    N_JOBS = "n_jobs"
    N_FAILED = "n_failed"
    # Report runs.
    N_RUNS = "n_runs"
    # Hyperparameter searches: the trial's value (mean over its seeds) and the search's cost.
    TRIAL_VALUE = "trial_value"
    SEARCH_FIT_TIME_S = "search_fit_time_s"
    SEARCH_WALL_TIME_S = "search_wall_time_s"


class Artifact:
    """Files logged on runs."""

    CONFIG = "config.yaml"
    CLASSIFICATION_REPORT = "classification_report.txt"
    LOSS_CURVES = "loss_curves.png"
    CONFUSION_MATRIX = "confusion_matrix.png"
    # Written by every run, pictures or not: the data a later analysis reads without retraining.
    PREDICTIONS = "predictions.parquet"
    CONFUSION_MATRIX_CSV = "confusion_matrix.csv"
    RESIDUALS = "residuals.csv"
    PREDICTED_VS_TRUE = "predicted_vs_true.png"
    FITTED_CURVE = "fitted_curve.png"
    DECISION_REGIONS = "decision_regions.png"
    FEATURE_IMPORTANCE_CSV = "feature_importance.csv"
    FEATURE_IMPORTANCE_PNG = "feature_importance.png"
    MODEL = "model"
    # Sweep parents.
    SUMMARY_MD = "summary.md"
    SUMMARY_CSV = "summary.csv"
    OPTIMIZATION_RESULTS = "optimization_results.yaml"
    # Report runs.
    REPORT_MD = "report.md"
    REPORT_HTML = "report.html"


class Status:
    """MLflow run statuses, as the store spells them."""

    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"


# Experiments: opened by MLflow's UI as model training, with a description and
# a saved view of the runs table showing these columns (src/tracking/ui.py).
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
MODEL_TRAINING_KIND = "custom_model_development"
DESCRIPTION_TAG = "mlflow.note.content"
VIEW_KEY = "mlvsdl-runs"
VIEW_TAG = f"mlflow.sharedViewState.{VIEW_KEY}"
# The runs table's columns, as the UI names them (`metrics.`name``).
COLUMNS = {
    "metrics": ["test_roc_auc", "test_log_loss", "test_accuracy", "test_rmse", "fit_time_s", "predict_time_s"],
    "params": ["n_train"],
    "tags": ["model", "model_family", "dataset", "seed", "search_stage"],
}
# Markdown (MLflow renders the note): names in code spans, or <n_train> would read as an HTML tag.
DESCRIPTION = """Runs of mlvsdl: one run per training, named `model-dataset-n<n_train>-s<seed>` (a search's
`model-dataset-n<n_train>-t<trial>-s<seed>`, then `...-tuned-s<seed>` and `...-default-s<seed>`); a sweep
is a parent run (`sweep-...`) with its jobs nested under it and summary.md on it; a report is a run
`report-<name>` whose description links its report.html. In the runs table, the saved view
`mlvsdl-runs` shows the test metrics, timings and training size, grouped by model and n_train;
the Chart view compares the final metrics (all logged at step 0) across the selected runs."""


def experiment_tags() -> dict[str, str]:
    """What every experiment this project creates carries (see src/tracking/ui.py)."""
    import json

    view = {
        "selectedColumns": [f"{kind}.`{name}`" for kind, names in COLUMNS.items() for name in names],
        # Groups compare like with like: a model at one training size (MLflow 3.17's runs-view state;
        # the UI shows "Group by: model +1", checked in headless Chromium, docs/mlflow.md).
        "groupBy": {
            "aggregateFunction": "average",
            "groupByKeys": [{"mode": "tag", "groupByData": "model"}, {"mode": "param", "groupByData": "n_train"}],
        },
    }
    return {EXPERIMENT_KIND_TAG: MODEL_TRAINING_KIND, DESCRIPTION_TAG: DESCRIPTION, VIEW_TAG: json.dumps(view)}


# The config groups each model family reads: a run logs and hashes these and
# nothing else, so that a classical run does not carry (or rerun on) the MLP's
# optimizer settings.
COMMON_GROUPS = ("seed", "dataset", "model", "study", "optimized_metric")
FAMILY_GROUPS = {
    "deep": COMMON_GROUPS + ("activation", "loss", "optimizer", "trainer", "seeds"),
    # trainer.cpu_threads is the thread budget both families share.
    "classical": COMMON_GROUPS + ("trainer.cpu_threads",),
}
# Where and how a run is recorded: settings every family reads; logged with
# the run (the report reads tracking.log_importance), never hashed, since they
# do not change its result.
RUN_SETTINGS = ("tracking", "resume")


def family_config(config: Mapping[str, Any], family: str, settings: bool = True) -> dict[str, Any]:
    """The part of a resolved config (plain containers) that `family` reads:
    its FAMILY_GROUPS -- a dotted entry such as `trainer.cpu_threads` keeps
    that one key of its group -- plus the RUN_SETTINGS unless settings=False.
    Keys keep the config's order."""
    wanted = FAMILY_GROUPS[family] + (RUN_SETTINGS if settings else ())
    selected: dict[str, Any] = {}
    for key, value in config.items():
        if key in wanted:
            selected[key] = value
            continue
        keys = [entry.split(".", 1)[1] for entry in wanted if entry.startswith(f"{key}.")]
        if keys and isinstance(value, Mapping):
            selected[key] = {k: value[k] for k in keys if k in value}
    return selected
