"""The shared metric code (src/job/metrics.py) on hand-computed numbers."""

import math

import numpy as np
import pytest

from src.job.metrics import score


def test_binary_probability_metrics_by_hand():
    y = np.array([0, 0, 1, 1])
    proba1 = np.array([0.1, 0.6, 0.4, 0.8])
    proba = np.column_stack([1 - proba1, proba1])
    values = score("binary", y, (proba1 > 0.5).astype(int), "test", proba)
    # Pairs (negative, positive): (0.1, 0.4) ok, (0.1, 0.8) ok, (0.6, 0.4) wrong, (0.6, 0.8) ok -> AUC 3/4.
    assert values["test_roc_auc"] == pytest.approx(0.75)
    # Log loss: -(ln 0.9 + ln 0.4 + ln 0.4 + ln 0.8) / 4.
    assert values["test_log_loss"] == pytest.approx(-(math.log(0.9) + 2 * math.log(0.4) + math.log(0.8)) / 4)
    # Brier: mean (p1 - y)^2 = (0.01 + 0.36 + 0.36 + 0.04) / 4.
    assert values["test_brier"] == pytest.approx(0.1925)
    assert values["test_accuracy"] == pytest.approx(0.5)


def test_multiclass_auc_is_the_macro_one_against_the_rest_over_the_classes_present():
    y = np.array([0, 1, 2, 2])
    proba = np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.2, 0.7], [0.3, 0.4, 0.3]])
    values = score("multiclass", y, proba.argmax(axis=1), "val", proba)
    # Class 0: 0.7 above 0.2, 0.1, 0.3 -> 1; class 1: 0.5 above 0.2, 0.2, 0.4 -> 1;
    # class 2: positives 0.7, 0.3 against negatives 0.1, 0.3 -> (1 + 1 + 0.5 + 1) / 4 = 0.875.
    assert values["val_roc_auc"] == pytest.approx((1 + 1 + 0.875) / 3)
    # Brier (multiclass): the mean over rows of the squared distance to the one-hot truth.
    brier = np.mean(((proba - np.eye(3)[y]) ** 2).sum(axis=1))
    assert values["val_brier"] == pytest.approx(brier)
    # A class absent from the rows has no AUC of its own; the rest still count.
    absent = score("multiclass", y[:2], proba[:2].argmax(axis=1), "val", proba[:2])
    assert absent["val_roc_auc"] == pytest.approx(1.0)


def test_no_probabilities_no_probability_metrics_and_one_class_no_auc():
    values = score("binary", np.array([0, 1]), np.array([0, 1]), "test")
    assert "test_roc_auc" not in values and "test_log_loss" not in values and values["test_accuracy"] == 1.0
    one_class = score("binary", np.array([1, 1]), np.array([1, 1]), "test", np.array([[0.2, 0.8], [0.4, 0.6]]))
    assert "test_roc_auc" not in one_class and one_class["test_log_loss"] > 0


def test_regression_rmse_mae_and_r2():
    values = score("regression", np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0]), "test")
    assert values["test_rmse"] == pytest.approx(math.sqrt(4 / 3)) and values["test_mae"] == pytest.approx(2 / 3)
    assert values["test_r2"] == pytest.approx(1 - 4 / 2)
