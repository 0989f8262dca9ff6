"""Every registered estimator passes scikit-learn's own estimator checks.

Each option of src/models/registry.py is built as a run builds it (from its
composed config, by its registry builder), for each kind of task it can do,
and handed to `parametrize_with_checks`. A check an estimator is expected to
fail is named below with the reason; none of them is about validating input.
The deep estimators are kept tiny (2 epochs, 8 units) so that the file runs in
about a minute on two cores.
"""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from src.data.types import Task
from src.models.deep import MLPEstimator
from src.models.registry import REGISTRY, build
from tests.conftest import make_spec

pytestmark = pytest.mark.slow

# What makes each option quick to fit here; its defaults otherwise.
SMALL = {
    "mlp": ("model.hidden_sizes=[8]", "trainer.max_epochs=2", "trainer.cpu_threads=1"),
    # mlp_plus keeps its best validation epoch, and the checks fit without a validation split: the last epoch.
    "mlp_plus": (
        "model.hidden_sizes=[8]",
        "model.ensemble_size=2",
        "trainer.max_epochs=2",
        "trainer.cpu_threads=1",
        "trainer.keep_epoch=last",
    ),  # fmt: skip
    "random_forest": ("model.n_estimators=10",),
    # Without the run's validation split, the boosting libraries train every round.
    "xgboost": ("model.n_estimators=10", "model.early_stopping_rounds=null", "trainer.cpu_threads=1"),
    "lightgbm": ("model.n_estimators=10", "model.early_stopping_rounds=null", "trainer.cpu_threads=1"),
    # check_regressors_train wants R^2 > 0.5: 10 rounds at CatBoost's small automatic rate fall short.
    "catboost": ("model.iterations=100", "model.early_stopping_rounds=null", "trainer.cpu_threads=1"),
}


def _registered_estimators():
    for name, spec in REGISTRY.items():
        cfg = make_spec(f"model={name}", *SMALL.get(name, ()))
        for task in (Task.regression, Task.multiclass):
            if task not in spec.tasks:
                continue
            estimator = build(cfg, task, n_classes=3)
            if spec.family == "deep":
                # A run tells the MLP the dataset's classes (0..n-1); the checks use their own labels.
                estimator.set_params(classes=None)
            yield estimator


# The checks an estimator is expected to fail, each with its reason. Only the
# deep estimators have any, and only checks of fit quality: trained here for 2
# epochs (the file's time budget), an MLP does not reach the score these checks
# ask for (accuracy > 0.83, R^2 > 0.5); 20 epochs do not either, at the recipes'
# learning rates. Their fit quality is tested in test_deep_estimator.py and
# test_mlp_plus.py.
_TOO_FEW_EPOCHS = "2 epochs (kept tiny for time) do not reach the check's score threshold"
DEEP_EXPECTED_FAILURES = {
    "check_classifiers_train": _TOO_FEW_EPOCHS,
    "check_regressors_train": _TOO_FEW_EPOCHS,
}


def expected_failed_checks(estimator) -> dict[str, str]:
    return DEEP_EXPECTED_FAILURES if isinstance(estimator, MLPEstimator) else {}


@parametrize_with_checks(list(_registered_estimators()), expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
