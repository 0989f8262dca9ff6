"""The report's sections about one dataset, in the order they appear.

Each is a function `(report, view: DatasetView) -> None`, registered in
SECTIONS with the files it writes. A new per-dataset figure or table is one
function here and one entry in SECTIONS.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from src.markdown_tables import format_cell, markdown_table
from src.reports import figures
from src.reports.analysis import lower_is_better, pareto_points
from src.reports.document import DatasetView, Report, Section
from src.reports.runs import fetch_histories, fetch_importances, history_runs
from src.reports.verdict_sections import dataset_verdicts


def _bold_best(values: pd.Series, lower: bool) -> list[bool]:
    finite = values.dropna()
    if len(finite) < 2:
        return [False] * len(values)
    best = finite.min() if lower else finite.max()
    return [(not pd.isna(v)) and np.isclose(v, best) for v in values]


def _bold_clear_best(means: pd.Series, stds: pd.Series, lower: bool) -> list[bool]:
    """The best mean in bold only where it is clear: its mean ± std does not overlap the
    runner-up's. A tie within the spread over seeds is never called "best"."""
    flags = _bold_best(means, lower)
    finite = means.dropna()
    if not any(flags) or len(finite) < 2:
        return flags
    order = finite.sort_values(ascending=lower)
    best, second = order.index[0], order.index[1]
    spread = stds.fillna(0.0)
    gap = (means[second] - means[best]) if lower else (means[best] - means[second])
    return flags if gap > spread[best] + spread[second] else [False] * len(means)


def model_table_markdown(table: pd.DataFrame, metric: str) -> str:
    """The model table (analysis.model_table): in bold the best of each column (of the metric,
    only where its mean ± std does not overlap the runner-up's)."""
    lower = lower_is_better(metric)
    marks = {
        "mean": _bold_clear_best(table["mean"], table["std"], lower),
        "fit": _bold_best(table["fit"], True),
        "predict": _bold_best(table["predict"], True),
        "n_params": _bold_best(table["n_params"], True),
    }
    rows = []
    for i, row in table.iterrows():
        mean = format_cell(row["mean"])
        cells = {
            "mean": mean if pd.isna(row["std"]) else f"{mean} ± {format_cell(row['std'], 2)}",
            "fit": format_cell(row["fit"], 3),
            "predict": format_cell(row["predict"], 3),
            "n_params": format_cell(row["n_params"]),
        }
        for key, flags in marks.items():
            if flags[i]:
                cells[key] = f"**{cells[key]}**"
        rows.append(
            [
                row["variant"],
                row["family"],
                format_cell(row["n_train"]),
                row["seeds"],
                cells["mean"],
                cells["fit"],
                cells["predict"],
                cells["n_params"],
                row["failed"] or "",
            ]
        )
    header = [
        "model",
        "family",
        "n_train",
        "seeds",
        f"{metric} (mean ± std)",
        "median fit_time_s",
        "median predict_time_s",
        "n_params",
        "failed",
    ]
    return markdown_table(header, rows)


def models(report: Report, view: DatasetView) -> None:
    runs = view.runs
    task = runs["task"].dropna().iloc[0] if runs["task"].notna().any() else "?"
    report.add(f"## {view.name}", "", f"Task: {task}; main metric: `{view.metric}` ({view.direction}).", "")
    table = model_table_markdown(view.table, view.metric)
    report.add(
        "### Models",
        "",
        "Each model at its largest training size; mean ± std over seeds; median times; best of each column "
        "in bold (the metric's only where its mean ± std does not overlap the runner-up's: the verdicts above "
        "say who wins); `failed`: runs that failed or diverged (listed at the end).",
        "",
        table,
        "",
    )
    report.summary += [f"== {view.name} ({view.metric}, {view.direction})", table, ""]


def learning_curves(report: Report, view: DatasetView) -> None:
    if view.curves["n_train"].nunique() < 2:
        return
    cross = view.verdicts.crossover  # drawn where the verdicts turn to deep
    report.add("### Learning curves", "")
    report.figure(
        figures.learning_curves(
            view.curves, view.metric, f"{view.name}: {view.metric} against training-set size", cross.size
        ),
        f"learning_curve_{view.slug}.png",
        f"learning curves {view.name}",
    )


