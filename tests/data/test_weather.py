"""seed_weather: the slides' weather sheet parses to the values on the slide."""

import numpy as np
import pytest

from src.data import load_dataset, make_split, prepare
from src.data.weather import parse_weather_sheet
from tests.conftest import make_spec


@pytest.fixture(scope="module")
def sheet():
    return parse_weather_sheet()


def test_the_sheet_has_the_slides_23_days(sheet):
    assert len(sheet) == 23
    assert sheet["Date"].tolist() == list(range(1, 24))
    assert (sheet["Location"] == 723150).all()


def test_first_and_last_rows_read_as_on_the_slide(sheet):
    first = sheet.iloc[0]
    # 723150 ### ' 1 44.7 40.3 1022.00 6 3.2 15 20 64 30.9 0.00D
    assert np.isnan(first["Year"]) and np.isnan(first["Month"])  # '###' and the emptied "'" cell
    assert first[["Temp", "Dew point", "Pressure", "Visibility", "Wind speed"]].tolist() == [44.7, 40.3, 1022.0, 6, 3.2]
    assert first[["Max wind speed", "Max wind gust", "Max temp", "Min temp", "Precipitation"]].tolist() == [
        15, 20, 64, 30.9, 0.0,
    ]  # fmt: skip
    assert first["Precipitation flag"] == "D"
    last = sheet.iloc[-1]
    # 723150 ### 1 23 29.6 27.3 1016.30 5.9 4.3 8.9 999.9 36 18 0.03B
    assert last["Month"] == 1 and last["Temp"] == 29.6 and last["Pressure"] == 1016.3
    assert np.isnan(last["Max wind gust"])
    assert last["Precipitation"] == 0.03 and last["Precipitation flag"] == "B"


def test_stars_are_stripped_and_flagged(sheet):
    second = sheet.iloc[1]  # 66.0* 48.2*
    assert second["Max temp"] == 66.0 and second["Min temp"] == 48.2
    assert second["Max temp derived"] and second["Min temp derived"]
    assert sheet["Max temp derived"].sum() == 7 and not sheet.iloc[0]["Max temp derived"]


def test_999_9_is_missing_and_precipitation_flags_are_parsed(sheet):
    assert sheet["Max wind gust"].isna().sum() == 8  # the eight 999.9 cells
    assert sheet["Max wind gust"].max() == 42.9
    assert sheet["Precipitation"].tolist()[9] == 1.42 and sheet["Precipitation"].sum() == pytest.approx(2.60)
    assert set(sheet["Precipitation flag"]) == set("ABCDGHI")


def test_dataset_predicts_temp_from_the_other_numeric_columns_and_keeps_every_row():
    data = load_dataset(make_spec("dataset=seed_weather").dataset)
    assert data.target_name == "Temp" and data.n_rows == 23 and data.n_dropped_rows == 0
    assert data.feature_names == [
        "Date", "Dew point", "Pressure", "Visibility", "Wind speed", "Max wind speed",
        "Max wind gust", "Max temp", "Min temp", "Precipitation",
    ]  # fmt: skip
    assert data.y[:3].tolist() == [44.7, 55.5, 58.1]
    cfg = make_spec("dataset=seed_weather").dataset
    split = make_split(data, seed=0, test_size=cfg.test_size, val_size=cfg.val_size)
    prepared = prepare(data, split, standardize=True)
    assert prepared.n_imputed_cells == 8 and np.isfinite(prepared.X_train).all()
