"""The fitted pipeline as one MLflow model, when `tracking.log_model=true`.

The model is an `mlflow.pyfunc` model that takes the user's raw rows -- the
dataset's feature columns, missing cells and text categories included -- and
returns predictions in the original labels or the target's units: the
preprocessing fitted on the run's training split, the fitted estimator (deep
or classical) and the label decoding or inverse target scaling travel
together (`RawRowModel`). It carries a signature and an input example in the
raw columns, so that

    mlflow.pyfunc.load_model("models:/<model id>").predict(raw_frame)
    mlflow models predict -m models:/<model id> -i rows.csv -t csv --env-manager local

both work, and `tracking.register_as=<name>` registers it in the model
registry, with a description of the run it comes from. The model takes every
row the table reader takes: its signature types each raw column `any`, and
the pipeline types the columns as the reader does. It carries the run's
params and final metrics (shown on its page), and is named after its run
(`mlp-digits-n512-s0`, the characters MLflow refuses in a name as `_`;
also as the tag `mlvsdl.run_name`), so that the experiment's Models tab tells
its models apart. The run's line prints its URI, `models:/<model id>` (also on
the run's page, and `runs:/<run id>/<run name>` finds it too). The
project's `src` package travels with it (`code_paths`), and its requirements
pin released versions (no local `+cpu`), so that a fresh environment
(`--env-manager virtualenv`) can build and load it; `make serve MODEL=...`
serves it from this environment.

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
from pathlib import Path
from typing import Any, Iterator, Optional

import mlflow.pyfunc

from src.tracking.mlflow_run import fluent_tracking_uri

MODEL_NAME = "model"  # the name of a model whose run has none
_NOT_IN_A_MODEL_NAME = ("/", ":", ".", "%", '"', "'")  # MLflow refuses them in a logged model's name
RUN_NAME_TAG = "mlvsdl.run_name"  # the run's name on its model, searchable in the UI
PROJECT_CODE = Path(__file__).resolve().parents[1]  # the `src` package, bundled as code_paths
_N_EXAMPLE_ROWS = 5


def _pinned(*packages: str) -> list[str]:
    """`name==version` for each package, without a local version label (torch's
    `+cpu` is no version a package index serves: a fresh environment could not
    install it); a name written `a|b` is the first of these distributions
    installed (xgboost ships as `xgboost` or `xgboost-cpu`)."""
    pins = []
    for package in packages:
        for name in package.split("|"):
            try:
                pins.append(f"{name}=={metadata.version(name).split('+', 1)[0]}")
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

    # No type hints on predict's input: MLflow would try to infer a signature from them
    # and warn (twice per model) that it cannot; the signature is built from the columns.
    _skip_type_hint_validation = True

    def predict(self, context, model_input, params=None):
        import numpy as np
        import pandas as pd

        rows = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        if len(rows) == 0:  # the estimators refuse an empty array
            self.pipeline.typed(rows)  # still names a missing column
            return self.pipeline.decode(np.empty(0, dtype=np.int64))
        return self.pipeline.decode(self.estimator.predict(self.pipeline.features(rows)))


def raw_row_signature(example: Any, predictions: Any) -> Any:
    """The raw columns, each of type `any`: the model types its input as the table
    reader does (numbers that do not parse and empty cells read as missing,
    categories as text), so MLflow's own type check must not refuse a row first --
    a column whose first rows are empty, an integer column declared categorical,
    a numeric column with an 'unknown' cell, rows read back from Parquet."""
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types.schema import AnyType, ColSpec, Schema

    inputs = Schema([ColSpec(AnyType(), str(name)) for name in example.columns])
    return ModelSignature(inputs=inputs, outputs=infer_signature(example, predictions).outputs)


DEEP = "deep"  # the family the caller names (the registry declares it; tracking does not import models)


def _portable(estimator: Any, family: str) -> Any:
    """The estimator as it can be pickled and loaded anywhere: an MLP's network on the CPU."""
    if family != DEEP:
        return estimator
    import torch

    portable = copy.deepcopy(estimator)
    portable.net_ = portable.net_.cpu().eval()
    portable.device_ = torch.device("cpu")
    return portable


