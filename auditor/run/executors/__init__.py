"""Executors, one module each: `local` (the default pool) and `dask` (an optional extra).

`open_executor` is the registry: it names every executor the command line can ask for, and
imports the Dask one only when asked, so `distributed` stays optional.
"""

from __future__ import annotations

from auditor.faces.detectors import DEFAULT_DETECTOR
from auditor.faces.kernels import DEFAULT_KERNEL
from auditor.run.executors.base import (
    AHEAD,
    DEFAULT_SCHEDULER_TIMEOUT,
    Executor,
    Inputs,
    SchedulerError,
    frame_chunks,
)
from auditor.run.executors.local import LocalPool

__all__ = [
    "AHEAD",
    "DEFAULT_SCHEDULER_TIMEOUT",
    "Executor",
    "Inputs",
    "LocalPool",
    "SchedulerError",
    "frame_chunks",
    "open_executor",
]


def open_executor(
    scheduler: str | None,
    workers: int,
    timeout: float = DEFAULT_SCHEDULER_TIMEOUT,
    kernel: str = DEFAULT_KERNEL,
    scheduler_file: str | None = None,
    detector: str = DEFAULT_DETECTOR,
) -> Executor:
    """`LocalPool` without a scheduler; otherwise a Dask executor (connects on first use) for
    the scheduler at `scheduler` or in the Dask scheduler file `scheduler_file`, whose workers
    are checked against this client for the descriptor `kernel` and face `detector` the run
    uses.

    Raises SchedulerError at once when Dask is not installed.
    """
    if not scheduler and not scheduler_file:
        return LocalPool(workers)
    if scheduler and scheduler_file:
        raise SchedulerError("--scheduler and --scheduler-file exclude each other")
    from auditor.run.executors.dask import DaskExecutor

    return DaskExecutor(scheduler, workers, timeout, kernel, scheduler_file, detector)
