"""Entry point: `python -m src.train [group=option ...] [key=value ...]`.

    python -m src.train dataset=digits model=xgboost
    python -m src.train dataset=table dataset.path=my.csv dataset.target=price
    python -m src.train -m model=mlp_plus,lightgbm dataset.cv_folds=5 seed=0,1,2,3,4

The composed DictConfig becomes a typed RunSpec here (src/config/spec.py), once;
everything below reads the spec.

Only Hydra and the config schemas are imported up front, so that `--help` and
config errors answer quickly; torch, Lightning and MLflow load when a run starts.
"""

from __future__ import annotations

if __name__ == "__main__":  # before anything big is imported: see src/startup.py
    from src.startup import pause_collector

    pause_collector()

import os
import signal
import sys
from typing import Callable, Optional

import hydra
from omegaconf import DictConfig

from src.config import register_configs
from src.errors import ConfigError, UserError, one_line
from src.tracking import sweep
from src.tracking.record import Status
from src.tracking.secrets import has_password, mask_secrets

register_configs()
FAILED_JOBS: list[str] = []  # one-line errors of the failed jobs of this process's sweep


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def train(cfg: DictConfig) -> Optional[float]:
    """Run one configured training; return its main metric (for sweepers)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from src.config.checks import check_config
    from src.config.spec import RunSpec
    from src.job.runner import record_failure, run
    from src.startup import load_run_modules

    hydra_cfg = HydraConfig.get()
    multirun = hydra_cfg.mode == RunMode.MULTIRUN
    if multirun and not cfg.tracking.run_name:  # unique in the sweep: the other swept values
        shown = {"model": cfg.model.name, "dataset": cfg.dataset.name, "seed": str(cfg.seed)}
        exhaustive = str(hydra_cfg.sweeper.get("_target_", "")).endswith("BasicSweeper")
        cfg.tracking.run_name_suffix = (
            sweep.job_name_suffix(list(hydra_cfg.overrides.task), shown, hydra_cfg.job.num, exhaustive) or None
        )
    spec: Optional[RunSpec] = None
    try:
        check_config(cfg)  # every group's keys and ranges, on the composed config
        spec = RunSpec.from_config(cfg)  # resolved once: everything below reads the typed spec
        load_run_modules(deep=spec.family == "deep", sql_store=not spec.tracking_uri.startswith(("http:", "https:")))
        # Under SLURM (submitit) each task is one device and nothing is relaunched.
        if multirun and spec.trainer.strategy == "ddp" and "SLURM_JOB_ID" not in os.environ:
            raise ConfigError(
                "trainer.strategy=ddp relaunches the script with the sweep's arguments; inside a -m sweep "
                "use trainer.strategy=ddp_spawn or one device per job"
            )
        if spec.seeds:
            from src.job.seeds import run_seeds

            results = run_seeds(spec)
        else:
            results = [run(spec)]
    except Exception as exc:
        message = mask_secrets(one_line(exc))
        _print_results(getattr(exc, "finished_results", []))  # seeds=[...]: the replicas that did not fail
        if not multirun:
            print(f"error: {message}", file=sys.stderr)
            raise SystemExit(_exit_code(exc)) from exc
        # In a sweep one failed job must not stop the others; the sweep's exit
        # code reports it at the end.
        FAILED_JOBS.append(message)
        if getattr(exc, "mlflow_run_id", None) is None:
            _record_failure(cfg, spec, exc, record_failure)
        job = hydra_cfg.job.num
        print(f"{sweep.progress(job)}job {job} failed: {message}", file=sys.stderr, flush=True)
        return None
    from src.job.objective import objective_value

    _print_results(results, sweep.progress(hydra_cfg.job.num) if multirun else "")
    try:  # optimized_metric, else the main metric; the mean over seeds trained together
        return sum(objective_value(spec, result) for result in results) / len(results)
    except ConfigError as exc:  # a metric the runs do not log: stop loudly, in a sweep too
        if multirun:
            raise
        print(f"error: {mask_secrets(str(exc))}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from exc


def _record_failure(cfg: DictConfig, spec: Optional[object], exc: BaseException, record: Callable) -> None:
    """A sweep job that failed before its run started (a config error) still gets a FAILED run,
    so that the sweep's summary lists it: from its spec, or one made without the checks that failed
    (keys no schema declares are dropped)."""
    from src.config.spec import RunSpec

    try:
        record(spec if spec is not None else RunSpec.from_config(cfg), exc)
    except Exception as second:  # the config cannot even be resolved: the job's line still says why
        print(f"error: job not recorded: {mask_secrets(one_line(second))}", file=sys.stderr)


def _print_results(results: list, progress: str = "") -> None:
    """One line per run; in a sweep, each starts with the sweep's progress."""
    from src.tracking.mlflow_run import is_global_zero

    if is_global_zero():
        for result in results:
            model = f"  [model {result.model_uri}]" if result.model_uri else ""  # what make serve MODEL= takes
            print(
                f"{progress}{result.run_name}: {result.main_metric}={result.value:.4f}  [mlflow run {result.run_id}]"
                + model,
                flush=True,
            )


def _refuse_passwords(arguments: list[str]) -> None:
    """A password in a URI on the command line would be written by Hydra into its
    output folder (.hydra/overrides.yaml) before any run starts: refuse it first."""
    for argument in arguments:
        if has_password(argument):
            print(
                f"error: {mask_secrets(argument)} carries a password, which Hydra would write into its output "
                "folder; leave it out of the URI: PGPASSWORD or ~/.pgpass for PostgreSQL, MLFLOW_TRACKING_USERNAME "
                "and MLFLOW_TRACKING_PASSWORD for a tracking server (or the whole URI in $MLFLOW_TRACKING_URI, "
                "which is not recorded)",
                file=sys.stderr,
            )
            sys.exit(2)


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _exit_code(exc: BaseException) -> int:
    """2 for what the user can fix in the command line or config (README
    "Faults": a bad override, an unknown option, a wrong type), else 1."""
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    if isinstance(exc, UserError):
        return exc.exit_code
    return 2 if isinstance(exc, (HydraException, OmegaConfBaseException)) else 1


def main() -> None:
    """Run Hydra, turning every failure into one line on stderr and a non-zero exit:
    2 for a usage or config error, 1 for a failed run or sweep, 130 when interrupted."""
    _refuse_passwords(sys.argv[1:])
    debug = os.environ.get("HYDRA_FULL_ERROR") == "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let exceptions reach us instead of Hydra's printer
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)  # SIGTERM ends runs as KILLED, like Ctrl-C
    try:
        train()
        failed = len(FAILED_JOBS) or len(sweep.LAST_SWEEP_FAILURES)
        if failed:
            print(f"error: {failed} job(s) of the sweep failed; see the sweep's summary", file=sys.stderr)
            sys.exit(1)
    except KeyboardInterrupt:
        # Closing up: an impatient second Ctrl-C (or SIGTERM) must not turn exit 130
        # into a traceback or a death by signal while the parent run is closed.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        sweep.abort_active_sweep(Status.KILLED)
        print("interrupted: the run was marked KILLED", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        sweep.abort_active_sweep(Status.FAILED)
        if debug:
            raise
        print(f"error: {mask_secrets(one_line(exc))}", file=sys.stderr)
        sys.exit(_exit_code(exc))


if __name__ == "__main__":
    main()
