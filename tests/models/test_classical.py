"""The classical options: every one fits and predicts on every task it can do,
refuses the others clearly, and takes its hyperparameters from the config."""

import warnings

import numpy as np
import pytest
from hydra.errors import ConfigCompositionException
from threadpoolctl import threadpool_limits

from src.data import load_dataset, make_split, prepare
from src.errors import ConfigError
from src.job.runner import validate
from src.models import build_estimator, model_family
from src.models.classical import count_parameters
from src.models.registry import CLASSICAL, REGISTRY, models_for
from tests.conftest import CONF_DIR, make_spec

CLASSICAL_MODELS = [name for name, spec in REGISTRY.items() if spec.family == CLASSICAL]
# Kept small so that the whole matrix fits in a few seconds.
FAST = {
    "random_forest": ("model.n_estimators=10",),
    "gradient_boosting": ("model.max_iter=10",),
    "sklearn_mlp": ("model.hidden_layer_sizes=[16]", "model.max_iter=30"),
    # Early stopping (tests/models/test_boosting.py) needs a validation split,
    # which the workshop datasets do not have.
    "xgboost": ("model.n_estimators=20", "model.early_stopping_rounds=null"),
    "lightgbm": ("model.n_estimators=20", "model.early_stopping_rounds=null"),
    "catboost": ("model.iterations=20", "model.early_stopping_rounds=null"),
}
DATASETS = {"regression": "workshop_regression", "binary": "workshop_circles", "multiclass": "digits"}
_prepared: dict[str, tuple] = {}


def tasks_of(name: str) -> tuple:
    return REGISTRY[name].tasks


def _data(dataset: str):
    """The runner's own data path (load, split, preprocess), cached per dataset."""
    if dataset not in _prepared:
        cfg = make_spec(f"dataset={dataset}")
        ds = load_dataset(cfg.dataset)
        split = make_split(ds, seed=0, test_size=cfg.dataset.test_size, val_size=cfg.dataset.val_size)
        _prepared[dataset] = (ds, prepare(ds, split, standardize=True))
    return _prepared[dataset]


def test_every_classical_option_has_a_config_and_a_schema():
    options = {p.stem for p in (CONF_DIR / "model").glob("*.yaml")}
    assert set(CLASSICAL_MODELS) <= options
    for name in CLASSICAL_MODELS:
        cfg = make_spec(f"model={name}")
        assert cfg.model.name == name and model_family(cfg.model) == "classical"


@pytest.mark.parametrize("task", list(DATASETS))
@pytest.mark.parametrize("name", CLASSICAL_MODELS)
def test_every_option_fits_and_predicts_or_refuses_the_task(name, task):
    cfg = make_spec(f"model={name}", f"dataset={DATASETS[task]}", *FAST.get(name, ()))
    if task not in tasks_of(name):
        with pytest.raises(ConfigError) as refused:
            validate(cfg)  # before any data is loaded
        message = str(refused.value)
        assert f"model={name} cannot do a {task} task" in message
        assert "models that can: " + ", ".join(models_for(task)) in message
        with pytest.raises(ConfigError, match="models that can"):  # and again before fitting
            build_estimator(cfg, task, 2)
        return
    validate(cfg)
    dataset, data = _data(DATASETS[task])
    estimator = build_estimator(cfg, dataset.task, dataset.n_classes)
    # One thread: OpenMP's spinning threads (gradient boosting) crawl on a busy
    # shared machine, and these fits are about correctness, not speed.
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")  # ConvergenceWarning of the deliberately short runs
        assert estimator.fit(data.X_train, data.y_train, eval_set=(data.X_val, data.y_val)) is estimator
    predicted = estimator.predict(data.X_test)
    assert predicted.shape == (len(data.X_test),)
    if name == "dummy":  # the constant baseline
        assert len(np.unique(predicted)) == 1
    elif task == "regression":
        assert np.all(np.isfinite(predicted))
        # On the standardized target a sensible fit beats predicting the mean.
        assert np.mean((predicted - data.y_test) ** 2) < np.var(data.y_test)
    else:
        assert set(np.unique(predicted)) <= set(range(dataset.n_classes))
    if name == "knn":
        assert estimator.n_params_ is None  # undefined: it keeps the training set
    else:
        assert isinstance(estimator.n_params_, int) and estimator.n_params_ > 0


def test_the_task_table_matches_scikit_learn():
    assert models_for("regression")[:2] == ["mlp", "linear_regression"]
    assert "linear_regression" not in models_for("binary")
    for name in ("logistic_regression", "naive_bayes", "perceptron"):
        assert tasks_of(name) == ("binary", "multiclass")
    for name in CLASSICAL_MODELS:
        spec = REGISTRY[name]
        assert spec.classifier or spec.regressor, name
        assert ("regression" in spec.tasks) == (spec.regressor is not None), name
        assert ("binary" in spec.tasks) == ("multiclass" in spec.tasks) == (spec.classifier is not None), name


