"""A run's row_id indexes the user's file (its 0-based data rows as read),
also when rows with a missing target were dropped (issue 23, item 7)."""

import numpy as np
import pandas as pd

from src.data import load_dataset, make_split
from src.job.artifacts import Evaluated, predictions_frame
from tests.conftest import make_spec


def test_row_ids_join_back_to_the_file_after_rows_without_a_target_are_dropped(tmp_path):
    rng = np.random.default_rng(0)
    n = 600
    raw = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "colour": rng.choice(["red", "green", "blue"], n),
            "label": rng.choice(["yes", "no"], n),
        }
    )
    raw.loc[rng.choice(n, 60, replace=False), "label"] = np.nan  # spread through the file
    path = tmp_path / "t.csv"
    raw.to_csv(path, index=False)

    cfg = make_spec("dataset=table", f"dataset.path='{path}'", "dataset.target=label")
    data = load_dataset(cfg.dataset)
    assert data.n_dropped_rows == 60
    split = make_split(data, seed=0, test_size=0.3, val_size=0.1)
    evaluated = Evaluated("test", split.test, data.y[split.test], data.y[split.test])

    predictions = predictions_frame(data, evaluated)
    file_labels = raw["label"].iloc[predictions["row_id"]].to_numpy()
    assert (file_labels == predictions["y_true"].to_numpy()).all()  # every row, not 41%
    file_x1 = raw["x1"].iloc[predictions["row_id"]].to_numpy()
    assert np.allclose(file_x1, data.X["x1"].to_numpy()[split.test])


def test_predictions_are_previewed_as_csv_next_to_the_parquet_file(tmp_path):
    from src.data.build import make_dataset
    from src.job.artifacts import write_predictions

    rng = np.random.default_rng(1)
    data = make_dataset("toy", "binary", rng.normal(size=(300, 2)), rng.choice(["a", "b"], 300), "code")
    rows = np.arange(150, 300)
    write_predictions(tmp_path / "predictions.parquet", data, Evaluated("test", rows, data.y[rows], data.y[rows]))

    preview = pd.read_csv(tmp_path / "predictions_preview.csv")
    full = pd.read_parquet(tmp_path / "predictions.parquet")
    assert len(full) == 150 and len(preview) == 100
    pd.testing.assert_frame_equal(preview, full.head(100), check_dtype=False)
    assert preview["y_true"].isin(["a", "b"]).all()  # labels, readable in the UI