def training_time(report: Report, view: DatasetView) -> None:
    if view.curves["n_train"].nunique() >= 2:
        report.add("### Training time", "")
        report.figure(
            figures.fit_times(view.curves, f"{view.name}: fit time against training-set size"),
            f"fit_time_{view.slug}.png",
            f"fit time {view.name}",
        )
    runs = view.chosen
    deep = runs[runs["finished"] & (runs["family"] == "deep") & (runs["epochs_trained"] > 0)]
    if deep.empty:
        return
    deep = deep.assign(
        per_epoch=deep["fit_time_s"] / deep["epochs_trained"], accelerator=deep["accelerator"].fillna("?")
    )
    largest = deep.groupby("variant")["n_train"].transform("max")
    at = deep[deep["n_train"] == largest]
    rows = [
        [
            v,
            acc,
            format_cell(n),
            format_cell(g["epochs_trained"].median()),
            format_cell(g["per_epoch"].median(), 3),
            format_cell(g["fit_time_s"].median(), 3),
        ]
        for (v, acc, n), g in at.groupby(["variant", "accelerator", "n_train"], sort=False)
    ]
    report.add(
        "Deep models' time per epoch (at each one's largest training size):",
        "",
        markdown_table(["model", "accelerator", "n_train", "epochs", "median s / epoch", "median fit_time_s"], rows),
        "",
    )


def pareto(report: Report, view: DatasetView) -> None:
    points = pareto_points(view.curves, view.metric)
    if len(points) < 2:
        return
    report.add(f"### Time against {view.metric}", "")
    report.figure(
        figures.pareto_scatter(points, view.metric, f"{view.name}: {view.metric} against fit time"),
        f"pareto_{view.slug}.png",
        f"time against {view.metric} {view.name}",
    )
    front = points[points["pareto"]].sort_values("fit")
    report.add(
        "Pareto front (no other point is both faster and better): "
        + "; ".join(
            f"{r.variant} at n_train = {format_cell(r.n_train)} ({format_cell(r.fit, 3)} s, {format_cell(r.mean)})"
            for r in front.itertuples()
        )
        + ".",
        "",
    )


def optimizers(report: Report, view: DatasetView) -> None:
    """Loss curves and the metric against the learning rate, where optimizers or learning rates vary."""
    deep = view.runs[view.runs["family"] == "deep"]
    keys = [k for k in ("params.optimizer.name", "params.optimizer.lr") if k in deep and deep[k].dropna().nunique() > 1]
    if not keys:
        return
    what = " and ".join("optimizers" if k.endswith("name") else "learning rates" for k in keys)
    report.add(f"### Loss curves: {what}", "")
    done = history_runs(deep[deep["finished"]], "train_loss")
    histories = fetch_histories(view.tracking_uri, done, ["train_loss"])
    report.figure(
        figures.loss_curves(histories, f"{view.name}: training loss per epoch"),
        f"loss_curves_{view.slug}.png",
        f"loss curves {view.name}",
    )
    if "params.optimizer.lr" not in keys:
        return
    lr = pd.to_numeric(deep["params.optimizer.lr"], errors="coerce")
    group_key = "params.optimizer.name" if "params.optimizer.name" in deep else None
    group = deep[group_key].fillna("?") if group_key else pd.Series("mlp", index=deep.index)
    frame = pd.DataFrame({"group": group, "lr": lr, "value": deep["value"], "outcome": deep["outcome"]})
    points = frame[deep["finished"]].groupby(["group", "lr"], as_index=False)["value"].mean()
    points = points.rename(columns={"value": "mean"})
    diverged = frame[frame["outcome"] == "diverged"][["group", "lr"]].drop_duplicates()
    report.figure(
        figures.lr_sweep(points, diverged, view.metric, f"{view.name}: {view.metric} against the learning rate"),
        f"lr_sweep_{view.slug}.png",
        f"learning-rate sweep {view.name}",
    )
    if diverged.empty:
        report.add("No run diverged.", "")
        return
    lines = []
    for (g, rate), part in deep[deep["outcome"] == "diverged"].groupby([group, lr]):
        epochs = ", ".join(format_cell(e) for e in part["diverged_epoch"].dropna().unique())
        lines.append(
            f"- {g}, lr = {rate:g}: {len(part)} run(s) diverged (the loss became NaN or inf"
            + (f", at epoch {epochs}" if epochs else "")
            + ")"
        )
    report.add("Diverged (listed, not dropped):", "", *lines, "")


