"""Verdicts of the best deep against the best classical model (src/reports/verdicts.py) and the
cross-dataset statistics (src/reports/across.py), on hand-made numbers checked against scipy."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from src.reports import across, verdicts


def _against_scipy(deep, classical):
    """What scipy says of the paired samples: mean difference, 95% t interval, paired t-test p."""
    diff = np.asarray(deep) - np.asarray(classical)
    low, high = stats.t.interval(0.95, len(diff) - 1, loc=diff.mean(), scale=stats.sem(diff))
    return diff.mean(), low, high, stats.ttest_rel(deep, classical).pvalue


@pytest.mark.parametrize(
    "deep, classical, expected",
    [
        ([0.91, 0.93, 0.92], [0.88, 0.89, 0.895], "deep"),
        ([0.80, 0.82, 0.81], [0.85, 0.86, 0.855], "classical"),
        ([0.90, 0.85, 0.93], [0.88, 0.89, 0.90], "tie"),
    ],
)
def test_the_paired_statistics_match_scipy(deep, classical, expected):
    result = verdicts.paired_difference(np.subtract(deep, classical))
    mean, low, high, p = _against_scipy(deep, classical)
    assert result.mean_diff == pytest.approx(mean)
    assert (result.ci_low, result.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert result.p_value == pytest.approx(p)
    assert result.verdict == expected
    assert (result.verdict == "tie") == (result.ci_low <= 0 <= result.ci_high)


def test_identical_differences_and_too_few_repeats():
    same = verdicts.paired_difference(np.array([0.02, 0.02, 0.02]))
    assert (same.ci_low, same.ci_high, same.verdict) == (0.02, 0.02, "deep")
    zero = verdicts.paired_difference(np.array([0.0, 0.0, 0.0]))  # an interval [0, 0] contains 0
    assert (zero.ci_low, zero.ci_high, zero.p_value, zero.verdict) == (0.0, 0.0, 1.0, "tie")
    one = verdicts.paired_difference(np.array([0.02]))
    assert math.isnan(one.ci_low) and one.verdict == "n/a"


def _runs(rows, metric="test_accuracy"):
    """Tidy runs from (variant, family, n_train, seed, validation, test) tuples."""
    frame = pd.DataFrame(rows, columns=["variant", "family", "n_train", "seed", "val", "value"])
    return frame.rename(columns={"val": verdicts.validation_column(metric)}).assign(
        model=frame["variant"], finished=True, dataset="d"
    )


def test_each_side_is_chosen_on_validation_never_on_test():
    rows = []
    for seed, noise in enumerate([0.0, 0.01, -0.01]):
        rows += [
            ("mlp", "deep", 100, seed, 0.80, 0.90 + noise),
            ("svm", "classical", 100, seed, 0.85, 0.70 + noise),  # best classical on validation
            ("knn", "classical", 100, seed, 0.75, 0.95 + noise),  # best on test: must not be picked
        ]
    (row,) = verdicts.verdicts_of(_runs(rows), "test_accuracy", "d").rows.to_dict("records")
    assert (row["best_deep"], row["best_classical"], row["verdict"]) == ("mlp", "svm", "deep")
    assert row["mean_diff"] == pytest.approx(0.2)


def test_without_a_validation_metric_the_side_is_chosen_on_test_and_says_so():
    rows = [("mlp", "deep", 10, s, np.nan, 0.9) for s in range(3)]
    rows += [("svm", "classical", 10, s, np.nan, 0.8 + s / 100) for s in range(3)]
    result = verdicts.verdicts_of(_runs(rows), "test_accuracy", "d")
    assert len(result.rows) == 1 and "chosen on test" in result.notes[0]


def test_an_error_metric_is_flipped_so_that_positive_means_deep_is_better():
    rows = []
    for seed, noise in enumerate([0.0, 0.1, -0.1]):
        rows += [("mlp", "deep", 64, seed, 2.0, 2.0 + noise), ("ridge", "classical", 64, seed, 3.0, 3.0 + noise / 2)]
    (row,) = verdicts.verdicts_of(_runs(rows, "test_mse"), "test_mse", "d").rows.to_dict("records")
    assert row["mean_diff"] == pytest.approx(1.0) and row["verdict"] == "deep"


def test_the_rows_pair_repeats_by_seed_and_have_the_csv_columns():
    rows = [("mlp", "deep", 10, s, 0.9, 0.9 + s / 100) for s in (0, 1, 2)]
    rows += [("svm", "classical", 10, s, 0.8, 0.8) for s in (1, 2, 3)]  # seeds 1 and 2 pair up
    table = verdicts.verdicts_of(_runs(rows), "test_accuracy", "d").rows
    assert list(table.columns) == verdicts.COLUMNS
    assert table["mean_diff"].iloc[0] == pytest.approx(0.115)


def _verdict_rows(sequence):
    sizes = [16, 32, 64, 128, 256][: len(sequence)]
    return pd.DataFrame(
        [["d", n, "mlp", "svm", 0.01, -0.01 if v == "tie" else 0.005, 0.02, 0.1, v] for n, v in zip(sizes, sequence)],
        columns=verdicts.COLUMNS,
    )


def test_a_crossover_is_where_the_verdicts_turn_from_classical_to_deep_for_good():
    # Deep ahead at 32, behind again at 64: 32 does not count.
    cross = verdicts.crossover_of(_verdict_rows(["classical", "deep", "classical", "deep", "deep"]), "acc", "d")
    assert cross.size == 128 and cross.sentence.startswith("d: crossover at n_train = 128")


@pytest.mark.parametrize(
    "sequence",
    [
        ["classical", "deep", "classical", "deep", "tie"],  # flip-flop, then a tie at the largest size
        ["classical", "classical", "tie"],
        ["tie", "deep", "deep"],  # never classical: nothing turned
    ],
)
def test_flip_flop_or_tied_verdicts_are_no_crossover(sequence):
    cross = verdicts.crossover_of(_verdict_rows(sequence), "acc", "d")
    largest = [16, 32, 64, 128, 256][len(sequence) - 1]
    assert cross.size is None and "no crossover" in cross.sentence
    assert f"at n_train = {largest} (the largest size)" in cross.sentence and "95% CI" in cross.sentence


def test_no_verdict_without_both_families():
    rows = [("mlp", "deep", n, s, 0.5, 0.5) for n in (16, 64) for s in range(3)]
    result = verdicts.verdicts_of(_runs(rows), "test_accuracy", "d")
    assert result.rows.empty and "no verdict" in verdicts.crossover_of(result.rows, "acc", "d").sentence


def _tables(scores, metric="test_accuracy"):
    return {d: (pd.DataFrame({"variant": list(v), "mean": list(v.values())}), metric) for d, v in scores.items()}


def test_normalised_scores_put_the_best_at_1_and_the_worst_at_0():
    tables = _tables({"d1": {"a": 0.9, "b": 0.8, "c": 0.85}})
    tables["d2"] = _tables({"d2": {"a": 4.0, "b": 1.0, "c": 2.0}}, "test_mse")["d2"]
    scores = across.normalised_scores(tables)
    assert scores.loc["d1"].to_dict() == {"a": 1.0, "b": 0.0, "c": pytest.approx(0.5)}
    assert scores.loc["d2"].to_dict() == {"a": 0.0, "b": 1.0, "c": pytest.approx(2 / 3)}


def test_the_critical_difference_needs_two_datasets_and_three_models():
    absent = across.critical_difference(_tables({"d1": {"a": 0.9, "b": 0.8, "c": 0.7}}))
    assert absent.p_values is None and "1 dataset(s)" in absent.note
    two_models = across.critical_difference(_tables({f"d{i}": {"a": 0.9, "b": 0.8} for i in range(3)}))
    assert two_models.p_values is None and "2 model(s)" in two_models.note
    cd = across.critical_difference(_tables({f"d{i}": {"a": 0.9, "b": 0.8, "c": 0.7 + i / 1000} for i in range(4)}))
    assert cd.ranks.to_dict() == {"a": 1.0, "b": 2.0, "c": 3.0} and cd.p_values.shape == (3, 3)
    assert cd.friedman_p == pytest.approx(stats.friedmanchisquare([1] * 4, [2] * 4, [3] * 4).pvalue)


def test_times_per_1000_rows_and_the_pareto_front():
    runs = pd.DataFrame(
        {
            "variant": ["fast", "slow", "bad"],
            "family": ["classical", "deep", "classical"],
            "finished": True,
            "n_train": [2000, 2000, 2000],
            "n_test": [500, 500, 500],
            "fit_time_s": [1.0, 10.0, 20.0],
            "predict_time_s": [0.05, 0.5, 0.5],
        }
    )
    times = across.times_per_rows(runs)
    assert times.set_index("variant")["train_s"].to_dict() == {"fast": 0.5, "slow": 5.0, "bad": 10.0}
    assert times.set_index("variant")["predict_s"].to_dict() == {"fast": 0.1, "slow": 1.0, "bad": 1.0}
    scores = pd.DataFrame({"fast": [0.5], "slow": [1.0], "bad": [0.0]}, index=["d"])
    points = across.score_against_time(scores, times).set_index("variant")
    assert points["pareto"].to_dict() == {"fast": True, "slow": True, "bad": False}
