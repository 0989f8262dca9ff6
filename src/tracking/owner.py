"""Who is running a RUNNING run: its owner process, recorded as a tag.

Every run records the process that opened it (`owner` = host:pid:start time).
`resume=true` continues a RUNNING run only if that process is gone, so that
two live processes never train the same run. On the owner's machine this is
certain: the pid is not alive, or it is alive with another start time (a pid
reused by another program). From another machine it cannot be told, so such a
run counts as owned.
"""

from __future__ import annotations

import os
import socket
from typing import Optional

from src.tracking.record import Tag


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
