"""The run record: every tag, param and artifact name that runs write and
reports, summaries and resume read back, defined once.

A leaf module (plain strings, no imports of the project): the runner writes
with these names and the report, the sweep summary and `resume=true` read
with them, so a rename happens here or nowhere.
"""

from __future__ import annotations


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
    # How a run ended, beyond MLflow's status: the error line, and why (e.g. "diverged").
    ERROR = "error"
    STATUS_REASON = "status_reason"
    EPOCHS_TRAINED = "epochs_trained"
    RESUMED = "resumed"
    RESUMED_FROM_EPOCH = "resumed_from_epoch"
    # Sweep parents and report runs.
    SWEEP = "sweep"
    FAILED_JOBS = "failed_jobs"
    REPORT = "report"


class Param:
    """Params logged beside the flattened config."""

    N_TRAIN = "n_train"
    N_VAL = "n_val"
    N_TEST = "n_test"
    N_FEATURES = "n_features"
    N_PARAMS = "n_params"
    SPLIT_DIGEST = "split_digest"


class Artifact:
    """Files logged on runs."""

    CONFIG = "config.yaml"
    CLASSIFICATION_REPORT = "classification_report.txt"
    LOSS_CURVES = "loss_curves.png"
    CONFUSION_MATRIX = "confusion_matrix.png"
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


class Status:
    """MLflow run statuses, as the store spells them."""

    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"


# The config groups each model family reads: a run logs and hashes these and
# nothing else, so that a classical run does not carry (or rerun on) the MLP's
# optimizer settings.
COMMON_GROUPS = ("seed", "dataset", "model", "study", "optimized_metric")
FAMILY_GROUPS = {
    "deep": COMMON_GROUPS + ("activation", "loss", "optimizer", "trainer", "seeds"),
    # trainer.cpu_threads is the thread budget both families share.
    "classical": COMMON_GROUPS + ("trainer.cpu_threads",),
}
