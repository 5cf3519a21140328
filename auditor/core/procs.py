"""Is a process still there? For leftovers of a killed audit: scratch folders and `running` runs.

A process is named by its pid and, where the OS tells it (Linux `/proc`), its start time, so a
pid the kernel has since given to another process is not mistaken for the one that left the
leftover. A process that cannot be checked (another host, another user's pid) counts as alive:
nothing is removed on a guess.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def _stat(pid: int) -> list[str]:
    """Fields 3... of /proc/PID/stat (Linux), or [] where there is no such file."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    # the command name (field 2) is in parentheses and may hold spaces or parentheses itself
    return stat[stat.rfind(")") + 2 :].split()


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), or None."""
    fields = _stat(pid)
    try:
        return int(fields[19])  # field 22 of proc(5), counted from field 3
    except (IndexError, ValueError):
        return None


def identity() -> dict[str, object]:
    """This process as `alive` checks it later: host, pid and start time."""
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "start": start_time(pid)}


def alive(pid: int, start: int | None = None) -> bool:
    """Is process `pid` (started at `start`, when known) still running on this host?"""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process of that pid: cannot tell, so yes
    fields = _stat(pid)
    if fields and fields[0] in ("Z", "X"):
        return False  # dead, not yet reaped by its parent
    if start is not None:
        now = start_time(pid)
        if now is not None and now != start:
            return False  # the pid was given to another process since
    return True
