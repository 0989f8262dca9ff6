"""Who is running a RUNNING run: its owner process, recorded as a tag.

Every run records the process that opened it (`owner` = host:pid:start time).
`resume=true` continues a RUNNING run only if that process is gone, so that
two live processes never train the same run. On the owner's machine this is
certain: the pid is not alive, or it is alive with another start time (a pid
reused by another program). From another machine it cannot be told, so such a
run counts as owned. A RUNNING run whose owner is gone is ended KILLED when
resume=true next meets its configuration.
"""

from __future__ import annotations

import os
import socket
from typing import Any, Optional

from src.errors import UserError
from src.tracking.record import Reason, Status, Tag


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), else ''."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def owner_tags() -> dict[str, str]:
    """The tag naming this process as a run's owner."""
    return {Tag.OWNER: f"{socket.gethostname()}:{os.getpid()}:{_start_time(os.getpid())}"}


def owner_alive(owner: Optional[str]) -> bool:
    """Whether the process named by an `owner` tag may still be running its run
    (False for runs recorded before owners were: nothing to protect)."""
    try:
        host, pid, started = (owner or "").rsplit(":", 2)
        number = int(pid)
    except ValueError:
        return False
    if host != socket.gethostname():
        return True
    try:
        os.kill(number, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    return _start_time(number) == started


def owned_elsewhere(run_id: str, owner: Optional[str]) -> UserError:
    """The error for a configuration whose run a live process is training."""
    error = UserError(
        f"run {run_id} of this configuration is RUNNING in process {owner} (host:pid:start), which is alive; "
        f"it is not taken over (if that process is gone, delete the run: mlflow runs delete --run-id {run_id})"
    )
    error.mlflow_run_id = run_id  # type: ignore[attr-defined]  # recorded already: no FAILED run to add for it
    return error


def settle_running_runs(client: Any, experiment: str, config_hash: str) -> None:
    """Before resume=true looks for earlier runs of a configuration: end KILLED
    those still RUNNING whose owner is gone (a kill -9, the out-of-memory
    killer), and refuse when a live process is training one."""
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return
    running = client.search_runs(
        [found.experiment_id],
        filter_string=f"tags.{Tag.CONFIG_HASH} = '{config_hash}' and attributes.status = '{Status.RUNNING}'",
        max_results=100,
    )
    for run in running:
        owner = run.data.tags.get(Tag.OWNER)
        if owner_alive(owner):
            raise owned_elsewhere(run.info.run_id, owner)
        end_killed(client, run)


def end_killed(client: Any, run: Any) -> None:
    """End KILLED a RUNNING run whose process is gone, saying so in its tags."""
    owner = run.data.tags.get(Tag.OWNER)
    client.set_tag(run.info.run_id, Tag.STATUS_REASON, Reason.INTERRUPTED)
    client.set_tag(run.info.run_id, Tag.ERROR, f"its process ({owner or 'unknown'}) ended without closing it")
    client.set_terminated(run.info.run_id, Status.KILLED)
