"""The report's figures agree with each other: one colour and one marker per model in every
figure, whichever other models a figure shows; Pareto points carry their training size."""

import numpy as np
import pandas as pd
from matplotlib.colors import to_rgba

from src.reports import figures


def _legend(fig) -> dict[str, tuple]:
    (ax,) = fig.axes
    handles, labels = ax.get_legend_handles_labels()
    styles = {}
    for handle, label in zip(handles, labels):
        if hasattr(handle, "get_facecolor"):  # a scatter
            color, marker = tuple(handle.get_facecolor()[0]), None
        else:  # a line
            color, marker = to_rgba(handle.get_color()), handle.get_marker()
        styles[label] = (tuple(np.round(color, 6)), marker)
    return styles


def test_a_model_keeps_its_colour_and_marker_across_figures():
    figures.use_palette(["lightgbm", "logistic_regression", "mlp_plus", "random_forest"])
    curves = pd.DataFrame(
        {
            "variant": ["logistic_regression"] * 2 + ["mlp_plus"] * 2,
            "family": ["classical"] * 2 + ["deep"] * 2,
            "n_train": [64, 512] * 2,
            "mean": [0.8, 0.9, 0.7, 0.95],
            "std": [0.01] * 4,
            "n": [5] * 4,
            "fit": [0.1, 0.2, 1.0, 2.0],
        }
    )
    learning = _legend(figures.learning_curves(curves, "test_roc_auc", "t", None))
    times = _legend(figures.fit_times(curves, "t"))
    points = pd.DataFrame(
        {
            "variant": ["lightgbm", "logistic_regression", "mlp_plus"],  # another set of models, another order
            "family": ["classical", "classical", "deep"],
            "train_s": [0.1, 0.01, 1.0],
            "score": [1.0, 0.0, 0.5],
            "pareto": [True, True, False],
        }
    )
    across = _legend(figures.score_against_time(points, "t"))
    for model in ("logistic_regression", "mlp_plus"):
        assert learning[model][0] == times[model][0] == across[model][0], model
        assert learning[model][1] == times[model][1] == figures.marker_of(model)
    assert learning["logistic_regression"][0] != learning["mlp_plus"][0]


def test_pareto_points_are_labelled_with_their_training_size():
    figures.use_palette(["a", "b"])
    points = pd.DataFrame(
        {"variant": ["a", "a", "b"], "n_train": [64, 512, 64], "fit": [0.1, 0.5, 1.0], "mean": [0.8, 0.9, 0.85]}
    ).assign(pareto=[True, True, False])
    fig = figures.pareto_scatter(points, "test_roc_auc", "t")
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    assert texts == ["512", "64", "64"]
