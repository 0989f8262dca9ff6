"""Run overhead: config to closed MLflow run in one process, and whole `python -m src.train` processes."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from src.bench.clock import MlflowClock, read_clock_file
from src.bench.training import ROOT, config, median_time


def bench_overhead(n_runs: int, *extra: str) -> dict[str, Any]:
    """Wall time of `run(cfg)` minus its own fit_time_s, on workshop_circles."""
    from src.job.runner import run

    with tempfile.TemporaryDirectory() as tmp, MlflowClock() as clock:
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{tmp}/bench.db"
        overheads, mlflow_shares, mlflow_seconds = [], [], []
        run(config("experiment=workshop_circles", "trainer.max_epochs=2"))  # creates the store
        for seed in range(n_runs):
            cfg = config("experiment=workshop_circles", f"seed={seed}", "trainer.progress_bar=false", *extra)
            clock.seconds = 0.0
            started = time.perf_counter()
            result = run(cfg)
            wall = time.perf_counter() - started
            overheads.append(wall - result.metrics["fit_time_s"])
            mlflow_shares.append(clock.seconds / wall)
            mlflow_seconds.append(clock.seconds)
        os.environ.pop("MLFLOW_TRACKING_URI")
    # Growth: the median of the last fifth of the runs against the first fifth (ten
    # runs each by default; single runs on this VM jump by 2x when the disk flushes).
    fifth = max(1, n_runs // 5)
    return {
        "runs": n_runs,
        "overhead_first_s": overheads[0],
        "overhead_median_s": statistics.median(overheads),
        "overhead_first_fifth_median_s": statistics.median(overheads[:fifth]),
        "overhead_last_fifth_median_s": statistics.median(overheads[-fifth:]),
        "mlflow_share_median": statistics.median(mlflow_shares),
        "mlflow_median_s": statistics.median(mlflow_seconds),
        "overheads_s": [round(v, 4) for v in overheads],
        "mlflow_s": [round(v, 4) for v in mlflow_seconds],
    }


# ----------------------------------------------------------------------------- whole processes


class BenchError(RuntimeError):
    """A measured command did not do what it is measured doing."""


def wall(
    args: list[str], env: dict[str, str], reps: int, expect_failure: bool = False
) -> tuple[float, subprocess.CompletedProcess]:
    """Median wall time of `python <args>`; a command that fails (or, for a config
    error, succeeds) stops the benchmark: a crash is fast, not a measurement."""

    def once():
        done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True)
        if (done.returncode != 0) != expect_failure:
            last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise BenchError(f"`python {' '.join(args)}` exited {done.returncode}: {last}")
        return done

    return median_time(once, reps)


def bench_processes(reps: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp}/bench.db"}
        env.pop("HYDRA_FULL_ERROR", None)
        # Hydra's output folders go to the temporary folder, not into the checkout.
        train = ["-m", "src.train", f"hydra.run.dir={tmp}/outputs"]
        wall([*train, "experiment=workshop_circles", "trainer.max_epochs=1"], env, 1)  # store
        out: dict[str, Any] = {}
        # The unavoidable imports, loaded as src.train loads them (collector paused, see
        # src/startup.py), so that the difference is what the pipeline itself costs. The
        # import-only process and the run alternate, and the difference is taken per pair:
        # process start-up on this VM drifts by a second between minutes.
        imports = [
            "-c",
            "from src.startup import pause_collector; pause_collector(); "
            "import torch, pytorch_lightning, mlflow, sklearn, pandas",
        ]
        # The deep run goes through src.bench.clock, which adds up its MLflow writes.
        timings = Path(tmp) / "timings.json"
        deep_run = ["-m", "src.bench.clock", str(timings), *train[1:], "experiment=workshop_circles"]
        pairs, mlflow_s, deep = [], [], None
        for _ in range(reps):
            t_imports, _ = wall(imports, env, 1)
            t_run, deep = wall(deep_run, env, 1)
            pairs.append((t_imports, t_run))
            mlflow_s.append(read_clock_file(timings))
        out["imports_torch_lightning_mlflow_s"] = statistics.median(p[0] for p in pairs)
        out["deep_run_s"] = statistics.median(p[1] for p in pairs)
        out["deep_beyond_imports_s"] = statistics.median(p[1] - p[0] for p in pairs)
        out["deep_run_fit_s"] = _fit_time_of(deep.stdout, env)
        out["deep_run_mlflow_s"] = statistics.median(mlflow_s)
        out["deep_run_mlflow_share"] = statistics.median(m / p[1] for m, p in zip(mlflow_s, pairs))
        # The whole command: five seeds trained together against one seed.
        seeds_cfg = [
            *train,
            "dataset=mnist1d",
            "model.hidden_sizes=[100,100]",
            "optimizer=adam",
            "optimizer.batch_size=100",
            "trainer=cpu",
            "trainer.max_epochs=20",
        ]
        out["seed_one_process_s"], _ = wall([*seeds_cfg, "seed=0"], env, reps)
        out["seeds_five_process_s"], _ = wall([*seeds_cfg, "seeds=[0,1,2,3,4]"], env, reps)
        out["imports_with_collector_s"], _ = wall(
            ["-c", "import torch, pytorch_lightning, mlflow, sklearn, pandas"], env, reps
        )
        out["classical_run_s"], classical = wall(
            ["-X", "importtime", *train, "dataset=workshop_circles", "model=svm"], env, reps
        )
        imported = classical.stderr
        out["classical_imports_torch"] = "| torch\n" in imported or " torch\n" in imported
        out["classical_imports_lightning"] = "pytorch_lightning" in imported
        out["help_s"], _ = wall([*train, "--help"], env, reps)
        # A tracking server nobody listens on: the run gives up in seconds, not after
        # MLflow's own retries (minutes); one that accepts and never answers, within its timeout.
        nobody = {**env, "MLFLOW_SERVER_URI": f"http://127.0.0.1:{_free_port()}"}
        out["unreachable_server_s"], _ = wall([*train, "tracking=server"], nobody, 1, expect_failure=True)
        out["silent_server_s"] = _silent_server_s(timeout=0.5)
        out["config_error_s"], _ = wall([*train, "model.no_such_key=1"], env, reps, expect_failure=True)
    return out


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _silent_server_s(timeout: float) -> float:
    """Seconds until check_server gives up on a server that accepts and never answers."""
    import socket

    from src.errors import UserError
    from src.tracking.remote_store import check_server

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        started = time.perf_counter()
        try:
            check_server(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=timeout)
        except UserError:
            return time.perf_counter() - started
    raise BenchError("check_server accepted a server that never answers")


def _fit_time_of(stdout: str, env: dict[str, str]) -> float | None:
    run_id = stdout.rsplit("mlflow run ", 1)[-1].strip(" ]\n") if "mlflow run " in stdout else None
    if not run_id:
        return None
    from src.tracking.mlflow_run import client_for
    from src.tracking.record import RunMetric

    return client_for(env["MLFLOW_TRACKING_URI"]).get_run(run_id).data.metrics.get(RunMetric.FIT_TIME_S)
