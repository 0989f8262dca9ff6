"""The benchmark command runs end to end (a smoke run: it checks the machinery, not the speed)."""

import json
import subprocess
import sys

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
    assert {t["target"] for t in results["targets"]} >= {"fixed overhead per run (s)", "--help (s)"}


def test_a_failing_measured_command_stops_the_benchmark():
    import os

    import pytest

    from src.bench import BenchError, _wall

    with pytest.raises(BenchError, match=r"exited 3: boom"):
        _wall(["-c", "import sys; print('boom', file=sys.stderr); sys.exit(3)"], dict(os.environ), 1)
    with pytest.raises(BenchError, match="exited 0"):  # a config error that is not one
        _wall(["-c", "pass"], dict(os.environ), 1, expect_failure=True)


def test_noise_swamped_epochs_are_reported_invalid_not_fast():
    from src.bench import _rows

    nan = float("nan")
    measured = {
        "valid": False,
        "ratio_pipeline_vs_hand_loop": nan,
        "ratio_pipeline_vs_sklearn": nan,
        "pipeline_accuracy": 0.9,
        "hand_loop_accuracy": 0.9,
        "sklearn_accuracy": 0.9,
    }
    rows = [row for row in _rows({"per_epoch": {"mnist1d": measured}}) if "per-epoch" in row[0]]
    assert rows and all(not ok and "invalid" in label for label, _, _, _, ok in rows)
