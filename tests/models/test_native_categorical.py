"""Categorical columns reach the models that can take them natively (XGBoost,
LightGBM, CatBoost, scikit-learn's HistGradientBoosting) in that form, not
one-hot; the MLP still gets one-hot; the split and the training-only fit are
the same for both; `model.native_categorical=false` is the one-hot ablation."""

import logging

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from src.data import make_split, prepare
from src.data.preprocessing import PreprocessOptions
from src.data.types import Dataset
from src.job.runner import run
from src.models import build_estimator
from src.models.registry import REGISTRY, takes_native_categorical
from tests.conftest import make_spec, runs_of

# The label is a non-monotone function of the category's sorted code, so one
# native split separates the classes where ordinal codes would need several.
CATEGORIES = np.array(["c0", "c1", "c2", "c3", "c4", "c5"])
POSITIVE = {"c1", "c3", "c4"}
FAST = {
    "xgboost": ("model.n_estimators=60",),
    "lightgbm": ("model.n_estimators=60",),
    "catboost": ("model.iterations=60",),
    "gradient_boosting": ("model.max_iter=30",),
}
NATIVE = tuple(FAST)


def _frame(n: int = 800, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    colour = rng.choice(CATEGORIES, n)
    y = np.isin(colour, list(POSITIVE)).astype(int)
    flip = rng.random(n) < 0.03  # a little label noise
    y[flip] = 1 - y[flip]
    return pd.DataFrame({"x": rng.normal(size=n), "colour": colour.astype(object)}), y


@pytest.fixture(scope="module")
def table():
    """The table, its split, a category that only the test rows have, and the
    native preparation."""
    X, y = _frame()
    data = Dataset("toy", "binary", X, y, "test", class_names=["no", "yes"], categorical=("colour",))
    split = make_split(data, seed=0, test_size=0.25, val_size=0.15)
    X.loc[X.index[split.test[:10]], "colour"] = "never_in_training"
    native = prepare(data, split, standardize=True, options=PreprocessOptions().for_model(True))
    assert native.categorical_features == (1,) and np.isnan(native.X_test[:10, 1]).all()
    return data, split, native


def _fitted(name, data, prepared, *overrides):
    cfg = make_spec(f"model={name}", *FAST[name], *overrides)
    estimator = build_estimator(cfg, data.task, data.n_classes, prepared.categorical_features)
    with threadpool_limits(1):
        return estimator.fit(prepared.X_train, prepared.y_train, eval_set=(prepared.X_val, prepared.y_val))


def _library_saw_categorical(name: str, fitted) -> list[bool]:
    """Per column: whether the fitted library model treats it as categorical."""
    model = fitted.estimator_
    if name == "xgboost":
        return [t == "c" for t in model.get_booster().feature_types or ["q", "q"]]  # None: all numeric
    if name == "lightgbm":  # a categorical feature lists its category values; a numeric one, none
        infos = model.booster_.dump_model()["feature_infos"].values()
        return [bool(info.get("values")) for info in infos]
    if name == "catboost":
        return [j in model.get_cat_feature_indices() for j in range(2)]
    return list(model.is_categorical_) if model.is_categorical_ is not None else [False, False]  # None: none


def test_the_registry_marks_exactly_the_models_that_take_categories_natively():
    assert {name for name, spec in REGISTRY.items() if spec.native_categorical} == set(NATIVE)
    for name in NATIVE:
        assert takes_native_categorical(make_spec(f"model={name}").model)
        assert not takes_native_categorical(make_spec(f"model={name}", "model.native_categorical=false").model)
    for name in ("mlp", "random_forest", "logistic_regression"):
        assert not takes_native_categorical(make_spec(f"model={name}").model)


@pytest.mark.parametrize("name", NATIVE)
def test_each_native_model_sees_the_column_as_categorical_and_predicts_well(table, name):
    data, split, native = table
    fitted = _fitted(name, data, native)
    assert _library_saw_categorical(name, fitted) == [False, True]
    predicted = fitted.predict(native.X_test)  # 10 rows with a category not seen in training
    assert predicted.shape == native.y_test.shape
    seen = slice(10, None)
    assert np.mean(predicted[seen] == native.y_test[seen]) >= 0.9, name
    assert fitted.predict_proba(native.X_test).shape == (len(native.y_test), 2)


@pytest.mark.parametrize("name", NATIVE)
def test_built_without_the_indices_the_codes_are_plain_numbers(table, name):
    """What the check above tells apart: codes handed to the library as numbers."""
    data, split, native = table
    cfg = make_spec(f"model={name}", *FAST[name])
    fitted = build_estimator(cfg, data.task, data.n_classes).fit(
        native.X_train, native.y_train, eval_set=(native.X_val, native.y_val)
    )
    assert not any(_library_saw_categorical(name, fitted))


def test_histogram_boosting_keeps_a_column_of_more_categories_than_bins_as_codes(table, caplog):
    data, split, native = table
    estimator = build_estimator(make_spec("model=gradient_boosting"), data.task, data.n_classes, (1,))
    estimator.estimator.set_params(max_bins=4)  # 6 categories do not fit in 4 bins
    with caplog.at_level(logging.WARNING, logger="src.models.classical"):
        estimator.fit(native.X_train, native.y_train)
    assert estimator.estimator_.is_categorical_ is None  # no categorical column left
    assert "categorical column 1 has 6 categories, more than max_bins=4" in caplog.text


def test_through_the_runner_native_models_and_the_mlp_share_the_split_and_differ_only_in_encoding(
    tmp_path, mlflow_client
):
    X, y = _frame(400, seed=1)
    X.assign(label=np.where(y == 1, "yes", "no")).to_csv(tmp_path / "colours.csv", index=False)
    table = ("dataset=table", f"dataset.path='{tmp_path / 'colours.csv'}'", "dataset.target=label")
    results = {
        "mlp": run(make_spec("model=mlp", *table, "trainer.max_epochs=2", "model.hidden_sizes=[8]")),
        "lightgbm": run(make_spec("model=lightgbm", *table, *FAST["lightgbm"])),
        "catboost": run(make_spec("model=catboost", *table, *FAST["catboost"], "tracking.log_model=true")),
        "onehot": run(
            make_spec("model=gradient_boosting", *table, "model.native_categorical=false", "tracking.run_name=onehot")
        ),
    }
    records = {r.info.run_name: r for r in runs_of(mlflow_client)}
    params = {name: records[result.run_name].data.params for name, result in results.items()}
    assert all(records[r.run_name].info.status == "FINISHED" for r in results.values())
    assert len({p["split_digest"] for p in params.values()}) == 1
    assert {name: p["categorical_handling"] for name, p in params.items()} == {
        "mlp": "onehot",
        "lightgbm": "native",
        "catboost": "native",
        "onehot": "onehot",
    }
    assert params["mlp"]["n_features"] == params["onehot"]["n_features"] == str(1 + len(CATEGORIES))
    assert params["lightgbm"]["n_features"] == params["catboost"]["n_features"] == "2"
    for name in ("lightgbm", "catboost"):
        assert results[name].metrics["test_accuracy"] >= 0.85, (name, results[name].metrics)
    # The logged CatBoost pipeline takes raw rows, a missing and an unseen category included.
    import mlflow.pyfunc

    logged = mlflow.pyfunc.load_model(results["catboost"].model_uri)
    rows = pd.DataFrame({"x": [0.0, 0.0, 0.0], "colour": ["c1", None, "never-seen"]})
    assert set(logged.predict(rows)) <= {"yes", "no"} and len(logged.predict(rows)) == 3
    model = logged.unwrap_python_model()
    assert model.estimator.predict_proba(model.pipeline.features(rows)).shape == (3, 2)


def test_lightgbm_categorical_split_settings_reach_the_library(table):
    """A category group needs min_data_per_group rows (LightGBM's 100 by default):
    on a small table that setting decides whether categorical splits happen at all."""
    data, split, native = table
    fitted = _fitted("lightgbm", data, native, "model.min_data_per_group=7", "model.cat_smooth=2.5")
    params = fitted.estimator_.booster_.params
    assert (params["min_data_per_group"], params["cat_smooth"], params["max_cat_to_onehot"]) == (7, 2.5, 4)