def grad_norms(report: Report, view: DatasetView) -> None:
    runs = view.runs
    columns = sorted(
        (c for c in runs.columns if re.fullmatch(r"metrics\.grad_norm_layer_\d+", c)),
        key=lambda c: int(c.rsplit("_", 1)[-1]),
    )
    done = runs[runs["finished"]]
    if not columns or done[columns].notna().to_numpy().sum() == 0:
        return
    done = done[done[columns[0]].notna()]
    keys = [c.split(".", 1)[1] for c in columns]
    histories = fetch_histories(view.tracking_uri, done, keys)
    if histories.empty:
        return
    histories["layer"] = histories["key"].str.rsplit("_", n=1).str[-1].astype(int)
    activation = done.get("params.activation.name", pd.Series("?", index=done.index)).fillna("?")
    depth = done.get("params.model.hidden_sizes", pd.Series("", index=done.index)).fillna("")
    depth = depth.map(lambda s: f"depth {len(re.findall(r'[0-9]+', s))}" if s else "")
    panels = list(dict.fromkeys(zip(done["variant"], activation, depth)))
    report.add(
        "### Gradient norms per layer",
        "",
        "Mean gradient norm of each layer's weights per epoch (layer 1 = nearest the input), averaged over "
        "seeds. Norms that shrink towards the input layers are vanishing gradients.",
        "",
    )
    report.figure(
        figures.grad_norms(histories, panels, f"{view.name}: gradient norm per layer and epoch"),
        f"grad_norms_{view.slug}.png",
        f"gradient norms {view.name}",
    )
    first = histories[histories["step"] == histories.groupby("run_id")["step"].transform("min")]
    rows = []
    for variant, part in first.groupby("variant", sort=False):
        by_layer = part.groupby("layer")["value"].mean()
        input_layer, output_layer = by_layer.iloc[0], by_layer.iloc[-1]
        ratio = input_layer / output_layer if output_layer > 0 else math.nan
        rows.append(
            [variant, len(by_layer), format_cell(input_layer, 3), format_cell(output_layer, 3), format_cell(ratio, 3)]
        )
    report.add(
        "At the first epoch:",
        "",
        markdown_table(["model", "layers", "grad norm, layer 1", "grad norm, last layer", "layer 1 / last"], rows),
        "",
    )


def importance(report: Report, view: DatasetView) -> None:
    flag = view.runs.get("params.tracking.log_importance")
    if flag is None:
        return
    done = view.runs[view.runs["finished"] & (flag.astype(str) == "True")]
    if done.empty:
        return
    frames = fetch_importances(view.tracking_uri, done)
    if not frames:
        report.add("### Feature importance", "", "No feature_importance.csv found in the runs.", "")
        return
    table = pd.concat(frames, ignore_index=True)
    perm = table[table["kind"] == "permutation"]
    matrix = perm.pivot_table(index="feature", columns="variant", values="importance_mean", aggfunc="mean")
    scaled = matrix / matrix.abs().max().replace(0, 1)
    top = scaled.mean(axis=1).sort_values(ascending=False).head(15).index
    report.add(
        "### Feature importance",
        "",
        "Permutation importance on the test split (how much the main metric worsens when one raw column is "
        "shuffled; mean over 5 shuffles and over seeds), every model through the same predict wrapper. "
        "Columns scaled to each model's largest importance.",
        "",
    )
    report.figure(
        figures.importance_heatmap(matrix.loc[top], f"{view.name}: permutation importance, side by side"),
        f"importance_{view.slug}.png",
        f"feature importance {view.name}",
    )
    rows = [[v, ", ".join(matrix[v].sort_values(ascending=False).head(5).index)] for v in matrix.columns]
    if len(matrix.columns) >= 2:
        agreement = matrix.corr(method="spearman")
        pairs = [(a, b, agreement.loc[a, b]) for i, a in enumerate(matrix.columns) for b in matrix.columns[i + 1 :]]
        mean_rho = np.nanmean([p[2] for p in pairs]) if pairs else math.nan
        report.add(
            f"Mean Spearman correlation of the models' importances: {format_cell(mean_rho, 3)} "
            "(1: they agree on the order of the features).",
            "",
        )
    report.add(markdown_table(["model", "five most important columns (permutation)"], rows), "")
    tree = table[table["kind"] == "tree"]
    if tree.empty:
        return
    tree_top = tree.groupby(["variant", "feature"])["importance_mean"].mean().reset_index()
    rows = [
        [v, ", ".join(g.sort_values("importance_mean", ascending=False)["feature"].head(5))]
        for v, g in tree_top.groupby("variant")
    ]
    report.add(
        "Tree importances (impurity decrease, on the preprocessed columns):",
        "",
        markdown_table(["model", "five most important columns (tree)"], rows),
        "",
    )


SECTIONS = (
    Section(models),
    Section(dataset_verdicts),
    Section(learning_curves, files=("learning_curve_{dataset}.png",)),
    Section(training_time, files=("fit_time_{dataset}.png",)),
    Section(pareto, files=("pareto_{dataset}.png",)),
    Section(optimizers, files=("loss_curves_{dataset}.png", "lr_sweep_{dataset}.png")),
    Section(grad_norms, files=("grad_norms_{dataset}.png",)),
    Section(importance, files=("importance_{dataset}.png",)),
)