def test_the_task_picks_classifier_or_regressor():
    def inner(task, *overrides):
        return build_estimator(make_spec(*overrides), task, 2).estimator

    assert type(inner("binary", "model=svm")).__name__ == "SVC"
    assert type(inner("regression", "model=svm")).__name__ == "SVR"
    assert type(inner("multiclass", "model=gradient_boosting")).__name__ == "HistGradientBoostingClassifier"
    assert type(inner("regression", "model=gradient_boosting")).__name__ == "HistGradientBoostingRegressor"
    assert type(inner("binary", "model=ridge")).__name__ == "RidgeClassifier"
    assert type(inner("regression", "model=sklearn_mlp")).__name__ == "MLPRegressor"
    assert type(inner("binary", "model=xgboost")).__name__ == "XGBClassifier"
    assert type(inner("regression", "model=xgboost")).__name__ == "XGBRegressor"
    assert type(inner("multiclass", "model=lightgbm")).__name__ == "LGBMClassifier"
    assert type(inner("regression", "model=lightgbm")).__name__ == "LGBMRegressor"
    assert type(inner("binary", "model=catboost")).__name__ == "CatBoostClassifier"
    assert type(inner("regression", "model=catboost")).__name__ == "CatBoostRegressor"
    majority, mean = inner("binary", "model=dummy"), inner("regression", "model=dummy")
    assert (type(majority).__name__, majority.strategy) == ("DummyClassifier", "most_frequent")
    assert (type(mean).__name__, mean.strategy) == ("DummyRegressor", "mean")


def test_hyperparameters_and_seed_reach_the_estimator():
    svm = build_estimator(make_spec("model=svm", "model.C=10", "model.kernel=linear", "seed=3"), "binary", 2)
    assert svm.estimator.C == 10 and svm.estimator.kernel == "linear" and svm.estimator.random_state == 3
    assert build_estimator(make_spec("model=svm"), "binary", 2).estimator.kernel == "rbf"  # the workshop's
    forest = build_estimator(
        make_spec("model=random_forest", "model.n_estimators=300", "model.max_depth=5", "seed=7"), "binary", 2
    ).estimator
    assert (forest.n_estimators, forest.max_depth, forest.random_state) == (300, 5, 7)
    mlp = build_estimator(make_spec("model=sklearn_mlp", "model.hidden_layer_sizes=[8,4]"), "binary", 2).estimator
    assert mlp.hidden_layer_sizes == (8, 4) and mlp.batch_size == "auto" and mlp.random_state == 0
    assert build_estimator(make_spec("model=gradient_boosting"), "binary", 2).estimator.early_stopping is False


@pytest.mark.parametrize(
    "override, expected",
    [("model.no_such_key=1", "no_such_key"), ("model.kernel=bogus", "kernel"), ("model.C=big", "model.C")],
)
def test_a_bad_hyperparameter_fails_at_composition(override, expected):
    with pytest.raises(ConfigCompositionException) as failed:
        make_spec("model=svm", override)
    assert expected in str(failed.value) + str(failed.value.__cause__)


def test_the_seed_reaches_the_model():
    dataset, data = _data("workshop_circles")

    def predictions(seed):
        cfg = make_spec("model=random_forest", "model.n_estimators=5", f"seed={seed}")
        estimator = build_estimator(cfg, dataset.task, dataset.n_classes).fit(data.X_train, data.y_train)
        return estimator.estimator_.predict_proba(data.X_test)

    np.testing.assert_array_equal(predictions(0), predictions(0))  # the same seed, the same forest
    assert not np.array_equal(predictions(0), predictions(1))  # another seed, other bootstraps


def test_n_params_counts_what_each_family_learns():
    dataset, data = _data("workshop_regression")

    def fitted(name, task="regression", d=data):
        return build_estimator(make_spec(f"model={name}"), task, 2).fit(d.X_train, d.y_train)

    assert fitted("linear_regression").n_params_ == 2  # one weight and the intercept
    tree = fitted("decision_tree")
    assert tree.n_params_ == tree.estimator_.tree_.node_count
    _, circles = _data("workshop_circles")
    nb = fitted("naive_bayes", "binary", circles)
    assert nb.n_params_ == 2 * 2 + 2 * 2 + 2  # means and variances of 2 features x 2 classes, 2 priors
    svm = fitted("svm", "binary", circles).estimator_
    assert count_parameters(svm) == svm.support_vectors_.size + svm.dual_coef_.size + 1
    assert fitted("dummy").n_params_ == 1  # the training mean
    assert fitted("dummy", "binary", circles).n_params_ == 2  # the two class frequencies


def test_a_single_output_linear_model_reports_its_weights_like_the_single_neuron():
    cfg = make_spec("model=linear_regression", "dataset=seed_table1")
    dataset = load_dataset(cfg.dataset)
    split = make_split(dataset, seed=0, test_size=0, val_size=0, fit_only=True)
    data = prepare(dataset, split, standardize=False)
    weights = build_estimator(cfg, dataset.task, 0).fit(data.X_train, data.y_train).learned_weights()
    assert weights["weight_1"] == pytest.approx(5, abs=1e-4) and weights["bias"] == pytest.approx(
        -1, abs=1e-4
    )  # the slides' w, b
