"""The benchmark command runs end to end (a smoke run: it checks the machinery, not the speed)."""

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def test_bench_smoke_writes_its_table_and_json(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "src.bench", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "(a) pipeline ms/epoch" in proc.stdout and "| target | measured | bound | met |" in proc.stdout
    results = json.loads(out.read_text())
    assert set(results["per_epoch"]) == {"mnist1d", "classification_2000"}
    for row in results["per_epoch"].values():  # two epochs, one repetition: timings may be pure noise
        assert row["valid"] == (min(row["pipeline_epoch_s"], row["hand_loop_epoch_s"], row["sklearn_epoch_s"]) > 0)
    assert results["overhead"]["runs"] == 3
    assert results["processes"]["help_s"] > 0
    assert 0 < results["processes"]["deep_run_mlflow_s"] < results["processes"]["deep_run_s"]  # the clock ran
    assert results["overhead"]["mlflow_median_s"] > 0
    assert results["processes"]["unreachable_server_s"] > 0 and results["processes"]["silent_server_s"] > 0
    assert {t["target"] for t in results["targets"]} >= {"fixed overhead per run (s)", "--help (s)"}


def test_a_failing_measured_command_stops_the_benchmark():
    import os

    from src.bench.runs import BenchError, wall

    with pytest.raises(BenchError, match=r"exited 3: boom"):
        wall(["-c", "import sys; print('boom', file=sys.stderr); sys.exit(3)"], dict(os.environ), 1)
    with pytest.raises(BenchError, match="exited 0"):  # a config error that is not one
        wall(["-c", "pass"], dict(os.environ), 1, expect_failure=True)


def test_noise_swamped_epochs_are_reported_invalid_not_fast():
    from src.bench.table import target_rows

    nan = float("nan")
    measured = {
        "valid": False,
        "ratio_pipeline_vs_hand_loop": nan,
        "ratio_pipeline_vs_sklearn": nan,
        "pipeline_accuracy": 0.9,
        "hand_loop_accuracy": 0.9,
        "sklearn_accuracy": 0.9,
    }
    rows = [row for row in target_rows({"per_epoch": {"mnist1d": measured}}) if "per-epoch" in row[0]]
    assert rows and all(not ok and "invalid" in label for label, _, _, _, ok in rows)


def test_the_mlflow_clock_counts_a_nested_write_once_and_leaves_the_logger_as_it_was():
    from src.bench.clock import WRITES, MlflowClock
    from src.tracking.mlflow_run import TrackedRun

    now = [0.0]  # a fake timer: the store's writes "take" what the client adds

    class SlowClient:
        def log_batch(self, *args, **kwargs):
            now[0] += 0.2

        def set_terminated(self, *args, **kwargs):
            now[0] += 0.05

    originals = {name: TrackedRun.__dict__[name] for name in WRITES}
    with MlflowClock(timer=lambda: now[0]) as clock:
        tracked = TrackedRun(SlowClient(), "run", "0")
        tracked.add_metrics({"loss": 1.0})
        tracked.finish()  # finish() flushes: the batch is counted once, inside finish
    assert clock.seconds == pytest.approx(0.25)
    assert {name: TrackedRun.__dict__[name] for name in WRITES} == originals


def test_nothing_under_src_imports_the_benchmark():
    import re

    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "src").rglob("*.py")
        if "bench" not in path.relative_to(ROOT / "src").parts[:1]
        and re.search(r"^\s*(from|import)\s+src\.bench\b", path.read_text(), re.M)
    ]
    assert offenders == []
