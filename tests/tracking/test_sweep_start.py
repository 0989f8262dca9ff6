"""A big sweep starts its first job soon, with the garbage collector on
(issue 23, item 17). Measured on 2 shared cores, from the start of
`python -m src.train -m model=dummy 'seed=range(0,N)'` until Hydra logs job #0,
with the process's peak RSS: before, N=500: 44.5 s and 831 MB (the issue:
N=2,000, 4.5 min and 2.7 GB); after, N=2,000: 13.7 s and 248 MB.

The test bounds the work, not the wall-clock: it counts the configs Hydra
composes before the first job starts."""

import subprocess
import sys

from src.tracking.sweep import COMPOSED_AT_ONCE
from tests.conftest import ROOT

# Runs `python -m src.train` as its entry point does (Hydra itself imported first, to be patched),
# counting compositions; at the first job it prints the count and whether the collector is on.
FIRST_JOB = """
import gc, os, runpy, sys
from hydra._internal.config_loader_impl import ConfigLoaderImpl
import hydra.core.utils as hydra_utils
composed = [0]
compose = ConfigLoaderImpl.load_sweep_config
def counting(self, *args, **kwargs):
    composed[0] += 1
    return compose(self, *args, **kwargs)
ConfigLoaderImpl.load_sweep_config = counting
def first_job(*args, **kwargs):
    print("first job:", composed[0], gc.isenabled(), flush=True)
    os._exit(0)
hydra_utils.run_job = first_job  # Hydra's plugin scan re-imports its launchers, which then take this one
sys.argv = ["src.train", "-m", "model=dummy", "seed=range(0,{n_jobs})", "hydra.sweep.dir={tmp}/multirun"]
runpy.run_module("src.train", run_name="__main__", alter_sys=True)  # pauses the collector first
"""


def test_a_sweep_composes_one_chunk_of_jobs_with_the_collector_on_before_its_first_job(tmp_path):
    n_jobs = 3 * COMPOSED_AT_ONCE
    proc = subprocess.run(
        [sys.executable, "-c", FIRST_JOB.format(n_jobs=n_jobs, tmp=tmp_path)],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    _, _, composed, collecting = proc.stdout.strip().splitlines()[-1].split()
    # One chunk checked, plus the first job's own composition; before: every job's (n_jobs + 1).
    assert int(composed) <= COMPOSED_AT_ONCE + 1
    assert collecting == "True"