def _requirements(estimator: Any, family: str) -> list[str]:
    packages = ["mlflow", "scikit-learn", "numpy", "pandas", "cloudpickle", *getattr(estimator, "requirements", ())]
    if family == DEEP:
        packages.append("torch")
    return _pinned(*packages)


def log_fitted_model(
    tracked: Any,
    estimator: Any,
    pipeline: Any,
    example_rows: Any,
    register_as: Optional[str] = None,
    family: str = "classical",
) -> str:
    """Log the fitted pipeline on the tracked run (and register it as
    `register_as`); return its model URI. `example_rows`: a few raw training
    rows, the input example and the signature's columns. Call it once the run's
    final metrics and params are logged: the model carries them."""
    from mlflow.entities import LoggedModelStatus
    from mlflow.models import Model

    example = example_rows.head(_N_EXAMPLE_ROWS).rename(columns=str)
    model = RawRowModel(pipeline, _portable(estimator, family))
    signature = raw_row_signature(example, model.predict(None, example))
    tracked.flush()  # the buffered final metrics, params and name: the model carries them
    run = tracked.client.get_run(tracked.run_id)
    with fluent_tracking_uri(tracked.client.tracking_uri), _without_pickle_warning("mlflow.pyfunc"):
        logged = mlflow.initialize_logged_model(
            # The run's name: the experiment's Models tab tells its models apart.
            name=model_name(run.info.run_name),
            source_run_id=tracked.run_id,
            experiment_id=tracked.experiment_id,
            params={key: str(value)[:6000] for key, value in run.data.params.items()},
            tags={RUN_NAME_TAG: run.info.run_name or ""},
        )
        try:
            # Model.log takes the run by id, which mlflow.pyfunc.log_model does not pass on.
            info = Model.log(
                artifact_path=None,
                flavor=mlflow.pyfunc,
                python_model=model,
                signature=signature,
                input_example=example,
                pip_requirements=_requirements(estimator, family),
                # The project's own code travels with the model: a fresh environment
                # (mlflow models serve with virtualenv or conda) can unpickle it.
                code_paths=[str(PROJECT_CODE)],
                registered_model_name=register_as,
                model_id=logged.model_id,
                run_id=tracked.run_id,
            )
            _attach_final_metrics(tracked, logged.model_id, run.data.metrics)
        except BaseException:
            mlflow.finalize_logged_model(logged.model_id, LoggedModelStatus.FAILED)  # not left PENDING
            raise
    if register_as:
        _describe_version(tracked.client, register_as, info, run)
    return info.model_uri


def model_name(run_name: str | None) -> str:
    """The logged model's name: its run's, with the characters MLflow refuses as `_`."""
    name = run_name or MODEL_NAME
    for char in _NOT_IN_A_MODEL_NAME:
        name = name.replace(char, "_")
    return name


def _attach_final_metrics(tracked: Any, model_id: str, metrics: dict[str, float]) -> None:
    """The run's final metrics (step 0) as the model's own, shown on its page."""
    import time

    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    entries = [Metric(key, float(value), now, 0, model_id=model_id) for key, value in sorted(metrics.items())]
    for start in range(0, len(entries), 1000):  # MLflow's batch limit
        tracked.client.log_batch(tracked.run_id, metrics=entries[start : start + 1000])


def _describe_version(client: Any, name: str, info: Any, run: Any) -> None:
    """A registered version says what it is: which run, model and data, and how it scored."""
    version = getattr(info, "registered_model_version", None)
    if version is None:
        return
    params, metrics = run.data.params, run.data.metrics
    scores = ", ".join(f"{key}={value:.4g}" for key, value in sorted(metrics.items()) if key.startswith("test_"))
    description = (
        f"Run {run.info.run_name} ({run.info.run_id}): model={params.get('model.name', '?')} on "
        f"dataset={params.get('dataset.name', '?')}, seed={params.get('seed', '?')}. "
        f"Takes raw rows (the dataset's feature columns); returns labels or the target's units."
        + (f" Test scores: {scores}." if scores else "")
    )
    client.update_model_version(name, str(version), description=description)
