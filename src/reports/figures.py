"""The report's pictures, drawn headless with matplotlib's object API (no pyplot state).

Every function takes tidy pandas frames prepared by `src.reports.analysis` and
returns a `Figure` (or None when there is nothing to draw).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

DEEP_STYLE = {"linestyle": "-", "linewidth": 2.0}
CLASSICAL_STYLE = {"linestyle": "--", "linewidth": 1.4}


MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")
# The report's model -> (colour, marker), set once per report (use_palette): every figure draws
# a model alike, whichever other models it shows.
_PALETTE: dict[str, tuple[tuple, str]] = {}


def use_palette(labels: Sequence[str]) -> None:
    """One colour and one marker per label, for every figure drawn until the next call."""
    from matplotlib import colormaps

    labels = sorted(dict.fromkeys(map(str, labels)))
    cmap = colormaps["tab10" if len(labels) <= 10 else "tab20"]
    _PALETTE.clear()
    _PALETTE.update({label: (cmap(i % cmap.N), MARKERS[i % len(MARKERS)]) for i, label in enumerate(labels)})


def _colors(labels: Sequence[str]) -> dict[str, tuple]:
    """The palette's colour of each label; labels it lacks get colours of their own."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(labels) <= 10 else "tab20"]
    return {label: _PALETTE[label][0] if label in _PALETTE else cmap(i % cmap.N) for i, label in enumerate(labels)}


def marker_of(label: str, default: str = "o") -> str:
    return _PALETTE[label][1] if label in _PALETTE else default


def _figure_with_side_legend(height: float, right: float = 0.7) -> tuple[Figure, Any]:
    """One axes, with room on the right for the legend (see `_side_legend`)."""
    fig = Figure(figsize=(7.5, height))
    fig.subplots_adjust(left=0.1, right=right, bottom=0.12, top=0.9)
    return fig, fig.add_subplot()


def _side_legend(ax: Any, fontsize: float = 8, **kwargs: Any) -> None:
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=fontsize, **kwargs)


def _style(family: str) -> dict:
    return DEEP_STYLE if family == "deep" else CLASSICAL_STYLE


