"""The command line's start-up: collector paused while the libraries load, then frozen and resumed."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import gc, json, sys
from src.startup import pause_collector, load_run_modules
pause_collector()
paused = not gc.isenabled()
load_run_modules(deep=False, sql_store=True)
print(json.dumps({"paused": paused, "enabled": gc.isenabled(), "frozen": gc.get_freeze_count(),
                  "torch": "torch" in sys.modules, "store": "mlflow.store.tracking.sqlalchemy_store" in sys.modules}))
"""


def test_classical_start_up_resumes_the_collector_without_torch():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
    state = json.loads(out.stdout.strip().splitlines()[-1])
    assert state["paused"] and state["enabled"]  # paused while loading, running for the training
    assert state["frozen"] > 10_000  # the libraries' objects are out of the collector's way
    assert state["store"] and not state["torch"]  # a classical run never imports torch


def test_load_run_modules_leaves_a_running_collector_alone():
    import gc

    from src.startup import load_run_modules

    frozen = gc.get_freeze_count()
    load_run_modules(deep=True, sql_store=True)  # never paused in this process: nothing to do
    assert gc.isenabled() and gc.get_freeze_count() == frozen


SWEEP_PROBE = """
import gc, json, sys
from omegaconf import OmegaConf
from src.startup import pause_collector
pause_collector()
from src.tracking.sweep import MLflowSweepCallback, close_parent
enabled = {}
for launcher in ("hydra._internal.core_plugins.basic_launcher.BasicLauncher",
                 "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"):
    config = OmegaConf.create({"tracking": {"uri": sys.argv[1], "experiment": "x"}, "dataset": {"name": "d"},
                               "study": None, "hydra": {"overrides": {"task": []}, "launcher": {"_target_": launcher}}})
    MLflowSweepCallback().on_multirun_start(config)
    enabled[launcher.rsplit(".", 1)[-1]] = gc.isenabled()
    close_parent("FINISHED")
print(json.dumps(enabled))
"""


def test_sweep_launcher_process_resumes_the_collector_when_jobs_run_elsewhere(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    out = subprocess.run([sys.executable, "-c", SWEEP_PROBE, uri], cwd=ROOT, capture_output=True, text=True, check=True)
    enabled = json.loads(out.stdout.strip().splitlines()[-1])
    # On for every launcher while Hydra composes the jobs' configs (a 2,000-job sweep would
    # otherwise hold gigabytes before its first job: tests/tracking/test_sweep_start.py).
    assert enabled == {"BasicLauncher": True, "JoblibLauncher": True}
