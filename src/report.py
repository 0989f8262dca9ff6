"""Entry point: `python -m src.report [--study NAME] [--experiment NAME] [--tag KEY=VALUE] ...`.

    python -m src.report --study data_dependency
    python -m src.report --experiment mlvsdl --tag dataset=digits
    python -m src.report --study main --sweep latest      # only the last sweep of the study

Writes reports/<study or experiment>/report.md with its PNG plots from the runs
in MLflow, and logs them as a report run; see src/reports/build.py.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

from src.tracking.record import Artifact


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m src.report",
        description="Write a Markdown report (tables, learning curves, crossover, Pareto front, ranks, failed runs) "
        "of MLflow runs, and log it as a report run.",
    )
    parser.add_argument(
        "--experiment", action="append", default=[], help="MLflow experiment (repeatable; default: every experiment)"
    )
    parser.add_argument("--study", help="only runs tagged study=<name>")
    parser.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="only runs with this tag (repeatable), e.g. --tag dataset=digits",
    )
    parser.add_argument(
        "--sweep",
        metavar="latest|RUN_ID",
        help="only the jobs of one sweep: the latest one among the matching runs, or the sweep's parent run id",
    )
    parser.add_argument(
        "--verdict-metric",
        default="auto",
        choices=["auto", "roc_auc", "log_loss", "brier", "accuracy", "f1_macro", "rmse", "mae", "mse", "r2"],
        help="what the verdicts compare (default auto: roc_auc for classification, rmse for regression)",
    )
    parser.add_argument(
        "--margin",
        type=float,
        help="the equivalence margin, in the verdict metric's units (default: 0.01 for roc_auc and accuracy, "
        "0.02 for log_loss, 2%% of the constant predictor's rmse or mae)",
    )
    parser.add_argument("--tracking-uri", help="MLflow store (default: $MLFLOW_TRACKING_URI, else ./mlflow.db)")
    parser.add_argument(
        "--out", type=Path, help="folder for report.md and its PNGs (default: reports/<study or experiment>/)"
    )
    parser.add_argument("--no-log", action="store_true", help="do not log the report as an MLflow run")
    parser.add_argument(
        "--quiet", action="store_true", help="print only where the report is (no summary, no progress lines)"
    )
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Exit status: 0 with a report; 2 for what the user can fix (no matching
    runs, no such store or experiment, an unusable store), 1 for any other
    failure, 130 on Ctrl-C; each failure in one line on stderr, no traceback
    (HYDRA_FULL_ERROR=1 shows it, as for training)."""
    try:
        return _report(parse_args(argv))
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while closing up stays quiet too
        print("interrupted: no report was written", file=sys.stderr)
        return 130
    except Exception as exc:
        from src.errors import UserError, one_line
        from src.tracking.secrets import mask_secrets

        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"error: {mask_secrets(one_line(exc))}", file=sys.stderr)
        return exc.exit_code if isinstance(exc, UserError) else 1


def _report(args: argparse.Namespace) -> int:
    from src.reports.build import VerdictSettings, make_report
    from src.reports.runs import RunFilter

    tags = {}
    for item in args.tag:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"error: --tag {item}: use KEY=VALUE", file=sys.stderr)
            return 2
        tags[key] = value
    if args.margin is not None and not args.margin > 0:
        print(f"error: --margin {args.margin}: the equivalence margin must be > 0", file=sys.stderr)
        return 2
    run_filter = RunFilter(args.experiment, args.study, tags, args.sweep)
    verdict = VerdictSettings(args.verdict_metric, args.margin)
    started = time.monotonic()
    # What the report is doing, on stderr for a person at a terminal (a large store takes a
    # while to read); piped or captured, stderr keeps only an error's one line.
    show_progress = not args.quiet and sys.stderr.isatty()

    def progress(message: str) -> None:
        if show_progress:
            print(f"report [{time.monotonic() - started:5.1f} s] {message}", file=sys.stderr, flush=True)

    report = make_report(
        run_filter, args.tracking_uri, args.out, log=not args.no_log, progress=progress, verdict=verdict
    )
    if not args.quiet:
        print("\n".join(report.summary).rstrip())
    where = report.out / Artifact.REPORT_MD
    print(f"\nreport: {where}" + (f"  [mlflow report run {report.run_id}]" if report.run_id else ""))
    return 0


if __name__ == "__main__":
    try:
        code = main()
    except KeyboardInterrupt:  # between main's own handlers: as quiet
        code = 130
        print("interrupted: no report was written", file=sys.stderr)
    # Exiting: a late Ctrl-C must not turn the exit status into a death by SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if code == 130:
        # An interrupt that landed inside code a C library ran while importing
        # leaves CPython's "unhandled KeyboardInterrupt" flag set even though it
        # was handled here, and the interpreter would then end by SIGINT (-2):
        # run the exit hooks (the SQLite store's reset), then leave with 130.
        import atexit

        sys.stdout.flush()
        sys.stderr.flush()
        atexit._run_exitfuncs()
        os._exit(130)
    sys.exit(code)
