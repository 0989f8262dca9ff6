"""The benchmark's targets, and its results as Markdown tables."""

from __future__ import annotations

from typing import Any

from src.markdown_tables import markdown_table

TARGETS = [
    ("per-epoch (a)/(b), {d}", lambda r, d: r["per_epoch"][d]["ratio_pipeline_vs_hand_loop"], "<=", 1.1),
    ("per-epoch (a)/(c), {d}", lambda r, d: r["per_epoch"][d]["ratio_pipeline_vs_sklearn"], "<=", 1.0),
    (
        "accuracy |(a)-(b)|, {d}",
        lambda r, d: abs(r["per_epoch"][d]["pipeline_accuracy"] - r["per_epoch"][d]["hand_loop_accuracy"]),
        "<=",
        0.01,
    ),
    # Speed must not be bought with quality: the pipeline may not trail scikit-learn by more
    # than a point. (They initialise differently, so they are not expected to agree exactly;
    # (a) and (b) share the initialisation and must.)
    (
        "accuracy (c) - (a), {d}",
        lambda r, d: r["per_epoch"][d]["sklearn_accuracy"] - r["per_epoch"][d]["pipeline_accuracy"],
        "<=",
        0.01,
    ),
]
RUN_TARGETS = [
    ("fixed overhead per run (s)", lambda r: r["overhead"]["overhead_median_s"], "<=", 0.3),
    (
        "overhead growth over the runs (last/first fifth)",
        lambda r: r["overhead"]["overhead_last_fifth_median_s"] / r["overhead"]["overhead_first_fifth_median_s"],
        "<=",
        1.2,
    ),
    # "A run's wall time" read two ways: the whole command a user types, and one run
    # inside a long sweep process (no imports or start-up in the denominator).
    (
        "MLflow share of a deep run's wall time (python -m src.train)",
        lambda r: r["processes"]["deep_run_mlflow_share"],
        "<=",
        0.05,
    ),
    (
        "MLflow share of a run's wall time inside the 50-run loop (no imports, no start-up)",
        lambda r: r["overhead"]["mlflow_share_median"],
        "<=",
        0.05,
    ),
    ("--help (s)", lambda r: r["processes"]["help_s"], "<=", 1.5),
    (
        "a run on an unreachable tracking server fails within (s)",
        lambda r: r["processes"]["unreachable_server_s"],
        "<=",
        60,
    ),
    (
        "a silent tracking server is given up on within (s), timeout 0.5 s",
        lambda r: r["processes"]["silent_server_s"],
        "<=",
        5,
    ),
    ("config error (s)", lambda r: r["processes"]["config_error_s"], "<=", 1.5),
    ("deep run beyond imports (s)", lambda r: r["processes"]["deep_beyond_imports_s"], "<=", 1.5),
    ("classical run imports torch", lambda r: float(r["processes"]["classical_imports_torch"]), "<=", 0),
    ("classical run imports Lightning", lambda r: float(r["processes"]["classical_imports_lightning"]), "<=", 0),
]
# Measured and shown, without a target.
INFO = [
    ("fixed overhead per run with tracking.plots=true (s)", lambda r: r["overhead_plots"]["overhead_median_s"]),
    ("MLflow seconds per run inside the loop", lambda r: r["overhead"]["mlflow_median_s"]),
    ("MLflow seconds of a deep run's process", lambda r: r["processes"]["deep_run_mlflow_s"]),
    (
        "K=5 seeds together / one seed, whole `python -m src.train` (mnist1d, 100-100, 20 epochs)",
        lambda r: r["processes"]["seeds_five_process_s"] / r["processes"]["seed_one_process_s"],
    ),
    (
        "imports torch, Lightning, MLflow, sklearn, pandas, as src.train loads them (s)",
        lambda r: r["processes"]["imports_torch_lightning_mlflow_s"],
    ),
    ("the same imports with the garbage collector running (s)", lambda r: r["processes"]["imports_with_collector_s"]),
    ("deep run, whole process (s)", lambda r: r["processes"]["deep_run_s"]),
    ("classical run, whole process (s)", lambda r: r["processes"]["classical_run_s"]),
]


def target_rows(results: dict[str, Any]) -> list[tuple[str, float, str, float, bool]]:
    rows = []
    for key, r in results.get("seeds_together", {}).items():
        rows.append((f"K={r['k']} seeds together / one seed, {key}", r["ratio"], "<=", 1.5, r["ratio"] <= 1.5))
    repeats = results.get("repeats_together")
    if repeats:  # the verdicts' repeats: at most the cost of running them one after the other
        r = repeats
        label = (
            f"R={r['r']} {r['model']} repeats together / one (K={r['members']} members each, mnist1d "
            f"{r['n_train']} rows, {r['epochs']} epochs, {r['threads']} thread)"
        )
        rows.append((label, r["ratio"], "<=", r["r"], r["ratio"] <= r["r"]))
    for key, r in results.get("models", {}).items():
        if "ensemble" in r:  # K members trained together against one: far less than K fits
            e = r["ensemble"]
            label = f"mlp_plus K={e['k']} members together / K=1, fit time, {key} (K single fits: {e['k']})"
            rows.append((label, e["ratio"], "<=", e["k"] / 2, e["ratio"] <= e["k"] / 2))
    for label, get, op, bound in TARGETS:
        for dataset, measured in results.get("per_epoch", {}).items():
            value = get(results, dataset)
            note = "" if measured.get("valid", True) else " (invalid: T(epochs) <= T(1), noise swamped the epochs)"
            rows.append((label.format(d=dataset) + note, value, op, bound, value <= bound))
    for label, get, op, bound in RUN_TARGETS:
        try:
            value = get(results)
        except (KeyError, TypeError, ZeroDivisionError):
            continue
        rows.append((label, value, op, bound, value <= bound))
    return rows


