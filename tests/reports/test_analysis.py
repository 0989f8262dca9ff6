"""The report's analysis on made-up runs: Pareto front, ranks and tests, the tuned trial
(verdicts and crossovers: test_verdicts.py)."""

import pandas as pd

from src.reports import analysis


def test_the_pareto_front_keeps_only_undominated_points():
    curves = pd.DataFrame(
        {"variant": ["a", "b", "c"], "n_train": [1, 1, 1], "fit": [1.0, 2.0, 3.0], "mean": [0.5, 0.9, 0.8]}
    )
    assert analysis.pareto_points(curves, "test_accuracy")["pareto"].tolist() == [True, True, False]


def test_ranks_and_friedman_need_three_models_and_two_datasets():
    def table(values):
        return pd.DataFrame({"variant": list(values), "mean": list(values.values())}), "test_accuracy"

    summary, notes = analysis.ranks_across_datasets({"d1": table({"a": 0.9, "b": 0.8, "c": 0.7})})
    assert summary.empty and "Ranks not computed: they need at least 2 datasets" in notes[0]  # one dataset
    two = {f"d{i}": table({"a": 0.9, "b": 0.8}) for i in range(2)}
    summary, notes = analysis.ranks_across_datasets(two)
    assert "Friedman test not computed" in notes[0]
    tables = {f"d{i}": table({"a": 0.9 - i / 100, "b": 0.8, "c": 0.7}) for i in range(4)}
    summary, notes = analysis.ranks_across_datasets(tables)
    assert summary["mean rank"].tolist() == [1.0, 2.0, 3.0]
    assert notes[0].startswith("Friedman test over 3 models x 4 datasets")


def _trials(rows):
    """Hyperparameter-search trials as `tidy` makes them: (model, family, val, test) tuples."""
    frame = pd.DataFrame(rows, columns=["model", "family", "metrics.final_val_accuracy", "value"])
    return frame.assign(
        variant=frame["model"],
        finished=True,
        dataset="d",
        n_train=100,
        seed=0,
        fit_time_s=1.0,
        optimized_metric="final_val_accuracy",
        main_metric="test_accuracy",
    )


def test_the_tuned_trial_is_chosen_on_validation_never_on_test():
    trials = _trials(
        [
            ("svm", "classical", 0.90, 0.70),  # best on validation
            ("svm", "classical", 0.80, 0.95),  # best on test
            ("svm", "classical", 0.85, 0.80),
        ]
    )
    assert analysis.best_trial(trials) == (0, 0.90)
    chosen = analysis.select_tuned(trials)
    assert chosen["value"].tolist() == [0.70] and chosen["variant"].tolist() == ["svm (tuned)"]


def test_the_tuned_trial_of_a_lower_is_better_metric_is_its_lowest():
    trials = _trials([("ridge", "classical", 9.0, 1.0), ("ridge", "classical", 2.0, 5.0)])
    trials = trials.rename(columns={"metrics.final_val_accuracy": "metrics.final_val_mse"})
    trials["optimized_metric"] = "final_val_mse"
    assert analysis.best_trial(trials) == (1, 2.0)


def _paired(differences, base=0.8):
    """Runs of a deep and a classical model on two datasets x seeds: deep = classical + difference."""
    rows = []
    for i, difference in enumerate(differences):
        dataset, seed = f"d{i % 2}", i // 2
        rows += [("mlp", "deep", dataset, seed, base + difference), ("svm", "classical", dataset, seed, base)]
    frame = pd.DataFrame(rows, columns=["variant", "family", "dataset", "seed", "value"])
    runs = frame.assign(model=frame["variant"], finished=True, n_train=100, main_metric="test_accuracy")
    summary = pd.DataFrame({"mean rank": [1.0, 2.0]}, index=["svm", "mlp"])
    return runs, summary


def test_the_paired_wilcoxon_test_finds_a_consistent_difference():
    runs, summary = _paired([0.01 * (i + 1) for i in range(10)])  # deep better on every pair
    sentence = analysis.paired_wilcoxon(runs, summary)
    assert sentence == (
        "Wilcoxon signed-rank test, mlp against svm, paired over 10 (dataset, n_train, seed) results: "
        "mlp better in 10, worse in 0; p = 0.00195 (significant at the 5% level)."
    )


def test_the_paired_wilcoxon_test_finds_no_difference_in_symmetric_noise():
    runs, summary = _paired([0.01, -0.011, 0.02, -0.021, 0.03, -0.031, 0.04, -0.041, 0.05, -0.051])
    sentence = analysis.paired_wilcoxon(runs, summary)
    assert "mlp better in 5, worse in 5" in sentence
    assert sentence.endswith("(not significant at the 5% level).")
    p = float(sentence.rsplit("p = ", 1)[1].split(" ", 1)[0])
    assert p > 0.5


def test_the_paired_wilcoxon_test_where_lower_is_better():
    runs, summary = _paired([-0.01 * (i + 1) for i in range(10)])  # deep has the lower MSE on every pair
    runs["main_metric"] = "test_mse"
    assert "mlp better in 10, worse in 0; p = 0.00195 (significant" in analysis.paired_wilcoxon(runs, summary)
