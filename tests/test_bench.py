"""The benchmark command runs end to end (a smoke run: it checks the machinery, not the speed)."""

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_bench_smoke_writes_its_table_and_json(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "src.bench", "--smoke", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "(a) pipeline ms/epoch" in proc.stdout and "| target | measured | bound | met |" in proc.stdout
    results = json.loads(out.read_text())
    assert set(results["per_epoch"]) == {"mnist1d", "classification_2000"}
    for row in results["per_epoch"].values():
        assert row["pipeline_epoch_s"] > 0 and row["hand_loop_epoch_s"] > 0 and row["sklearn_epoch_s"] > 0
    assert results["overhead"]["runs"] == 3
    assert results["processes"]["help_s"] > 0
    assert {t["target"] for t in results["targets"]} >= {"fixed overhead per run (s)", "--help (s)"}
