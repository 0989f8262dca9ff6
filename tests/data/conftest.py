"""Fixtures of the data tests."""

import pytest


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory):
    """One MLflow store for all the runs of a test module (creating a store costs seconds);
    tests tell their runs apart by `tracking.run_name`."""
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path_factory.mktemp('store') / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        patch.delenv("MLFLOW_PARENT_RUN_ID", raising=False)
        yield MlflowClient(tracking_uri=uri)
