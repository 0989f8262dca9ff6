"""The models table never calls a tie "best"."""

import pandas as pd

from src.reports.dataset_sections import _bold_clear_best


def test_the_best_mean_is_bold_only_where_its_spread_does_not_overlap_the_runner_ups():
    means, stds = pd.Series([0.956, 0.950, 0.90]), pd.Series([0.017, 0.01, 0.01])
    assert _bold_clear_best(means, stds, lower=False) == [False, False, False]  # 0.956 ± 0.017 vs 0.950 ± 0.01
    clear = _bold_clear_best(pd.Series([0.99, 0.95, 0.90]), pd.Series([0.005, 0.01, 0.01]), lower=False)
    assert clear == [True, False, False]
    errors = _bold_clear_best(pd.Series([1.0, 2.0]), pd.Series([0.1, 0.1]), lower=True)
    assert errors == [True, False]
