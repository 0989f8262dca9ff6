"""dataset=table: the user's own CSV / Parquet file, and every way it can be wrong."""

import numpy as np
import pandas as pd
import pytest
from hydra.errors import ConfigCompositionException

from src.data import load_dataset, make_split, prepare
from src.data.preprocessing import PreprocessOptions
from src.errors import ConfigError, DataError, one_line
from src.job.runner import run, validate
from tests.conftest import make_spec, run_cli, runs_of


def _cfg(path, *overrides, target="y"):
    return make_spec("dataset=table", f"dataset.path='{path}'", f"dataset.target={target}", *overrides)


def _load(path, *overrides, target="y"):
    return load_dataset(_cfg(path, *overrides, target=target).dataset)


def _write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _good_frame(n=60, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "size": rng.normal(100, 20, n).round(1),
            "city": rng.choice(["paris", "lyon", "nice"], n),
            "rooms": rng.integers(1, 6, n),
        }
    )
    frame["y"] = np.where(frame["size"] + 10 * frame["rooms"] > 130, "yes", "no")
    return frame


# --------------------------------------------------------------------------- reading a good table


def test_csv_with_numeric_and_categorical_columns_missing_cells_and_targets(tmp_path):
    frame = _good_frame()
    frame.loc[[3, 7], "size"] = np.nan
    frame.loc[5, "city"] = np.nan
    frame.loc[[9, 11], "y"] = np.nan
    path = tmp_path / "houses.csv"
    frame.to_csv(path, index=False)

    data = _load(path)
    assert data.task == "binary" and data.class_names == ["no", "yes"]
    assert data.n_rows == 58 and data.n_dropped_rows == 2  # counted, never silent
    assert data.categorical == ("city",) and data.X["size"].dtype == np.float64
    assert data.path == str(path) and data.source_kind == "local"

    split = make_split(data, seed=0, test_size=0.2, val_size=0.1)
    prepared = prepare(data, split, standardize=True)
    assert prepared.n_imputed_cells == 3
    assert prepared.n_features == 2 + 3  # size, rooms + one column per city
    assert np.isfinite(prepared.X_train).all() and np.isfinite(prepared.X_test).all()


def test_parquet_reads_like_csv(tmp_path):
    frame = _good_frame()
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet")
    from_csv, from_parquet = _load(tmp_path / "t.csv"), _load(tmp_path / "t.parquet")
    assert from_parquet.task == from_csv.task and np.array_equal(from_parquet.y, from_csv.y)
    pd.testing.assert_frame_equal(from_parquet.X, from_csv.X)


@pytest.mark.parametrize(
    "values, task",
    [
        (["a", "b"] * 10, "binary"),
        ([0, 1] * 10, "binary"),
        (["a", "b", "c", "d"] * 5, "multiclass"),
        ([1, 2, 3, 4] * 5, "multiclass"),
        (list(np.linspace(0, 1, 20)), "regression"),
        (list(range(20)), "multiclass"),  # up to 20 whole values: classes
    ],
)
def test_task_is_inferred_from_the_target(tmp_path, values, task):
    pd.DataFrame({"x": np.arange(len(values)), "y": values}).to_csv(tmp_path / "t.csv", index=False)
    assert _load(tmp_path / "t.csv").task == task


def test_many_whole_values_are_regression_and_the_task_can_be_overridden(tmp_path):
    pd.DataFrame({"x": np.arange(100), "y": np.arange(100) * 3}).to_csv(tmp_path / "t.csv", index=False)
    assert _load(tmp_path / "t.csv").task == "regression"
    pd.DataFrame({"x": np.arange(40), "y": [1, 2] * 20}).to_csv(tmp_path / "b.csv", index=False)
    assert _load(tmp_path / "b.csv", "dataset.task=multiclass").task == "multiclass"


def test_text_is_data_never_code(tmp_path):
    # The payload names its file by absolute path, so that evaluating it anywhere
    # (whatever the working directory) would leave the file this test looks for.
    formula = f"__import__('os').system('touch {tmp_path / 'pwned'}')"
    frame = pd.DataFrame({"x": [formula, "=1+1"] * 10, "z": range(20), "y": [0, 1] * 10})
    frame.to_csv(tmp_path / "t.csv", index=False)
    data = _load(tmp_path / "t.csv")
    assert data.categorical == ("x",) and set(data.X["x"]) == {formula, "=1+1"}
    assert not (tmp_path / "pwned").exists()


