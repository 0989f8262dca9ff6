"""A model's label in the report is the same on every dataset (issue 23, item 18)."""

import pandas as pd

from src.reports.runs import tidy


def test_a_model_is_labelled_alike_on_every_dataset_when_one_dataset_has_a_diverged_variant():
    raw = pd.DataFrame(
        {
            "run_id": list("abcd"),
            "status": ["FINISHED"] * 4,
            "tags.model": ["mlp"] * 4,
            "tags.dataset": ["d1", "d1", "d2", "d2"],
            "params.optimizer.lr": ["0.001", "0.01", "0.001", "0.001"],
            "params.seed": ["0", "0", "0", "1"],
        }
    )
    variants = tidy(raw)["variant"].tolist()
    # Before: d2's runs were plain 'mlp', so the ranks counted mlp twice.
    assert variants == ["mlp (lr=0.001)", "mlp (lr=0.01)", "mlp (lr=0.001)", "mlp (lr=0.001)"]
