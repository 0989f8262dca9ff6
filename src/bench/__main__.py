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
from src.bench.runs import BenchError, bench_overhead, bench_processes
from src.bench.table import render, target_rows
from src.bench.training import ROOT, bench_per_epoch, bench_seeds_together

PARTS = ("per_epoch", "seeds", "overhead", "processes")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=src.bench.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=5, help="repetitions per measurement (median)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs per per-epoch measurement")
    parser.add_argument("--accuracy-seeds", type=int, default=5, help="seeds averaged for the test accuracies")
    parser.add_argument("--runs", type=int, default=50, help="runs in the fixed-overhead loop")
    parser.add_argument("--large-rows", type=int, default=100_000, help="rows of the make_classification set")
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
    if "overhead" in args.only:
        results["overhead"] = bench_overhead(args.runs)
        results["overhead_plots"] = bench_overhead(args.runs, "tracking.plots=true")
    if "processes" in args.only:
        try:
            results["processes"] = bench_processes(args.reps)
        except BenchError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
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