def test_a_few_unparseable_cells_in_a_numeric_column_are_missing_and_counted(tmp_path):
    _write(tmp_path, "x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(18)) + "?,0\nn/a?,1\n")
    data = _load(tmp_path / "data.csv")
    assert data.categorical == () and data.n_unparseable_cells == 2 and data.X["x"].isna().sum() == 2
    assert _load(tmp_path / "data.csv", "dataset.na_values=['?','n/a?']").n_unparseable_cells == 0


def test_column_overrides_and_drops(tmp_path):
    frame = _good_frame()
    frame["zip"] = [75001, 69001, 6000] * 20
    frame["id"] = range(60)
    frame.to_csv(tmp_path / "t.csv", index=False)
    data = _load(tmp_path / "t.csv", "dataset.categorical_columns=[zip]", "dataset.drop_columns=[id]")
    assert set(data.categorical) == {"city", "zip"} and "id" not in data.X.columns
    assert set(data.X["zip"]) == {"75001", "69001", "6000"}


def test_another_delimiter_is_hinted_at_and_can_be_set(tmp_path):
    _write(tmp_path, "x;zip;y\n" + "".join(f"{i};{75000 + i % 3};{i % 2}\n" for i in range(20)) + "20;;1\n")
    with pytest.raises(DataError, match="is the delimiter ';'\\? set dataset.sep"):
        _load(tmp_path / "data.csv")
    data = _load(tmp_path / "data.csv", "dataset.sep=';'", "dataset.categorical_columns=[zip]")
    assert data.X.shape == (21, 2) and set(data.X["zip"].dropna()) == {"75000", "75001", "75002"}


def test_imputation_and_encoding_strategies_are_configurable(tmp_path):
    frame = _good_frame()
    frame.loc[0:4, "size"] = np.nan
    frame.loc[0:4, "city"] = np.nan
    frame.to_csv(tmp_path / "t.csv", index=False)
    cfg = _cfg(tmp_path / "t.csv", "dataset.impute_numeric=constant", "dataset.impute_categorical=constant",
               "dataset.categorical_encoding=ordinal")  # fmt: skip
    data = load_dataset(cfg.dataset)
    split = make_split(data, seed=0, test_size=0.2, val_size=0.1)
    prepared = prepare(data, split, standardize=False, options=PreprocessOptions.from_config(cfg.dataset))
    assert prepared.n_features == 3  # size, rooms, one ordinal city column
    missing_rows = [i for i, row in enumerate(split.train) if row <= 4]
    assert (prepared.X_train[missing_rows, 0] == 0).all()  # constant 0 for numbers
    encoder = prepared.preprocessor.named_transformers_["categorical"].named_steps["encode"]
    assert "missing" in list(encoder.categories_[0])  # constant 'missing' for text


# --------------------------------------------------------------------------- every bad table


def _bad_tables(tmp_path):
    """case -> (path, extra overrides, words the one-line message must contain)."""
    cases = {}

    def case(name, text, expected, *overrides, filename="data.csv"):
        path = tmp_path / name / filename
        path.parent.mkdir()
        if isinstance(text, bytes):
            path.write_bytes(text)
        elif text is not None:
            path.write_text(text)
        cases[name] = (path, overrides, expected)

    rows = "".join(f"{i},{i % 2}\n" for i in range(20))
    case("missing_file", None, "no such file")
    case(
        "unreadable_binary", b"PK\x03\x04\x00\x00garbage\xff\xfe\x00", "cannot be read as parquet", filename="t.parquet"
    )
    case("not_utf8", b"x,y\n" + "caf\xe9,1\n".encode("latin-1") * 10, "is not utf-8 text")
    case("malformed", "x,y\n1,0\n2,1,3,4\n", "cannot be parsed as CSV")
    case("unsupported_type", "x,y\n1,0\n", "unsupported file type", filename="t.xlsx")
    case("empty_file", "", "the file is empty")
    case("header_only", "x,y\n", "no rows")
    case("target_missing", "a,b\n" + rows, "the target column 'y' is missing; columns: 'a', 'b'")
    case("single_class", "x,y\n" + "".join(f"{i},1\n" for i in range(20)), "single class")
    case("all_nan_column", "x,empty,y\n" + "".join(f"{i},,{i % 2}\n" for i in range(20)), "'empty' is all missing")
    case(
        "duplicated_names", "x,x,y\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(20)), "duplicated column names: 'x'"
    )
    case(
        "mostly_unparseable",
        "price,y\n" + "".join(f'"${i},{i % 10}00",{i % 2}\n' for i in range(20)),
        "column 'price' looks numeric but 20 of its 20 values do not parse",
    )
    case("too_few_rows", "x,y\n1,0\n2,1\n", "fewer than the split needs")
    case(
        "more_classes_than_test_rows",
        "x,y\n" + "".join(f"{i},{i % 6}\n" for i in range(12)),
        "6 classes but the test split only 2 rows",
        "dataset.task=multiclass",
    )
    case("no_target_given", "x,y\n" + rows, "no target column given; set dataset.target to one of: 'x', 'y'")
    return cases


BAD = [
    "missing_file", "unreadable_binary", "not_utf8", "malformed", "unsupported_type", "empty_file",
    "header_only", "target_missing", "single_class", "all_nan_column", "duplicated_names",
    "mostly_unparseable", "too_few_rows", "more_classes_than_test_rows", "no_target_given",
]  # fmt: skip


def test_duplicated_names_in_parquet_are_caught_too(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table([pa.array([1, 2]), pa.array([3, 4]), pa.array([0, 1])], names=["a", "a", "y"])
    pq.write_table(table, tmp_path / "t.parquet")
    with pytest.raises(DataError, match="duplicated column names: 'a'"):
        _load(tmp_path / "t.parquet")


@pytest.mark.parametrize("case", BAD)
def test_each_bad_table_fails_in_one_line_naming_the_file_and_leaves_no_run_running(case, tmp_path, shared_store):
    path, overrides, expected = _bad_tables(tmp_path)[case]
    target = [] if case == "no_target_given" else ["dataset.target=y"]
    cfg = make_spec("dataset=table", f"dataset.path='{path}'", *target, *overrides,
                      f"tracking.run_name=bad-{case}", "trainer.max_epochs=1")  # fmt: skip
    with pytest.raises(DataError) as raised:
        run(cfg)
    message = str(raised.value)
    assert "\n" not in message and message.startswith(str(path)), message
    assert expected in message, message
    runs = runs_of(shared_store)
    assert all(r.info.status != "RUNNING" for r in runs)
    (record,) = [r for r in runs if r.info.run_name == f"bad-{case}"]
    assert record.info.status == "FAILED" and record.data.tags["error"] == message


def test_a_table_without_a_path_is_refused_before_any_run():
    with pytest.raises(ConfigError, match="dataset.path"):
        validate(make_spec("dataset=table"))
    # A field only tables read is not in another source's schema: refused as the config is composed.
    with pytest.raises(ConfigCompositionException) as raised:
        make_spec("dataset=digits", "dataset.path=x.csv")
    assert "Key 'path' not in 'BundledConfig'" in one_line(raised.value)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["target_missing", "too_few_rows"])
def test_bad_table_on_the_command_line_exits_non_zero_with_one_line(case, tmp_path, shared_store):
    path, overrides, expected = _bad_tables(tmp_path)[case]
    proc = run_cli("dataset=table", f"dataset.path='{path}'", "dataset.target=y", *overrides,
                   f"tracking.run_name=cli-{case}")  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: "), proc.stderr
    assert expected in lines[0], proc.stderr
    (record,) = [r for r in runs_of(shared_store) if r.info.run_name == f"cli-{case}"]
    assert record.info.status == "FAILED"


def test_an_inferred_task_is_checked_against_the_loss_and_the_model_before_fitting(tmp_path, shared_store):
    frame = _good_frame()
    frame["price"] = frame["size"] * 3.7 + 0.5
    frame.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(ConfigError, match="loss=bce does not fit a regression task"):
        run(_cfg(tmp_path / "t.csv", "dataset.drop_columns=[y]", "loss=bce", "tracking.run_name=auto-loss",
                 target="price"))  # fmt: skip
    with pytest.raises(ConfigError, match="model=linear_regression cannot do a binary task"):
        run(_cfg(tmp_path / "t.csv", "model=linear_regression", "tracking.run_name=auto-model"))
    statuses = {r.info.run_name: r.info.status for r in runs_of(shared_store)}
    assert statuses["auto-loss"] == statuses["auto-model"] == "FAILED"


# --------------------------------------------------------------------------- cells a feature cannot hold (issue 14)


@pytest.mark.parametrize(
    "cell, shown",
    [("inf", "inf"), ("-inf", "-inf"), ("1e300", "1e+300"), ("-2e200", "-2e+200")],
)
def test_infinite_or_huge_numbers_are_refused_naming_the_file_and_column(tmp_path, cell, shown):
    frame = _good_frame()
    frame["size"] = frame["size"].astype(str)
    frame.loc[4, "size"] = cell
    frame.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataError) as raised:
        _load(tmp_path / "t.csv")
    message = str(raised.value)
    assert message.startswith(f"{tmp_path / 't.csv'}: column 'size' holds infinite or huge numbers"), message
    assert f"1 in 'size', e.g. {shown}" in message and "\n" not in message


