"""Hydra launchers: parallel jobs (joblib), submitit (local here, SLURM on a
cluster), all recording under the sweep's one parent run."""

from __future__ import annotations

import os
import pickle
import signal
import stat

import pytest
from omegaconf import OmegaConf

from tests.conftest import CONF_DIR, run_cli, runs_of, start_training, wait_until_training

REGRESSION = (
    "dataset=workshop_regression",
    "optimizer=minibatch_sgd",
    "dataset.standardize=false",
    "trainer.max_epochs=3",
    "model.hidden_sizes=[4]",
)


def parent_and_children(client, experiment: str = "mlvsdl"):
    runs = runs_of(client, experiment)
    parents = [r for r in runs if r.data.tags.get("sweep") == "true"]
    assert len(parents) == 1, [r.info.run_name for r in runs]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert len(children) == len(runs) - 1, "every run of the sweep is a child of its parent"
    return parents[0], children


def assert_every_metric_arrived(client, runs, epochs: int, keys=("train_loss", "fit_time_s")) -> None:
    """Runs of one configuration but the seed hold the same metrics with the same
    number of points each, and one point per epoch for the per-epoch losses."""
    counts = []
    for run in runs:
        assert run.info.status == "FINISHED"
        histories = {key: client.get_metric_history(run.info.run_id, key) for key in run.data.metrics}
        counts.append({key: len(points) for key, points in histories.items()})
        for key in keys:
            assert key in histories, key
        for key in ("train_loss", "val_loss"):
            if key not in histories:
                continue  # no validation split
            steps = [m.step for m in histories[key]]
            assert set(range(epochs)) <= set(steps) and len(steps) == len(set(steps)), (key, steps)
    assert all(c == counts[0] for c in counts), counts


def test_four_parallel_joblib_jobs_on_a_fresh_store_record_everything_and_a_failure_fails_the_sweep(
    mlflow_client, tracking_uri, tmp_path
):
    # Two of the four jobs diverge; the sweep must say so in its exit code even
    # though the jobs ran in joblib's worker processes, not in this one.
    proc = run_cli(
        "-m",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=4",
        f"hydra.sweep.dir={tmp_path / 'm'}",
        *REGRESSION,
        "optimizer.lr=1e6,0.01",
        "seed=0,1",
    )
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "2 job(s) of the sweep failed" in proc.stderr
    parent, children = parent_and_children(mlflow_client)
    assert parent.data.tags["launcher"] == "JoblibLauncher"
    assert len(children) == 4 and len({c.info.run_name for c in children}) == 4
    assert parent.data.metrics["n_jobs"] == 4 and parent.data.metrics["n_failed"] == 2
    failed = [c for c in children if c.info.status == "FAILED"]
    assert [c.data.tags["status_reason"] for c in failed] == ["diverged", "diverged"]
    finished = [c for c in children if c.info.status == "FINISHED"]
    assert sorted(c.data.tags["seed"] for c in finished) == ["0", "1"]
    assert_every_metric_arrived(mlflow_client, finished, epochs=3, keys=("train_loss", "test_mse", "fit_time_s"))


def test_a_submitit_local_sweep_of_two_jobs_records_under_one_parent(mlflow_client, tracking_uri, tmp_path):
    proc = run_cli(
        "-m",
        "hydra/launcher=submitit_local",
        f"hydra.sweep.dir={tmp_path / 'm'}",
        "hydra.launcher.timeout_min=10",
        *REGRESSION,
        "seed=0,1",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    parent, children = parent_and_children(mlflow_client)
    assert parent.data.tags["launcher"] == "LocalLauncher" and parent.info.status == "FINISHED"
    assert sorted(c.data.tags["seed"] for c in children) == ["0", "1"]
    assert_every_metric_arrived(mlflow_client, children, epochs=3, keys=("train_loss", "test_mse", "fit_time_s"))
    # submitit ran each job in a process of its own, with its own log folder.
    assert len(list((tmp_path / "m" / ".submitit").glob("*/*_result.pkl"))) == 2


def test_sigterm_during_a_sweep_marks_its_parent_and_its_running_job_killed(mlflow_client, tracking_uri, tmp_path):
    proc = start_training(tracking_uri, tmp_path, "-m", "dataset=mnist1d", "trainer.max_epochs=100000", "seed=0,1")
    (job,) = wait_until_training(mlflow_client)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-2000:]  # README "Faults": the run and the sweep's parent KILLED, exit 130
    assert "the sweep's parent run was marked KILLED" in stderr
    parent, children = parent_and_children(mlflow_client)
    assert parent.info.status == "KILLED"
    assert [(c.info.run_id, c.info.status) for c in children] == [(job.info.run_id, "KILLED")]  # seed=1 never began


