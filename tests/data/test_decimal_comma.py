"""Tables written with ';' between fields and ',' as the decimal mark (dataset.sep, dataset.decimal;
make compare SEP=';' DECIMAL=',')."""

import pytest

from src.data.tables import load_table
from src.errors import DataError
from tests.conftest import make_spec

TEXT = "x1;x2;label\n1,5;-0,25;yes\n2,0;0,75;no\n3,25;1,5;yes\n4,0;2,0;no\n"


def test_decimal_commas_read_as_numbers(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text(TEXT)
    cfg = make_spec(
        "dataset=table", f"dataset.path={path}", "dataset.target=label", "dataset.sep=';'", "dataset.decimal=','"
    )
    dataset = load_table(cfg.dataset)
    assert not dataset.categorical and dataset.X["x1"].tolist() == [1.5, 2.0, 3.25, 4.0]


def test_the_hint_for_a_semicolon_file_names_the_decimal_mark_too(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text(TEXT)
    cfg = make_spec("dataset=table", f"dataset.path={path}", "dataset.target=label")
    with pytest.raises(DataError) as error:
        load_table(cfg.dataset)
    message = str(error.value)
    assert "is the delimiter ';'? set dataset.sep" in message and "dataset.decimal=','" in message
    assert "SEP=';' DECIMAL=','" in message