def test_an_infinite_regression_target_is_refused_naming_it(tmp_path):
    frame = _good_frame()
    frame["price"] = frame["size"] * 2.5
    frame.loc[2, "price"] = np.inf
    frame.drop(columns="y").to_parquet(tmp_path / "t.parquet")
    with pytest.raises(DataError, match="column 'price' holds infinite or huge numbers"):
        _load(tmp_path / "t.parquet", "dataset.task=regression", target="price")


def test_a_nan_is_missing_not_huge(tmp_path):
    frame = _good_frame()
    frame.loc[4, "size"] = np.nan
    frame.to_csv(tmp_path / "t.csv", index=False)
    assert _load(tmp_path / "t.csv").n_rows == len(frame)


@pytest.mark.parametrize(
    "column",
    [
        lambda pa, n: pa.array([[i, i + 1] for i in range(n)]),  # list
        lambda pa, n: pa.array([{"lat": 1.0 * i, "lon": 2.0} for i in range(n)]),  # struct
    ],
    ids=["list", "struct"],
)
def test_a_parquet_column_of_lists_or_structs_is_refused_naming_it(tmp_path, column):
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 40
    table = pa.table({"x": pa.array(range(n)), "nested": column(pa, n), "y": pa.array([i % 2 for i in range(n)])})
    pq.write_table(table, tmp_path / "t.parquet")
    with pytest.raises(DataError) as raised:
        _load(tmp_path / "t.parquet")
    assert str(raised.value).startswith(f"{tmp_path / 't.parquet'}: column 'nested' holds lists or structs")
    # Dropped, the rest of the table loads.
    assert _load(tmp_path / "t.parquet", "dataset.drop_columns=[nested]").feature_names == ["x"]


