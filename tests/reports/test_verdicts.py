"""Verdicts of the best deep against the best classical model (src/reports/verdicts.py and
src/reports/paired.py) on hand-computed numbers, and the cross-dataset statistics
(src/reports/across.py)."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from src.reports import across, paired, verdicts

# ------------------------------------------------------------------ the corrected interval


def test_the_corrected_interval_matches_the_nadeau_bengio_formula_by_hand():
    # d = [0.02, 0.01, 0.03, 0.00, 0.04]: mean 0.02, sample variance 0.00025.
    # 5 folds: n_test / n_rest = 1/4, so se = sqrt((1/5 + 1/4) * 0.00025) = sqrt(0.0001125) = 0.0106066.
    # t(0.975, 4) = 2.776445: half-width 0.0294486; t = 0.02 / 0.0106066 = 1.885618 and, with 4 degrees of
    # freedom, the two-sided p = 1 - x (3 - x²) / 2 with x = t / sqrt(t² + 4) = 0.685990: p = 0.132419.
    result = paired.compare(np.array([0.02, 0.01, 0.03, 0.00, 0.04]), test_ratio=0.25, margin=0.01)
    assert result.se == pytest.approx(0.0106066017, rel=1e-7)
    assert (result.ci_low, result.ci_high) == (
        pytest.approx(0.02 - 0.0294486, abs=1e-6),
        pytest.approx(0.0494486, abs=1e-6),
    )
    assert result.p_value == pytest.approx(0.132419, abs=2e-6)
    assert result.verdict == "inconclusive"
    # 80% power: (t.975 + t.80) * se, t(0.80, 4) = 0.940965.
    assert result.min_detectable == pytest.approx((2.776445 + 0.940965) * 0.0106066, rel=1e-5)
    # The uncorrected interval (ratio 0) is the plain paired t interval, narrower.
    plain = paired.compare(np.array([0.02, 0.01, 0.03, 0.00, 0.04]), test_ratio=0.0, margin=0.01)
    low, high = stats.t.interval(0.95, 4, loc=0.02, scale=stats.sem([0.02, 0.01, 0.03, 0.00, 0.04]))
    assert (plain.ci_low, plain.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert plain.p_value == pytest.approx(stats.ttest_1samp([0.02, 0.01, 0.03, 0.00, 0.04], 0).pvalue)


@pytest.mark.parametrize(
    "differences, verdict",
    [
        ([0.05, 0.06, 0.04, 0.05, 0.055], "deep"),
        ([-0.05, -0.06, -0.04, -0.05, -0.055], "classical"),
        ([0.001, -0.001, 0.002, 0.0, 0.0005], "equivalent"),  # all inside ±0.01
        ([0.004, 0.006, 0.005, 0.0055, 0.0045], "equivalent"),  # above 0, but smaller than the margin
        ([0.03, -0.02, 0.05, -0.04, 0.01], "inconclusive"),
    ],
)
def test_the_verdict_reads_the_interval_against_zero_and_the_margin(differences, verdict):
    result = paired.compare(np.array(differences), test_ratio=0.25, margin=0.01)
    assert result.verdict == verdict
    inside = result.ci_low >= -0.01 and result.ci_high <= 0.01
    assert (verdict == "equivalent") == inside
    if verdict in ("deep", "classical"):
        assert not result.ci_low <= 0 <= result.ci_high


def test_identical_differences_give_no_interval_and_no_verdict():
    for differences in ([1 / 30, 1 / 30], [0.0, 0.0, 0.0]):
        result = paired.compare(np.array(differences), test_ratio=0.25, margin=0.01)
        assert result.verdict == "n/a" and math.isnan(result.p_value) and math.isnan(result.ci_low)
        assert "no spread" in result.why
    spread = paired.compare(np.array([1 / 30, 1 / 30, 2 / 30]), test_ratio=0.25, margin=0.01)
    assert spread.verdict == "inconclusive" and 0 < spread.p_value < 1
    one = paired.compare(np.array([0.02]), test_ratio=0.25, margin=0.01)
    assert one.verdict == "n/a" and math.isnan(one.ci_low)


def test_pairs_needed_is_the_fewest_pairs_that_decide_and_none_past_the_correction_floor():
    # mean 0.01, sd 0.02, ratio 0.25: the half-width never drops below t * 0.02 * 0.5 ~ 0.0196 > 0.01.
    assert paired.pairs_needed(0.01, 0.02, 0.25, margin=0.005) is None
    # mean 0.03, sd 0.02, ratio 0.05: n = 4 gives 3.182 * 0.02 * sqrt(0.25 + 0.05) = 0.0349 (holds 0);
    # n = 5 gives 2.776 * 0.02 * sqrt(0.2 + 0.05) = 0.02776 < 0.03.
    assert paired.pairs_needed(0.03, 0.02, 0.05, margin=0.005) == 5


def test_holm_adjusts_the_per_pair_p_values_by_hand():
    # Sorted p: 0.01, 0.03, 0.04 -> 3 * 0.01 = 0.03, max(0.03, 2 * 0.03) = 0.06, max(0.06, 0.04) = 0.06.
    assert paired.holm([0.04, 0.01, 0.03]) == [pytest.approx(0.06), pytest.approx(0.03), pytest.approx(0.06)]
    nan_kept = paired.holm([float("nan"), 0.02])
    assert math.isnan(nan_kept[0]) and nan_kept[1] == pytest.approx(0.02)


# ------------------------------------------------------------------ selection and rows


def _runs(rows, metric="roc_auc"):
    """Tidy runs from (variant, family, n_train, seed, selection score, test score[, log loss]) tuples;
    5-fold runs of 100 rows (n_test 20)."""
    records = []
    for row in rows:
        variant, family, n_train, seed, select, test, *rest = row
        record = {
            "variant": variant,
            "model": variant.split(" ")[0],
            "family": family,
            "n_train": n_train,
            "seed": seed,
            f"metrics.select_{metric}": select,
            f"metrics.test_{metric}": test,
            "finished": True,
            "dataset": "d",
            "n_test": 20,
            "n_rows": 100,
            "fit_time_s": 1.0,
            "test_set": "cv",
        }
        if rest:
            record["metrics.select_log_loss"] = rest[0]
        records.append(record)
    return pd.DataFrame(records)


def test_each_side_is_chosen_on_the_selection_split_never_on_test_and_dummy_is_no_candidate():
    rows = []
    for seed, noise in enumerate([0.0, 0.01, -0.01, 0.005, -0.005]):
        rows += [
            ("mlp", "deep", 100, seed, 0.80, 0.90 + noise),
            ("svm", "classical", 100, seed, 0.85, 0.70 + noise / 2),  # best classical on selection
            ("knn", "classical", 100, seed, 0.75, 0.95 + 2 * noise),  # best on test: must not be picked
            ("dummy", "classical", 100, seed, 0.99, 0.5),  # best "selection" score: a reference only
        ]
    result = verdicts.verdicts_of(_runs(rows), "test_roc_auc", "d")
    (row,) = result.rows.to_dict("records")
    assert (row["best_deep"], row["best_classical"], row["verdict"], row["metric"]) == ("mlp", "svm", "deep", "roc_auc")
    assert row["mean_diff"] == pytest.approx(0.2) and row["n_pairs"] == 5 and row["chosen_on"] == "selection"
    assert row["beats_dummy"] is True
    assert list(result.rows.columns) == verdicts.COLUMNS
    # The per-pair table: mlp against both classical candidates, never against dummy, Holm-adjusted.
    assert sorted(result.pairs["classical"]) == ["knn", "svm"]
    knn = result.pairs.set_index("classical").loc["knn"]
    assert knn["mean_diff"] == pytest.approx(-0.05) and knn["p_holm"] >= knn["p_value"]


def test_a_tie_on_selection_is_broken_by_log_loss_never_by_name():
    rows = []
    for seed, noise in enumerate([0.0, 0.01, -0.01, 0.005, -0.005]):
        rows += [
            ("mlp", "deep", 100, seed, 0.80, 0.90 + noise, 0.3),
            ("catboost", "classical", 100, seed, 0.85, 0.70, 0.40),  # first by name, worse log loss
            ("logistic_regression", "classical", 100, seed, 0.85, 0.80 + noise, 0.35),
        ]
    (row,) = verdicts.verdicts_of(_runs(rows), "test_roc_auc", "d").rows.to_dict("records")
    assert row["best_classical"] == "logistic_regression"
    assert row["tie_break"] == "catboost and logistic_regression tied on select roc_auc; log_loss decided"


def test_a_model_without_probabilities_is_left_out_of_the_probability_verdict_with_a_note():
    rows = []
    for seed in range(5):
        rows += [
            ("mlp", "deep", 100, seed, 0.80, 0.90 + seed / 100),
            ("svm", "classical", 100, seed, 0.85, 0.80),
            ("linear_svm", "classical", 100, seed, np.nan, np.nan),  # no predict_proba: no roc_auc
        ]
    result = verdicts.verdicts_of(_runs(rows), "test_roc_auc", "d")
    assert result.rows["best_classical"].tolist() == ["svm"]
    assert any("linear_svm logged no roc_auc" in note for note in result.notes)


def test_an_error_metric_is_flipped_and_its_margin_is_a_share_of_the_constant_predictors_error():
    rows = []
    for seed, noise in enumerate([0.0, 0.1, -0.1, 0.05, -0.05]):
        rows += [
            ("mlp", "deep", 64, seed, 2.0, 2.0 + noise),
            ("ridge", "classical", 64, seed, 3.0, 3.0 + noise / 2),
            ("dummy", "classical", 64, seed, 10.0, 10.0),
        ]
    (row,) = verdicts.verdicts_of(_runs(rows, "rmse"), "test_rmse", "d").rows.to_dict("records")
    assert row["mean_diff"] == pytest.approx(1.0) and row["verdict"] == "deep"
    assert row["margin"] == pytest.approx(0.2)  # 2% of dummy's RMSE of 10


def test_fixed_test_sets_are_named_in_the_notes():
    rows = [("mlp", "deep", 10, s, 0.9, 0.9 + s / 100) for s in range(3)]
    rows += [("svm", "classical", 10, s, 0.8, 0.8 + s / 200) for s in range(3)]
    runs = _runs(rows).assign(test_set="fixed")
    notes = verdicts.verdicts_of(runs, "test_roc_auc", "d").notes
    assert any("one fixed test set" in note for note in notes)


def _verdict_rows(sequence):
    sizes = [16, 32, 64, 128, 256][: len(sequence)]
    rows = []
    for n, v in zip(sizes, sequence):
        low, high = {"deep": (0.01, 0.03), "classical": (-0.03, -0.01)}.get(v, (-0.02, 0.02))
        rows.append(
            ["d", n, "roc_auc", 0.01, "mlp", "svm", 5, (low + high) / 2, low, high, 0.1, 0.02, v, "", 12]
            + ["selection", "", True]
        )
    return pd.DataFrame(rows, columns=verdicts.COLUMNS)


def test_a_crossover_is_where_the_decided_verdicts_turn_from_classical_to_deep_for_good():
    cross = verdicts.crossover_of(_verdict_rows(["classical", "deep", "classical", "deep", "deep"]), "d")
    assert cross.size == 128 and cross.sentence.startswith("d: crossover at n_train = 128")
    # Inconclusive rows do not break a crossover, and the sentence says how many pairs would decide them.
    cross = verdicts.crossover_of(_verdict_rows(["classical", "inconclusive", "deep"]), "d")
    assert cross.size == 64 and "n_train = 32: about 12 pairs (now 5)" in cross.sentence


@pytest.mark.parametrize(
    "sequence",
    [
        ["classical", "deep", "classical", "deep", "classical"],  # flip-flop, classical at the largest size
        ["classical", "classical", "equivalent"],
        ["inconclusive", "deep", "deep"],  # never classical: nothing turned
    ],
)
def test_flip_flop_or_undecided_verdicts_are_no_crossover(sequence):
    cross = verdicts.crossover_of(_verdict_rows(sequence), "d")
    assert cross.size is None and "crossover" in cross.sentence and "verdicts by training size" in cross.sentence


def test_no_verdict_without_both_families():
    rows = [("mlp", "deep", n, s, 0.5, 0.5) for n in (16, 64) for s in range(3)]
    result = verdicts.verdicts_of(_runs(rows), "test_roc_auc", "d")
    assert result.rows.empty and "no verdict" in verdicts.crossover_of(result.rows, "d").sentence


# ------------------------------------------------------------------ across datasets


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
    assert times["n_train"].tolist() == [2000] * 3 and times["n_runs"].tolist() == [1] * 3
    scores = pd.DataFrame({"fast": [0.5], "slow": [1.0], "bad": [0.0]}, index=["d"])
    points = across.score_against_time(scores, across.times_at_largest_size(runs)).set_index("variant")
    assert points["pareto"].to_dict() == {"fast": True, "slow": True, "bad": False}


def test_times_per_1000_rows_are_given_per_training_size_never_pooled():
    """Hand-made runs: a model whose fit is quadratic in its rows (1 s per 1,000 rows at 1,000
    rows, 10 s at 10,000) gets a row per size, not a median across sizes; the Pareto front
    reads each model's time at its largest size on each dataset, where its scores are taken."""
    rows = [
        # dataset, variant, family, n_train, seed, fit_time_s, predict_time_s, finished
        ("d1", "mlp", "deep", 1000, 0, 1.0, 0.1, True),
        ("d1", "mlp", "deep", 1000, 1, 3.0, 0.3, True),
        ("d1", "mlp", "deep", 10000, 0, 100.0, 1.0, True),
        ("d1", "mlp", "deep", 10000, 1, 100.0, 1.0, False),  # failed: not counted
        ("d2", "mlp", "deep", 1000, 0, 2.0, 0.2, True),  # another dataset, same size: the same row
        ("d2", "mlp", "deep", 500, 0, 0.25, 0.05, True),  # d2's largest mlp size is 1000
        ("d1", "svm", "classical", 1000, 0, 0.5, 0.5, True),
        ("d1", "svm", "classical", 10000, 0, 5.0, 0.5, True),
    ]
    columns = ["dataset", "variant", "family", "n_train", "seed", "fit_time_s", "predict_time_s", "finished"]
    runs = pd.DataFrame(rows, columns=columns).assign(n_test=100)
    times = across.times_per_rows(runs)
    by_size = times.set_index(["variant", "n_train"])
    assert list(by_size.index) == [("svm", 1000), ("svm", 10000), ("mlp", 500), ("mlp", 1000), ("mlp", 10000)]
    assert by_size["train_s"].to_dict() == {
        ("svm", 1000): 0.5,
        ("svm", 10000): 0.5,
        ("mlp", 500): 0.5,
        ("mlp", 1000): 2.0,  # median of 1, 3 (d1) and 2 (d2) s per 1,000 rows
        ("mlp", 10000): 10.0,
    }
    assert by_size.loc[("mlp", 1000), "n_runs"] == 3 and by_size.loc[("mlp", 10000), "n_runs"] == 1
    assert by_size.loc[("mlp", 1000), "predict_s"] == pytest.approx(2.0)  # 0.2 s per 100 test rows
    largest = across.times_at_largest_size(runs).set_index("variant")
    # mlp: d1 at 10,000 rows (10 s per 1,000) and d2 at 1,000 rows (2 s per 1,000): median 6.
    assert largest["train_s"].to_dict() == {"svm": 0.5, "mlp": 6.0}


