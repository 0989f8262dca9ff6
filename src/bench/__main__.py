"""`python -m src.bench`: measure, print the table, write the JSON."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

import src.bench
from src.bench.models import bench_models
from src.bench.runs import BenchError, bench_overhead, bench_processes
from src.bench.table import render, target_rows
from src.bench.training import ROOT, bench_per_epoch, bench_repeats_together, bench_seeds_together

PARTS = ("per_epoch", "seeds", "repeats", "overhead", "processes", "models")
MODEL_DATASETS = ("mnist1d", "large")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=src.bench.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=5, help="repetitions per measurement (median)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs per per-epoch measurement")
    parser.add_argument("--accuracy-seeds", type=int, default=5, help="seeds averaged for the test accuracies")
    parser.add_argument("--runs", type=int, default=50, help="runs in the fixed-overhead loop")
    parser.add_argument("--repeat-epochs", type=int, default=5, help="epochs of mlp_plus in the repeats part")
    parser.add_argument("--large-rows", type=int, default=100_000, help="rows of the make_classification set")
    models = parser.add_argument_group("models part (fit times of the GBDTs and mlp_plus next to the random forest)")
    models.add_argument("--model-reps", type=int, default=3, help="fits per model on mnist1d (seeds 0..N-1)")
    models.add_argument("--large-reps", type=int, default=1, help="fits per model on the --large-rows set")
    models.add_argument("--model-datasets", nargs="+", choices=MODEL_DATASETS, default=list(MODEL_DATASETS))
    models.add_argument("--model-rows", type=int, default=None, help="mnist1d training rows (default: all 3,600)")
    models.add_argument("--model-epochs", type=int, default=None, help="cap deep models' epochs (default: theirs)")
    models.add_argument(
        "--model-rounds", type=int, default=None, help="cap trees / boosting rounds (default: each model's)"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI: checks it runs, not speed")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=PARTS,
        default=list(PARTS),
        help="measure only these parts (the table then shows only their targets)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench_results" / "bench.json")
    args = parser.parse_args(argv)
    if args.smoke:
        args.reps, args.epochs, args.runs, args.large_rows, args.accuracy_seeds = 1, 2, 3, 2000, 1
        args.repeat_epochs = 1
        args.model_reps, args.large_reps, args.model_rows, args.model_epochs, args.model_rounds = 1, 1, 300, 1, 5

    results: dict[str, Any] = {
        "machine": f"{platform.node()} · {platform.processor() or platform.machine()} · "
        f"{os.cpu_count()} CPUs · Python {platform.python_version()}"
    }
    if "per_epoch" in args.only:
        results["per_epoch"] = {
            "mnist1d": bench_per_epoch("mnist1d", 4000, args.epochs, args.reps, args.accuracy_seeds),
            f"classification_{args.large_rows}": bench_per_epoch(
                "classification", args.large_rows, max(2, args.epochs // 5), args.reps, args.accuracy_seeds
            ),
        }
    if "seeds" in args.only:
        results["seeds_together"] = {
            "mnist1d_100x100": bench_seeds_together("mnist1d", 4000, "[100,100]", args.epochs, args.reps),
            "mnist1d_32": bench_seeds_together("mnist1d", 4000, "[32]", args.epochs, args.reps),
        }
    if "repeats" in args.only:  # the verdicts' R repeats of mlp_plus, as seeds=[0,1,2,3,4] trains them
        results["repeats_together"] = bench_repeats_together(
            300 if args.smoke else 4000, args.repeat_epochs, min(args.reps, 3)
        )
    if "overhead" in args.only:
        results["overhead"] = bench_overhead(args.runs)
        results["overhead_plots"] = bench_overhead(args.runs, "tracking.plots=true")
    if "processes" in args.only:
        try:
            results["processes"] = bench_processes(args.reps)
        except BenchError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    if "models" in args.only:
        small = {"mnist1d_rows": args.model_rows, "epochs": args.model_epochs, "rounds": args.model_rounds}
        results["models"] = {}
        if "mnist1d" in args.model_datasets:
            results["models"]["mnist1d"] = bench_models("mnist1d", args.model_reps, args.large_rows, **small)
        if "large" in args.model_datasets:
            # No one-member mlp_plus here: the ratio is measured on mnist1d, and the
            # large set's fits are long on one thread (README "Performance").
            results["models"][f"classification_{args.large_rows}"] = bench_models(
                "large", args.large_reps, args.large_rows, **small, ensemble_ratio=False
            )
        results["models_limits"] = {k: v for k, v in small.items() if v is not None}
    results["targets"] = [
        {"target": label, "value": value, "bound": f"{op} {bound}", "met": ok}
        for label, value, op, bound, ok in target_rows(results)
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(render(results))
    print(f"\nJSON: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
