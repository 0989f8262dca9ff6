"""Runs read back from MLflow, tidied: typed columns and variant labels."""

import numpy as np
import pandas as pd

from src.reports.runs import tidy


def test_tidy_handles_string_params_and_a_result_without_params():
    raw = pd.DataFrame(
        {
            "run_id": ["r1", "r2"],
            "status": ["FINISHED", "FAILED"],
            "tags.model": ["knn", "knn"],
            "tags.dataset": ["d", "d"],
            "tags.seed": ["0", "1"],
            "tags.main_metric": ["test_accuracy", None],
            "tags.task": ["binary", "binary"],
            "params.n_train": ["64", "64"],
            "params.n_params": ["undefined", None],
            "metrics.test_accuracy": [0.75, np.nan],
        }
    )
    frame = tidy(raw)
    assert frame["n_train"].tolist() == [64, 64] and frame["n_params"].isna().all()
    assert frame["value"].iloc[0] == 0.75 and frame["main_metric"].iloc[1] == "test_accuracy"
    assert frame["outcome"].tolist() == ["finished", "failed"]
    empty = tidy(pd.DataFrame())  # what search_runs returns for no runs: not even params columns
    assert empty.empty and "n_train" in empty.columns


def test_variants_are_named_after_the_config_values_that_differ():
    raw = pd.DataFrame(
        {
            "run_id": list("abcd"),
            "status": ["FINISHED"] * 4,
            "tags.model": ["mlp", "mlp", "svm", "svm"],
            "tags.dataset": ["d"] * 4,
            "tags.seed": ["0", "1", "0", "1"],
            "params.optimizer.name": ["adam", "sgd", "adam", "adam"],
            "params.seed": ["0", "1", "0", "1"],
            "params.dataset.train_size": ["16", "16", "16", "32"],
        }
    )
    assert tidy(raw)["variant"].tolist() == ["mlp (optimizer=adam)", "mlp (optimizer=sgd)", "svm", "svm"]


def test_variant_labels_do_not_depend_on_the_order_of_the_columns():
    raw = pd.DataFrame(
        {
            "run_id": list("ab"),
            "status": ["FINISHED"] * 2,
            "tags.model": ["mlp", "mlp"],
            "tags.dataset": ["d", "d"],
            "params.optimizer.name": ["adam", "sgd"],
            "params.optimizer.lr": ["0.001", "0.01"],
        }
    )
    expected = ["mlp (lr=0.001, optimizer=adam)", "mlp (lr=0.01, optimizer=sgd)"]
    assert tidy(raw)["variant"].tolist() == expected
    assert tidy(raw[raw.columns[::-1]])["variant"].tolist() == expected