def test_jobs_find_their_parent_through_the_pickled_callback(monkeypatch):
    """Launchers ship the callbacks to the job's process with the job: the parent
    id travels with them, whatever environment that process inherited."""
    from src.tracking.mlflow_run import PARENT_RUN_ENV
    from src.tracking.sweep import MLflowSweepCallback

    callback = MLflowSweepCallback()
    callback.parent_run_id = "0123abc"
    shipped = pickle.loads(pickle.dumps(callback))
    monkeypatch.delenv(PARENT_RUN_ENV, raising=False)
    shipped.on_job_start(config=OmegaConf.create({}), task_function=lambda cfg: None)
    assert os.environ[PARENT_RUN_ENV] == "0123abc"


def test_the_slurm_launcher_asks_for_one_task_per_device(tmp_path, monkeypatch):
    """hydra/launcher=slurm goes through hydra-submitit-launcher to an sbatch
    script with ntasks-per-node = trainer.devices, as Lightning's SLURM
    environment expects, one GPU per task, and the nodes of trainer.num_nodes."""
    import submitit
    from hydra import compose, initialize_config_dir
    from hydra.core.hydra_config import HydraConfig
    from hydra.utils import instantiate
    from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            "config",
            return_hydra_config=True,
            overrides=[
                "hydra/launcher=slurm",
                "hydra.launcher.partition=gpu",
                "hydra.launcher.timeout_min=90",
                "trainer=ddp",
                "trainer.devices=4",
                "trainer.num_nodes=2",
            ],
        )
    HydraConfig.instance().set_config(cfg)
    launcher = instantiate(cfg.hydra.launcher)
    params = launcher.params
    assert (params["tasks_per_node"], params["nodes"], params["gpus_per_task"]) == (4, 2, 1)

    # What the plugin's launch() hands to submitit, rendered as sbatch would get it
    # (a stand-in `srun` on PATH: submitit checks that it runs on a SLURM host).
    srun = tmp_path / "bin" / "srun"
    srun.parent.mkdir()
    srun.write_text("#!/bin/sh\n")
    srun.chmod(srun.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{srun.parent}{os.pathsep}{os.environ['PATH']}")
    executor = submitit.AutoExecutor(cluster="slurm", folder=str(tmp_path / "submitit"))
    generic = set(OmegaConf.structured(BaseQueueConf).keys())
    executor.update_parameters(
        **{
            (key if key in generic else f"slurm_{key}"): value
            for key, value in params.items()
            if key not in ("submitit_folder", "max_num_timeout")
        }
    )
    sbatch = executor._executor._make_submission_file_text("python -m submitit.core._submit", "0")
    for line in ("--ntasks-per-node=4", "--nodes=2", "--gpus-per-task=1", "--partition=gpu", "--time=90"):
        assert f"#SBATCH {line}" in sbatch, sbatch


def test_a_non_integer_device_count_is_refused_by_the_slurm_launcher():
    from hydra import compose, initialize_config_dir
    from hydra.core.hydra_config import HydraConfig
    from hydra.utils import instantiate

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(
            "config",
            return_hydra_config=True,
            overrides=["hydra/launcher=slurm", "trainer=ddp", "trainer.devices=auto"],
        )
    HydraConfig.instance().set_config(cfg)
    with pytest.raises(Exception, match="tasks_per_node"):
        instantiate(cfg.hydra.launcher)


def test_sigterm_during_a_joblib_sweep_leaves_no_child_running(mlflow_client, tracking_uri, tmp_path):
    """joblib's workers die with the launcher and cannot close their runs: the
    launcher closes them on its way out, KILLED like the parent."""
    proc = start_training(
        tracking_uri,
        tmp_path,
        "-m",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        "model=gradient_boosting",  # a long fit, and no torch to import in each worker
        "model.max_iter=100000000",
        "seed=0,1",
    )
    wait_until_training(mlflow_client, count=2)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-2000:]
    parent, children = parent_and_children(mlflow_client)
    assert parent.info.status == "KILLED"
    assert sorted(c.info.status for c in children) == ["KILLED", "KILLED"], stderr[-2000:]
    assert {c.data.tags.get("status_reason") for c in children} == {"interrupted"}