def learning_curves(
    curves: pd.DataFrame, metric: str, title: str, crossover: Optional[float] = None
) -> Optional[Figure]:
    """Metric against training-set size (log x), one line per variant, a band of ± one std over seeds.

    `curves`: columns variant, family, n_train, mean, std, n."""
    if curves.empty:
        return None
    fig, ax = _figure_with_side_legend(4.8)
    variants = list(dict.fromkeys(curves["variant"]))
    colors = _colors(variants)
    for variant in variants:
        part = curves[curves["variant"] == variant].sort_values("n_train")
        style = _style(part["family"].iloc[0])
        x, mean, std = (
            part["n_train"].to_numpy(float),
            part["mean"].to_numpy(float),
            part["std"].fillna(0).to_numpy(float),
        )
        ax.plot(x, mean, marker=marker_of(variant), markersize=3, color=colors[variant], label=variant, **style)
        if (part["n"] > 1).any():
            ax.fill_between(x, mean - std, mean + std, color=colors[variant], alpha=0.15, linewidth=0)
    if crossover is not None:
        ax.axvline(crossover, color="black", linestyle=":", linewidth=1)
        ax.annotate("crossover", (crossover, ax.get_ylim()[1]), textcoords="offset points", xytext=(3, -12), fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("training-set size n_train (log scale)")
    ax.set_ylabel(metric)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    _side_legend(ax, title="solid: deep, dashed: classical", title_fontsize=7)
    return fig


def fit_times(curves: pd.DataFrame, title: str) -> Optional[Figure]:
    """Median fit_time_s against n_train (log-log), one line per variant. Columns variant, family, n_train, fit."""
    curves = curves.dropna(subset=["fit"])
    if curves.empty:
        return None
    fig, ax = _figure_with_side_legend(4.5)
    variants = list(dict.fromkeys(curves["variant"]))
    colors = _colors(variants)
    for variant in variants:
        part = curves[curves["variant"] == variant].sort_values("n_train")
        style = _style(part["family"].iloc[0])
        ax.plot(
            part["n_train"],
            np.maximum(part["fit"], 1e-5),
            marker=marker_of(variant),
            markersize=3,
            color=colors[variant],
            label=variant,
            **style,
        )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("training-set size n_train (log scale)")
    ax.set_ylabel("median fit_time_s (log scale)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    _side_legend(ax)
    return fig


def pareto_scatter(points: pd.DataFrame, metric: str, title: str) -> Optional[Figure]:
    """Time against the metric, one point per (variant, n_train); the Pareto front drawn and ringed.

    `points`: columns variant, n_train, fit, mean, pareto (bool)."""
    points = points.dropna(subset=["fit", "mean"])
    if points.empty:
        return None
    fig, ax = _figure_with_side_legend(4.8)
    variants = list(dict.fromkeys(points["variant"]))
    colors = _colors(variants)
    x = np.maximum(points["fit"].to_numpy(float), 1e-5)
    for variant in variants:
        mask = (points["variant"] == variant).to_numpy()
        y = points["mean"].to_numpy(float)[mask]
        ax.scatter(x[mask], y, s=22, color=colors[variant], marker=marker_of(variant), label=variant, alpha=0.85)
        for xi, yi, size in zip(x[mask], y, points["n_train"].to_numpy()[mask]):  # each point's training size
            ax.annotate(f"{size:g}", (xi, yi), textcoords="offset points", xytext=(3, 3), fontsize=6, alpha=0.7)
    front = points[points["pareto"]].sort_values("fit")
    if not front.empty:
        fx = np.maximum(front["fit"].to_numpy(float), 1e-5)
        ax.step(fx, front["mean"], where="post", color="black", linewidth=1, label="Pareto front")
        ax.scatter(fx, front["mean"], s=90, facecolors="none", edgecolors="black", linewidths=1.2)
    ax.set_xscale("log")
    ax.set_xlabel("median fit_time_s (log scale)")
    ax.set_ylabel(metric)
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    _side_legend(ax)
    return fig


def loss_curves(histories: pd.DataFrame, title: str, ylabel: str = "train_loss") -> Optional[Figure]:
    """Mean (over seeds) loss per epoch, one line per variant, log y. Columns variant, step, value."""
    if histories.empty:
        return None
    fig, ax = _figure_with_side_legend(4.5, right=0.66)
    variants = list(dict.fromkeys(histories["variant"]))
    colors = _colors(variants)
    for variant in variants:
        part = histories[histories["variant"] == variant].groupby("step")["value"].mean()
        ax.plot(part.index, part.to_numpy(), color=colors[variant], label=variant, linewidth=1.4)
    values = histories["value"].to_numpy(float)
    if np.all(values[np.isfinite(values)] > 0):
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"{ylabel} (mean over seeds)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    _side_legend(ax, fontsize=7)
    return fig


def lr_sweep(points: pd.DataFrame, diverged: pd.DataFrame, metric: str, title: str) -> Optional[Figure]:
    """The metric against the learning rate (log x), one line per group; diverged runs as red crosses.

    `points`: group, lr, mean; `diverged`: group, lr."""
    if points.empty and diverged.empty:
        return None
    fig, ax = _figure_with_side_legend(4.5)
    groups = list(dict.fromkeys(list(points.get("group", [])) + list(diverged.get("group", []))))
    colors = _colors(groups)
    for group in groups:
        part = points[points["group"] == group].sort_values("lr")
        if not part.empty:
            ax.plot(part["lr"], part["mean"], marker="o", markersize=4, color=colors[group], label=group)
    if not diverged.empty:
        low, high = ax.get_ylim() if not points.empty else (0.0, 1.0)
        ax.scatter(
            diverged["lr"],
            np.full(len(diverged), low),
            marker="x",
            s=70,
            color="red",
            zorder=5,
            label="diverged (loss NaN/inf)",
            clip_on=False,
        )
        ax.set_ylim(low, high)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel(metric)
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    _side_legend(ax)
    return fig


def grad_norms(histories: pd.DataFrame, panels: list[tuple[str, str, str]], title: str) -> Optional[Figure]:
    """Per-layer gradient norm per epoch, one panel per variant (rows x columns when two keys vary).

    `histories`: variant, layer, step, value; `panels`: (variant, row label, column label)."""
    if histories.empty or not panels:
        return None
    rows = list(dict.fromkeys(r for _, r, _ in panels))
    cols = list(dict.fromkeys(c for _, _, c in panels))
    fig = Figure(figsize=(3.2 * len(cols) + 1, 2.5 * len(rows) + 0.8))
    fig.subplots_adjust(
        left=0.08, right=0.98, bottom=0.08, top=1 - 0.5 / (2.5 * len(rows) + 0.8) - 0.04, hspace=0.55, wspace=0.3
    )
    fig.suptitle(title, fontsize=10)
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    finite = histories["value"].to_numpy(float)
    finite = finite[np.isfinite(finite) & (finite > 0)]
    ylim = (finite.min() / 2, finite.max() * 2) if len(finite) else None
    for variant, row, col in panels:
        ax = fig.add_subplot(len(rows), len(cols), rows.index(row) * len(cols) + cols.index(col) + 1)
        part = histories[histories["variant"] == variant]
        layers = sorted(part["layer"].unique())
        for layer in layers:
            series = part[part["layer"] == layer].groupby("step")["value"].mean()
            color = cmap(0.0 if len(layers) == 1 else (layer - 1) / (len(layers) - 1))
            ax.plot(
                series.index,
                np.maximum(series.to_numpy(float), 1e-12),
                color=color,
                linewidth=1,
                label=f"layer {layer}" if layer in (layers[0], layers[-1]) else None,
            )
        ax.set_yscale("log")
        if ylim:
            ax.set_ylim(*ylim)
        ax.set_title(f"{row} | {col}" if col else row, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6, loc="lower left")
    return fig


def importance_heatmap(table: pd.DataFrame, title: str) -> Optional[Figure]:
    """Features (rows) x models (columns): permutation importance, scaled to each model's largest."""
    if table.empty:
        return None
    fig = Figure(figsize=(1.1 * table.shape[1] + 3.5, 0.32 * table.shape[0] + 1.8))
    fig.subplots_adjust(left=0.3, right=0.9, bottom=0.25, top=0.9)
    ax = fig.add_subplot()
    values = table.to_numpy(float)
    scale = np.nanmax(np.abs(values), axis=0)
    scaled = values / np.where(scale > 0, scale, 1)
    image = ax.imshow(scaled, aspect="auto", cmap="viridis", vmin=min(0.0, float(np.nanmin(scaled))), vmax=1)
    ax.set_xticks(range(table.shape[1]), labels=list(table.columns), rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(table.shape[0]), labels=list(table.index), fontsize=7)
    fig.colorbar(image, ax=ax, label="importance / the model's largest")
    ax.set_title(title, fontsize=10)
    return fig


def critical_difference(ranks: pd.Series, p_values: pd.DataFrame, title: str) -> Optional[Figure]:
    """Mean ranks on one axis, models that Nemenyi's test cannot tell apart joined by a bar
    (scikit-posthocs' critical_difference_diagram)."""
    import scikit_posthocs

    if len(ranks) < 2:
        return None
    fig = Figure(figsize=(7.5, 0.9 + 0.28 * len(ranks)))
    ax = fig.add_subplot()
    scikit_posthocs.critical_difference_diagram(
        ranks, p_values, ax=ax, label_fmt_left="{label} ({rank:.2f})  ", label_fmt_right="  ({rank:.2f}) {label}"
    )
    ax.set_title(title, fontsize=10)
    return fig


def score_against_time(points: pd.DataFrame, title: str) -> Optional[Figure]:
    """Mean normalised score against fit time per 1,000 rows (at each model's largest training
    size, where the scores are taken), one point per model; the Pareto
    front drawn and ringed. `points`: columns variant, family, train_s, score, pareto (bool)."""
    points = points.dropna(subset=["train_s", "score"])
    if points.empty:
        return None
    fig, ax = _figure_with_side_legend(4.8)
    colors = _colors(list(points["variant"]))
    x = np.maximum(points["train_s"].to_numpy(float), 1e-5)
    for (_, row), xi in zip(points.iterrows(), x):
        marker = marker_of(row["variant"], "o" if row["family"] == "deep" else "s")
        ax.scatter([xi], [row["score"]], s=30, color=colors[row["variant"]], marker=marker, label=row["variant"])
    front = points[points["pareto"]].sort_values("train_s")
    fx = np.maximum(front["train_s"].to_numpy(float), 1e-5)
    ax.step(fx, front["score"], where="post", color="black", linewidth=1, label="Pareto front")
    ax.scatter(fx, front["score"], s=90, facecolors="none", edgecolors="black", linewidths=1.2)
    ax.set_xscale("log")
    ax.set_xlabel("median fit time per 1,000 training rows at the largest size, s (log scale)")
    ax.set_ylabel("mean normalised score (best 1, worst 0)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    _side_legend(ax)
    return fig
