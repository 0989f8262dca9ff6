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
    assert set(results["models"]) == {"mnist1d", "classification_2000"}  # the models part is in `make bench`
    repeats = results["repeats_together"]  # mlp_plus's R = 5 repeats trained together, in `make bench` too
    assert (repeats["r"], repeats["members"], repeats["n_train"]) == (5, 4, 240)
    assert repeats["one_s"] > 0 and repeats["together_s"] > 0
    assert any(t["target"].startswith("R=5 mlp_plus repeats together / one") for t in results["targets"])


def _expected_model_rows(dataset: str) -> set[str]:
    """The random forest and the GBDTs; mlp_plus where registered, and on mnist1d its
    one-member fit for the ensemble ratio."""
    from src.bench.models import ENSEMBLE_MODEL, GBDTS, ONE_MEMBER, REFERENCE
    from src.models.registry import REGISTRY

    rows = {REFERENCE, *GBDTS}
    if ENSEMBLE_MODEL in REGISTRY:
        rows |= {ENSEMBLE_MODEL, ONE_MEMBER} if dataset == "mnist1d" else {ENSEMBLE_MODEL}
    return rows


def test_bench_models_smoke_fits_each_model_as_a_run_does(tmp_path):
    from src.bench.models import ENSEMBLE_MODEL, GBDTS
    from src.models.registry import REGISTRY

    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "src.bench", "--smoke", "--only", "models", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(out.read_text())
    assert set(results) >= {"models", "models_limits"} and "per_epoch" not in results
    assert results["models_limits"] == {"mnist1d_rows": 300, "epochs": 1, "rounds": 5}
    assert {key: r["n_train"] for key, r in results["models"].items()} == {"mnist1d": 300, "classification_2000": 2000}
    for key, r in results["models"].items():
        assert set(r["models"]) == _expected_model_rows(key)
        assert r["cpu_threads"] == [1]  # every model fitted within the runs' thread budget
        for row in r["models"].values():
            assert row["fit_s"] > 0 and 0 <= row["accuracy"] <= 1
        for name in GBDTS:  # early stopping ran on the validation split, within the capped rounds
            assert 1 <= r["models"][name]["kept_median"] <= 5
        assert ("ensemble" in r) == (ENSEMBLE_MODEL in REGISTRY and key == "mnist1d")
    # The table: a row per model next to the random forest, and the skipped model named.
    for label in _expected_model_rows("mnist1d"):
        assert f"\n| {label} | " in proc.stdout
    assert "| model | mnist1d fit (s), 1 rep | × RF | test acc | kept |" in proc.stdout
    if ENSEMBLE_MODEL not in REGISTRY:
        assert "Note: model=mlp_plus is not in src.models.registry.REGISTRY: skipped" in proc.stdout
    else:
        assert "mlp_plus K=" in proc.stdout


def test_mlp_plus_is_measured_where_the_registry_has_it_and_named_where_not():
    from src.bench.models import variants

    present = {name: object() for name in ("random_forest", "xgboost", "lightgbm", "catboost", "mlp_plus")}
    rows, notes = variants(present)
    assert [v.model for v in rows] == ["random_forest", "xgboost", "lightgbm", "catboost", "mlp_plus"] and not notes
    del present["mlp_plus"], present["catboost"]
    rows, notes = variants(present)
    assert [v.model for v in rows] == ["random_forest", "xgboost", "lightgbm"]
    assert any("mlp_plus" in n and "skipped" in n for n in notes) and any("catboost" in n for n in notes)


def test_the_ensemble_ratio_is_a_target_against_k_single_fits():
    from src.bench.table import models_table, target_rows

    def row(fit_s, kept=None):
        return {"fit_s": fit_s, "fit_s_all": [fit_s], "accuracy": 0.7, "accuracy_std": 0.0, "kept_median": kept}

    measured = {
        "n_train": 3600,
        "reps": 3,
        "seeds": [0, 1, 2],
        "cpu_threads": [1],
        "notes": [],
        "models": {"random_forest": row(2.0), "mlp_plus": row(12.0, 40), "mlp_plus (K=1)": row(4.0, 38)},
        "ensemble": {"k": 4, "k_fit_s": 12.0, "one_fit_s": 4.0, "ratio": 3.0},
    }
    (label, value, op, bound, ok), *_ = target_rows({"models": {"mnist1d": measured}})
    assert "K=4" in label and (value, op, bound, ok) == (3.0, "<=", 2.0, False)  # 3 of 4 fits' time: not far less
    table = models_table({"mnist1d": measured}, {})
    assert "| mlp_plus | 12.00 | 6.00 | 0.700 ± 0.000 | 40 |" in table
    assert "| mlp_plus (K=1) | 4.00 | 2.00 |" in table


def test_the_repeats_ratio_is_a_target_against_running_them_one_after_the_other():
    from src.bench.table import target_rows

    measured = {"model": "mlp_plus", "members": 4, "r": 5, "n_train": 3200, "epochs": 3, "threads": 1}
    for ratio, met in ((4.0, True), (6.3, False)):
        [(label, value, op, bound, ok)] = target_rows({"repeats_together": {**measured, "ratio": ratio}})
        assert label.startswith("R=5 mlp_plus repeats together / one (K=4 members each")
        assert (value, op, bound, ok) == (ratio, "<=", 5, met)


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
        tracking_uri = "http://127.0.0.1:1"  # not SQLite: finish() has no log to checkpoint

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