def test_runs_that_tested_different_rows_never_pair():
    rows = [("mlp", "deep", 10, s, 0.9, 0.9 + s / 100) for s in range(3)]
    rows += [("svm", "classical", 10, s, 0.8, 0.8 + s / 200) for s in range(3)]
    runs = _runs(rows).assign(split_digest=["a", "b", "c", "x", "y", "z"])  # two tables under one name
    (row,) = verdicts.verdicts_of(runs, "test_roc_auc", "d").rows.to_dict("records")
    assert row["n_pairs"] == 0 and row["verdict"] == "n/a"
    same = verdicts.verdicts_of(runs.assign(split_digest=["a", "b", "c"] * 2), "test_roc_auc", "d")
    assert same.rows["n_pairs"].tolist() == [3]


def test_a_users_table_is_named_after_its_file_and_content(tmp_path):
    from tests.conftest import make_spec

    for name, text in (("one.csv", "x,label\n1,a\n2,b\n"), ("two.csv", "x,label\n1,a\n3,b\n")):
        (tmp_path / name).write_text(text)
    one, two = (
        make_spec("dataset=table", f"dataset.path={tmp_path / n}", "dataset.target=label").dataset_label
        for n in ("one.csv", "two.csv")
    )
    assert one.startswith("one-") and two.startswith("two-") and len(one) == len("one-") + 6
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "one.csv").write_text("x,label\n5,a\n6,b\n")  # the same file name, other rows: another label
    again = make_spec("dataset=table", f"dataset.path={other / 'one.csv'}", "dataset.target=label").dataset_label
    assert again.startswith("one-") and again != one
    assert make_spec("dataset=digits").dataset_label == "digits"


def test_the_report_gives_a_time_row_per_model_and_training_size(tmp_path):
    from src.reports.document import Report, StudyView
    from src.reports.verdict_sections import across_datasets

    rows = [
        (d, v, f, n, s, t * n / 1000, 0.01, True)
        for d in ("d1", "d2")
        for v, f, t in (("mlp", "deep", 2.0), ("svm", "classical", 0.5))
        for n in (100, 1000)
        for s in (0, 1)
    ]
    columns = ["dataset", "variant", "family", "n_train", "seed", "fit_time_s", "predict_time_s", "finished"]
    runs = pd.DataFrame(rows, columns=columns).assign(n_test=100)
    tables = _tables({"d1": {"mlp": 0.9, "svm": 0.8}, "d2": {"mlp": 0.7, "svm": 0.8}})
    report = Report(name="t", out=tmp_path)
    across_datasets(report, StudyView(runs, tables))
    text = "\n".join(report.markdown)
    assert "| model | family | n_train | fit s / 1,000 training rows | predict s / 1,000 rows | runs |" in text
    for line in ("| svm | classical | 100 | 0.5 | 0.1 | 4 |", "| mlp | deep | 1000 | 2 | 0.1 | 4 |"):
        assert line in text, text
    assert "at its largest size" in text