def _with_ids(n):
    frame = _good_frame(n)
    frame.insert(0, "customer_id", [f"C{i:06d}" for i in range(n)])
    return frame


def test_an_id_column_is_dropped_with_a_warning_and_recorded(tmp_path, caplog):
    _with_ids(20_000).to_csv(tmp_path / "t.csv", index=False)
    with caplog.at_level("WARNING"):
        data = _load(tmp_path / "t.csv")
    assert data.dropped_columns == ("customer_id",)
    assert data.feature_names == ["size", "city", "rooms"]
    (warning,) = [r.getMessage() for r in caplog.records if "customer_id" in r.getMessage()]
    assert warning.startswith(f"{tmp_path / 't.csv'}: dropped 'customer_id'")
    # The memory check: three one-hot columns for 'city', not 20,000 for the ids.
    split = make_split(data, seed=0, test_size=0.2, val_size=0.1)
    assert prepare(data, split, standardize=True).n_features == 5


def test_an_id_column_listed_as_categorical_is_kept(tmp_path):
    _with_ids(300).to_csv(tmp_path / "t.csv", index=False)
    data = _load(tmp_path / "t.csv", "dataset.categorical_columns=[customer_id]")
    assert data.dropped_columns == () and "customer_id" in data.categorical


def test_a_few_distinct_categories_are_not_ids(tmp_path):
    frame = _good_frame(300)
    frame["street"] = [f"street {i % 120}" for i in range(300)]  # 120 distinct on 300 rows: a category
    frame.to_csv(tmp_path / "t.csv", index=False)
    assert _load(tmp_path / "t.csv").dropped_columns == ()


def test_a_table_of_ids_only_is_refused_naming_them(tmp_path):
    frame = pd.DataFrame({"code": [f"K{i}" for i in range(200)], "y": [i % 2 for i in range(200)]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataError, match="no feature columns left once the identifier-like text columns 'code'"):
        _load(tmp_path / "t.csv")
