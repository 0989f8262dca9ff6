"""Run-level pictures, drawn headless with matplotlib's object API (no pyplot state)."""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np
from matplotlib.figure import Figure

PredictFn = Callable[[np.ndarray], np.ndarray]


def loss_curves(history: Sequence[dict[str, float]], title: str) -> Optional[Figure]:
    """Loss (and accuracy, for classification) per epoch, train against validation."""
    if not history:
        return None
    epochs = np.arange(len(history))
    panels = [("loss", "train_loss", "val_loss")]
    if any("train_epoch_accuracy" in row for row in history):
        panels.append(("accuracy", "train_epoch_accuracy", "val_accuracy"))
    fig = Figure(figsize=(5 * len(panels), 4))
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.13, top=0.9, wspace=0.3)
    for i, (label, train_key, val_key) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        for key, name in ((train_key, "train"), (val_key, "validation")):
            values = [row.get(key, np.nan) for row in history]
            if not np.all(np.isnan(values)):
                ax.plot(epochs, values, label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_title(f"{title}: {label}")
        ax.legend()
    return fig


def confusion_matrix_figure(cm: np.ndarray, class_names: Sequence[str], title: str) -> Figure:
    size = max(4.0, 0.5 * len(class_names) + 2)
    fig = Figure(figsize=(size, size))
    fig.subplots_adjust(left=0.15, right=0.95, bottom=0.15, top=0.9)
    ax = fig.add_subplot()
    ax.imshow(cm, cmap="Blues")
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45 if len(class_names) > 4 else 0)
    ax.set_yticks(ticks, class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = cm.max() / 2 if cm.size else 0
    for (i, j), value in np.ndenumerate(cm):
        ax.text(j, i, str(value), ha="center", va="center", color="white" if value > threshold else "black")
    ax.set_title(f"{title}: confusion matrix (test)")
    return fig


def predicted_vs_true(y_true: np.ndarray, y_pred: np.ndarray, title: str, split: str) -> Figure:
    fig = Figure(figsize=(5, 5))
    fig.subplots_adjust(left=0.15, right=0.95, bottom=0.12, top=0.9)
    ax = fig.add_subplot()
    ax.scatter(y_true, y_pred, s=14, alpha=0.7, edgecolors="none")
    low, high = float(np.min([y_true.min(), y_pred.min()])), float(np.max([y_true.max(), y_pred.max()]))
    ax.plot([low, high], [low, high], color="grey", linestyle="--", label="y = x")
    ax.set_xlabel("true")
    ax.set_ylabel("predicted")
    ax.set_title(f"{title}: predicted vs true ({split})")
    ax.legend()
    return fig


def fitted_curve(predict: PredictFn, panels: Sequence[tuple[str, np.ndarray, np.ndarray]], title: str) -> Figure:
    """One-feature data with the model's curve over it, one panel per split."""
    fig = Figure(figsize=(5 * len(panels), 4))
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.13, top=0.9, wspace=0.3)
    for i, (split, x, y) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        grid = np.linspace(x.min(), x.max(), 200)[:, None]
        ax.scatter(x, y, color="tab:red", edgecolors="tab:green", label="data")
        ax.plot(grid[:, 0], predict(grid), color="tab:blue", label="model")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title(f"{title} ({split})")
        ax.legend()
    return fig


def decision_regions(
    predict: PredictFn,
    panels: Sequence[tuple[str, np.ndarray, np.ndarray]],
    class_names: Sequence[str],
    title: str,
    resolution: int = 200,
) -> Figure:
    """Two-feature classification: predicted class over a grid, points on top."""
    all_x = np.concatenate([x for _, x, _ in panels])
    pad = 0.1 * (all_x.max(0) - all_x.min(0) + 1e-9)
    lo, hi = all_x.min(0) - pad, all_x.max(0) + pad
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    regions = predict(np.column_stack([g0.ravel(), g1.ravel()])).reshape(g0.shape)
    n_classes = len(class_names)
    fig = Figure(figsize=(5 * len(panels), 4.5))
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.12, top=0.9, wspace=0.3)
    for i, (split, x, y) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        ax.contourf(g0, g1, regions, levels=np.arange(n_classes + 1) - 0.5, cmap="coolwarm", alpha=0.3)
        for k, name in enumerate(class_names):
            mask = y == k
            ax.scatter(x[mask, 0], x[mask, 1], s=18, label=f"class {name}", edgecolors="k", linewidths=0.3)
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        ax.set_title(f"{title}: decision regions ({split})")
        ax.legend(fontsize="small")
    return fig