def render(results: dict[str, Any]) -> str:
    lines = [f"# mlvsdl benchmark — {results['machine']}", ""]
    if results.get("per_epoch"):
        header = ["dataset", "n_train", "(a) pipeline ms/epoch", "(b) hand loop", "(c) sklearn", "(a)/(b)", "(a)/(c)"]
        rows = [
            [
                name,
                r["n_train"],
                f"{r['pipeline_epoch_s'] * 1e3:.1f}",
                f"{r['hand_loop_epoch_s'] * 1e3:.1f}",
                f"{r['sklearn_epoch_s'] * 1e3:.1f}",
                f"{r['ratio_pipeline_vs_hand_loop']:.2f}",
                f"{r['ratio_pipeline_vs_sklearn']:.2f}",
                f"{r['pipeline_accuracy']:.3f}",
                f"{r['hand_loop_accuracy']:.3f}",
                f"{r['sklearn_accuracy']:.3f}",
            ]
            for name, r in results["per_epoch"].items()
        ]
        lines += [
            markdown_table([*header, "acc (a)", "acc (b)", "acc (c)"], rows),
            "",
            "Times: median over the repetitions, one thread each. Accuracies: mean test accuracy over "
            + ", ".join(
                f"{r.get('accuracy_seeds', 1)} seeds after {r['epochs']} epochs ({name})"
                for name, r in results["per_epoch"].items()
            )
            + ".",
            "",
        ]
    if results.get("models"):
        lines += [models_table(results["models"], results.get("models_limits", {})), ""]
    targets = [
        [label, f"{value:.3f}", f"{op} {bound}", "yes" if ok else "NO"]
        for label, value, op, bound, ok in target_rows(results)
    ]
    if targets:
        lines.append(markdown_table(["target", "measured", "bound", "met"], targets))
    info = []
    for label, get in INFO:
        try:
            info.append([label, f"{get(results):.3f}"])
        except (KeyError, TypeError):
            continue
    if info:
        lines += ["", markdown_table(["also measured", "value"], info)]
    return "\n".join(lines)


def models_table(by_dataset: dict[str, Any], limits: dict[str, Any]) -> str:
    """One row per model, per dataset its median fit time, the time over the random
    forest's, the mean test accuracy and the rounds / epoch early stopping kept."""
    labels = list(dict.fromkeys(label for r in by_dataset.values() for label in r["models"]))
    header = ["model"]
    for key, r in by_dataset.items():
        header += [f"{key} fit (s), {r['reps']} rep{'s' if r['reps'] != 1 else ''}", "× RF", "test acc", "kept"]
    rows = []
    for label in labels:
        row = [label]
        for r in by_dataset.values():
            m = r["models"].get(label)
            reference = r["models"].get("random_forest")
            if m is None:
                row += ["—"] * 4
                continue
            row += [
                f"{m['fit_s']:.2f}",
                f"{m['fit_s'] / reference['fit_s']:.2f}" if reference else "—",
                f"{m['accuracy']:.3f} ± {m['accuracy_std']:.3f}",
                "—" if m["kept_median"] is None else f"{m['kept_median']:g}",
            ]
        rows.append(row)
    sizes = "; ".join(
        f"{key}: {r['n_train']:,} training rows, median of {r['reps']} fit(s), seeds {r['seeds']}"
        for key, r in by_dataset.items()
    )
    threads = {str(t) for r in by_dataset.values() for t in r["cpu_threads"]}
    notes = [n for r in by_dataset.values() for n in r["notes"]]
    lines = [
        markdown_table(header, rows),
        "",
        f"Fit times as a run takes them (the runner's stages and timer, trainer.cpu_threads={'/'.join(sorted(threads))}, "
        f"early stopping on the validation split): {sizes}. × RF: fit time over the random forest's. "
        "test acc: mean ± std over the seeds. kept: the boosting rounds, or epochs, of the model that "
        "predicts (early stopping's best round, the restored best epoch; median over the seeds).",
    ]
    if limits:
        lines.append("Capped for this run: " + ", ".join(f"{k}={v}" for k, v in limits.items()) + ".")
    lines += [f"Note: {n}." for n in dict.fromkeys(notes)]
    return "\n".join(lines)
