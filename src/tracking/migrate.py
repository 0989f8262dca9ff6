"""Copy experiments and runs from one MLflow store to another, typically the
embedded SQLite store to the shared tracking server:

    python -m src.tracking.migrate --from sqlite:///$PWD/mlflow.db --to http://127.0.0.1:5001
    python -m src.tracking.migrate --from ... --to ... --experiment mlvsdl --dry-run

MLflow's own `mlflow migrate-filestore` only moves a ./mlruns file store into
SQLite, and the separate mlflow-export-import project goes through an
intermediate folder of JSON files; this is a direct copy through two
`MlflowClient`s, so it works between any two stores MLflow can open.

Per run it copies: name, status, start and end times, params, every tag, the
full history of every metric (value, step and timestamp of each point), and
the artifacts. Nested runs keep their parent (`mlflow.parentRunId` is mapped
to the parent's new id). Each copied run gets the tag `mlvsdl.migrated_from`
with its source id, and runs that already carry it are skipped, so the
command can be rerun after new runs were recorded, or after an interruption.
Deleted experiments and runs are not copied; nor are MLflow 3 logged-model
entities (`tracking.log_model=true`), traces or registered models.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

from src.errors import UserError, one_line
from src.tracking.record import Status, Tag

MIGRATED_FROM = "mlvsdl.migrated_from"
COMPLETE = "mlvsdl.migration_complete"  # set last: a run without it was interrupted and is copied again
PARENT = Tag.PARENT_RUN_ID
_PAGE = 1000


@dataclass
class MigrationReport:
    experiments: int = 0
    copied: int = 0
    skipped: int = 0
    to_copy: int = 0  # runs found missing on the destination (what a dry run would copy)
    metrics: int = 0
    artifacts: int = 0
    id_map: dict[str, str] = field(default_factory=dict)  # source run id -> destination run id


def _clients(source: str, destination: str, dry_run: bool) -> tuple[Any, Optional[Any]]:
    """The two stores' clients; None for a destination a dry run would have to
    create (an SQLite file that does not exist yet: opening it would create it)."""
    from src.tracking.mlflow_run import client_for, resolve_tracking_uri
    from src.tracking.sqlite_store import sqlite_database

    source, destination = resolve_tracking_uri(source), resolve_tracking_uri(destination)
    if source == destination:
        raise UserError(f"--from and --to are the same store: {source}")
    database = sqlite_database(source)
    if database is not None and not database.exists():
        raise UserError(f"no SQLite store at {source}")
    new_file = sqlite_database(destination)
    if dry_run and new_file is not None and not new_file.exists():
        return client_for(source), None
    return client_for(source), client_for(destination)


def _all_runs(client: Any, experiment_id: str) -> Iterator[Any]:
    token = None
    while True:
        page = client.search_runs(
            [experiment_id], max_results=_PAGE, page_token=token, order_by=["attributes.start_time ASC"]
        )
        yield from page
        token = page.token
        if not token:
            return


def _destination_experiment(dst: Optional[Any], experiment: Any, dry_run: bool) -> Optional[str]:
    if dst is None:  # a dry run towards a store that does not exist yet
        return None
    tags = {k: v for k, v in (experiment.tags or {}).items() if not k.startswith("mlflow.")}
    existing = dst.get_experiment_by_name(experiment.name)
    if existing is not None:
        if existing.lifecycle_stage != "active":
            raise UserError(f"experiment {experiment.name!r} is deleted on the destination; restore or purge it first")
        if not dry_run:
            for key, value in tags.items():
                if key not in (existing.tags or {}):
                    dst.set_experiment_tag(existing.experiment_id, key, value)
        return existing.experiment_id
    if dry_run:
        return None
    return dst.create_experiment(experiment.name, tags=tags or None)


def _copy_metrics(src: Any, dst: Any, run: Any, new_id: str) -> int:
    from mlflow.entities import Metric

    points = [
        Metric(m.key, m.value, m.timestamp, m.step)
        for key in run.data.metrics
        for m in src.get_metric_history(run.info.run_id, key)
    ]
    for i in range(0, len(points), 1000):
        dst.log_batch(new_id, metrics=points[i : i + 1000])
    return len(points)


def _copy_artifacts(src: Any, dst: Any, run_id: str, new_id: str) -> int:
    if not src.list_artifacts(run_id):
        return 0
    with tempfile.TemporaryDirectory(prefix="mlvsdl-migrate-") as tmp:
        local = Path(src.download_artifacts(run_id, "", tmp))
        files = [p for p in local.rglob("*") if p.is_file()]
        if files:
            dst.log_artifacts(new_id, str(local))
        return len(files)


def _copy_run(src: Any, dst: Any, run: Any, experiment_id: str) -> tuple[str, int, int]:
    from mlflow.entities import Param

    info = run.info
    tags = {k: v for k, v in run.data.tags.items() if k != PARENT}
    tags[MIGRATED_FROM] = info.run_id
    new = dst.create_run(experiment_id, start_time=info.start_time, tags=tags, run_name=info.run_name)
    new_id = new.info.run_id
    params = [Param(k, v) for k, v in run.data.params.items()]
    for i in range(0, len(params), 100):
        dst.log_batch(new_id, params=params[i : i + 100])
    n_metrics = _copy_metrics(src, dst, run, new_id)
    n_artifacts = _copy_artifacts(src, dst, info.run_id, new_id)
    if info.status != Status.RUNNING:
        dst.set_terminated(new_id, info.status, end_time=info.end_time)
    dst.set_tag(new_id, COMPLETE, "true")
    return new_id, n_metrics, n_artifacts


def migrate(
    source: str,
    destination: str,
    experiments: Sequence[str] = (),
    dry_run: bool = False,
    log: Any = print,
) -> MigrationReport:
    """Copy the runs of `source` into `destination` (both tracking URIs)."""
    from mlflow.entities import ViewType

    src, dst = _clients(source, destination, dry_run)
    report = MigrationReport()
    wanted = set(experiments)
    found = {e.name for e in src.search_experiments(view_type=ViewType.ACTIVE_ONLY)}
    if wanted - found:
        raise UserError(f"no such experiment in {source}: {', '.join(sorted(wanted - found))}")
    for experiment in src.search_experiments(view_type=ViewType.ACTIVE_ONLY, order_by=["experiment_id ASC"]):
        if wanted and experiment.name not in wanted:
            continue
        runs = list(_all_runs(src, experiment.experiment_id))
        if not runs and experiment.name == "Default":
            continue
        report.experiments += 1
        experiment_id = _destination_experiment(dst, experiment, dry_run)
        done: dict[str, Any] = {}  # source run id -> its complete copy
        if experiment_id is not None:
            for copy in _all_runs(dst, experiment_id):
                if MIGRATED_FROM not in copy.data.tags:
                    continue
                if copy.data.tags.get(COMPLETE) == "true":
                    done[copy.data.tags[MIGRATED_FROM]] = copy
                elif not dry_run:
                    dst.delete_run(copy.info.run_id)  # a copy cut short by an interruption
        report.id_map.update({source_id: copy.info.run_id for source_id, copy in done.items()})
        todo = [r for r in runs if r.info.run_id not in done]
        report.skipped += len(runs) - len(todo)
        report.to_copy += len(todo)
        log(
            f"experiment {experiment.name}: {len(todo)} run(s) to copy, {len(runs) - len(todo)} already there"
            + (" (dry run)" if dry_run else "")
        )
        if dry_run:
            continue
        for run in todo:
            new_id, n_metrics, n_artifacts = _copy_run(src, dst, run, experiment_id)
            report.id_map[run.info.run_id] = new_id
            report.copied += 1
            report.metrics += n_metrics
            report.artifacts += n_artifacts
        # Parents may sort after their children, or have been copied by an earlier call: link them last.
        for run in runs:
            parent = run.data.tags.get(PARENT)
            new_parent = report.id_map.get(parent, parent)
            copy = done.get(run.info.run_id)
            if parent and (copy is None or copy.data.tags.get(PARENT) != new_parent):
                dst.set_tag(report.id_map[run.info.run_id], PARENT, new_parent)
    return report


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m src.tracking.migrate",
        description="Copy MLflow experiments and runs (params, tags, full metric histories, status, times, "
        "artifacts) from one tracking store to another, e.g. the embedded SQLite store to a tracking server.",
    )
    parser.add_argument(
        "--from", dest="source", required=True, help="source tracking URI, e.g. sqlite:///path/mlflow.db"
    )
    parser.add_argument(
        "--to", dest="destination", required=True, help="destination tracking URI, e.g. http://127.0.0.1:5001"
    )
    parser.add_argument("--experiment", action="append", default=[], help="only this experiment (repeatable)")
    parser.add_argument("--dry-run", action="store_true", help="say what would be copied, copy nothing")
    args = parser.parse_args(argv)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    try:
        report = migrate(args.source, args.destination, args.experiment, args.dry_run)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:
        print(f"error: {one_line(exc)} (rerun the command to resume: copied runs are skipped)", file=sys.stderr)
        return 1
    if args.dry_run:
        print(
            f"dry run: {report.to_copy} run(s) would be copied from {report.experiments} experiment(s); "
            f"{report.skipped} already there; nothing was written"
        )
        return 0
    print(
        f"{report.copied} run(s) copied ({report.metrics} metric points, {report.artifacts} artifact files) "
        f"from {report.experiments} experiment(s); {report.skipped} already there"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
