"""The fitted pipeline as one MLflow model, when `tracking.log_model=true`.

The model is an `mlflow.pyfunc` model that takes the user's raw rows -- the
dataset's feature columns, missing cells and text categories included -- and
returns predictions in the original labels or the target's units: the
preprocessing fitted on the run's training split, the fitted estimator (deep
or classical) and the label decoding or inverse target scaling travel
together (`RawRowModel`). It carries a signature and an input example in the
raw columns, so that

    mlflow.pyfunc.load_model(f"runs:/{run_id}/model").predict(raw_frame)
    mlflow models predict -m runs:/<run id>/model -i rows.csv -t csv --env-manager local

both work, and `tracking.register_as=<name>` registers it in the model
registry. The pickled model refers to this project's `src` package, which
must be importable where it is loaded (the project installed, or its root as
the working directory).

Choices, each for a measured reason:
- explicit `pip_requirements` (the installed versions): MLflow's automatic
  inference re-imports the model in a subprocess and costs ~8 s per run;
- the model is pickled with cloudpickle and holds no torch object for a
  classical estimator, so that a classical run (and loading its model) never
  imports torch;
- the run is addressed by id (`run_id=`, and a LoggedModel created in the
  run's experiment) instead of through `mlflow.start_run(run_id=...)`,
  whose exit would end the run: the runner alone ends it, with its real status.
"""

from __future__ import annotations

import copy
import logging
from contextlib import contextmanager
from importlib import metadata
from typing import Any, Iterator, Optional

import mlflow.pyfunc

from src.models.registry import DEEP, family_of
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


class RawRowModel(mlflow.pyfunc.PythonModel):
    """Raw rows -> the fitted preprocessing -> the estimator -> labels or units."""

    def __init__(self, pipeline: Any, estimator: Any):
        self.pipeline = pipeline  # src.data.preprocessing.RawRowPipeline
        self.estimator = estimator

    # The signature, inferred from the raw example rows, is the schema MLflow checks inputs
    # against; its type-hint validation (which wants list[...] inputs) stays off.
    _skip_type_hint_validation = True

    def predict(self, context: Any, model_input: Any, params: Optional[dict[str, Any]] = None) -> Any:
        import pandas as pd

        rows = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        return self.pipeline.decode(self.estimator.predict(self.pipeline.features(rows)))


def _portable(estimator: Any) -> Any:
    """The estimator as it can be pickled and loaded anywhere: an MLP's network on the CPU."""
    if family_of(estimator) != DEEP:
        return estimator
    import torch

    portable = copy.deepcopy(estimator)
    portable.net_ = portable.net_.cpu().eval()
    portable.device_ = torch.device("cpu")
    return portable


def _requirements(estimator: Any) -> list[str]:
    packages = ["mlflow", "scikit-learn", "numpy", "pandas", "cloudpickle", *getattr(estimator, "requirements", ())]
    if family_of(estimator) == DEEP:
        packages.append("torch")
    return _pinned(*packages)


def log_fitted_model(
    tracked: Any, estimator: Any, pipeline: Any, example_rows: Any, register_as: Optional[str] = None
) -> str:
    """Log the fitted pipeline on the tracked run (and register it as
    `register_as`); return its model URI. `example_rows`: a few raw training
    rows, the input example and the signature's columns."""
    from mlflow.entities import LoggedModelStatus
    from mlflow.models import Model, infer_signature

    example = example_rows.head(_N_EXAMPLE_ROWS).rename(columns=str)
    model = RawRowModel(pipeline, _portable(estimator))
    signature = infer_signature(example, model.predict(None, example))
    with fluent_tracking_uri(tracked.client.tracking_uri), _without_pickle_warning("mlflow.pyfunc"):
        logged = mlflow.initialize_logged_model(
            name=MODEL_NAME, source_run_id=tracked.run_id, experiment_id=tracked.experiment_id
        )
        try:
            # Model.log takes the run by id, which mlflow.pyfunc.log_model does not pass on.
            info = Model.log(
                artifact_path=None,
                flavor=mlflow.pyfunc,
                python_model=model,
                signature=signature,
                input_example=example,
                pip_requirements=_requirements(estimator),
                registered_model_name=register_as,
                model_id=logged.model_id,
                run_id=tracked.run_id,
            )
        except BaseException:
            mlflow.finalize_logged_model(logged.model_id, LoggedModelStatus.FAILED)  # not left PENDING
            raise
    return info.model_uri
