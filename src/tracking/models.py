"""The fitted model as an MLflow model, when `tracking.log_model=true`.

Classical models are logged with `mlflow.sklearn.log_model` (the fitted
scikit-learn estimator), the MLP with `mlflow.pytorch.log_model` (its
`torch.nn.Module`, moved to the CPU). Both take the run's preprocessed
features as input: the shared preprocessing and, for regression, the target
standardization stay with the run (params `dataset.*`), not inside the model.
The MLP's network pickles its activation modules by reference, so this
project's `src` package must be importable where it is loaded back.

Choices, each for a measured reason:
- explicit `pip_requirements` (the installed versions): MLflow's automatic
  inference re-imports the model in a subprocess and costs ~8 s per run;
- scikit-learn models are serialized with cloudpickle, not MLflow's default
  skops: importing skops walks every scikit-learn estimator, which imports
  torch (~3 s) -- and a classical run must not load torch;
- the run is addressed by id (`run_id=`, and a LoggedModel created in the
  run's experiment) instead of through `mlflow.start_run(run_id=...)`,
  whose exit would end the run: the runner alone ends it, with its real status.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from importlib import metadata
from typing import Any, Iterator

import numpy as np

from src.tracking.mlflow_run import fluent_tracking_uri

MODEL_NAME = "model"  # loads back as runs:/<run_id>/model
_N_EXAMPLE_ROWS = 5


def _pinned(*packages: str) -> list[str]:
    """`name==version` for each package; a name written `a|b` is the first of
    these distributions installed (xgboost ships as `xgboost` or `xgboost-cpu`)."""
    pins = []
    for package in packages:
        for name in package.split("|"):
            try:
                pins.append(f"{name}=={metadata.version(name)}")
                break
            except metadata.PackageNotFoundError:
                continue
        else:
            raise metadata.PackageNotFoundError(package)
    return pins


class _DropPickleWarning(logging.Filter):
    """(Cloud)pickle is chosen on purpose (see above); don't warn on every run."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage().lower()
        return not ("pickle" in message and "caution" in message)


@contextmanager
def _without_pickle_warning(logger_name: str) -> Iterator[None]:
    logger, quiet = logging.getLogger(logger_name), _DropPickleWarning()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def log_fitted_model(tracked: Any, estimator: Any, X_train: np.ndarray) -> str:
    """Log the fitted estimator on the tracked run; return its model URI."""
    import mlflow
    from mlflow.entities import LoggedModelStatus

    X_example = np.asarray(X_train[:_N_EXAMPLE_ROWS], dtype=np.float32)
    with fluent_tracking_uri(tracked.client.tracking_uri):
        logged = mlflow.initialize_logged_model(
            name=MODEL_NAME, source_run_id=tracked.run_id, experiment_id=tracked.experiment_id
        )
        try:
            if getattr(estimator, "family", None) == "classical":
                info = _log_sklearn(estimator, X_example, model_id=logged.model_id, run_id=tracked.run_id)
            else:
                info = _log_pytorch(estimator, X_example, model_id=logged.model_id, run_id=tracked.run_id)
        except BaseException:
            mlflow.finalize_logged_model(logged.model_id, LoggedModelStatus.FAILED)  # not left PENDING
            raise
    return info.model_uri


def _log_sklearn(estimator: Any, X_example: np.ndarray, **where: str) -> Any:
    import mlflow.sklearn
    from mlflow.models import infer_signature

    model = estimator.estimator_
    with _without_pickle_warning("mlflow.sklearn"):
        return mlflow.sklearn.log_model(
            model,
            signature=infer_signature(X_example, model.predict(X_example)),
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
            pip_requirements=_pinned("scikit-learn", "numpy", "cloudpickle", *getattr(estimator, "requirements", ())),
            **where,
        )


def _log_pytorch(estimator: Any, X_example: np.ndarray, **where: str) -> Any:
    import copy

    import mlflow.pytorch
    from mlflow.models import infer_signature

    net = copy.deepcopy(estimator.net_).cpu().eval()
    with _without_pickle_warning("mlflow.pytorch"):
        return mlflow.pytorch.log_model(
            net,
            signature=infer_signature(X_example, estimator.decision_function(X_example)),
            # The whole module, pickled, loads back as it is; MLflow's default
            # here, "pt2", traces the graph from an input example.
            serialization_format="pickle",
            pip_requirements=_pinned("torch", "numpy", "cloudpickle"),
            **where,
        )
