"""Where an audit's tasks run: local worker processes (the default) or a Dask cluster.

The audit hands an executor a top-level function and a list of picklable jobs (log files, frame
chunks) and reads the results back in job order, whatever ran them. Two implementations:

* `LocalPool`: a fork pool of `--workers` processes on this machine (in-process for one worker
  or one job). This is what every audit used before Dask support and stays the default.
* `auditor.dask_executor.DaskExecutor`: tasks on a `dask.distributed` cluster (`--scheduler
  tcp://host:8786`, or `--scheduler local` for a LocalCluster). Imported only when asked for, so
  Dask stays an optional extra (`auditor[dask]`).

Both keep a bounded window of submitted jobs (a few per worker) instead of submitting every job
at once, so the client holds a handful of pending results, not one per file of a large archive.
"""

from __future__ import annotations

import functools
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from auditor.errors import AuditorError

if TYPE_CHECKING:
    from auditor.faces.engine import FaceParams, ImageJob, ImageResult

T = TypeVar("T")
R = TypeVar("R")

#: Jobs submitted ahead per worker: enough to keep every worker busy while results are consumed.
AHEAD = 4

#: Seconds to wait for a Dask scheduler (and its first worker) before giving up.
DEFAULT_SCHEDULER_TIMEOUT = 10.0


class SchedulerError(AuditorError):
    """The Dask cluster cannot be used (Dask missing, unreachable, no or wrong workers) or a
    task failed on it for good: nothing is reported, the command line exits 2."""


class Executor(Protocol):
    """Runs top-level functions on picklable jobs; results come back in job order."""

    def slots(self) -> int:
        """How many tasks run at once (worker processes or cluster threads)."""

    def map(
        self,
        fn: Callable[[T], R],
        jobs: Sequence[T],
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[R]:
        """Yield `fn(job)` for every job, in job order; `progress(1)` after each."""

    def share(self, root: Path) -> None:
        """Check that every worker can read the folder `root` (raise SchedulerError if not)."""

    def describe(self) -> dict[str, Any]:
        """Facts for the report's `run` block (where the tasks ran; empty for the default)."""

    def close(self) -> None:
        """Release the cluster connection or the processes this executor started."""


class LocalPool:
    """Worker processes on this machine, forked per `map` (today's default)."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)

    def slots(self) -> int:
        return self.workers

    def map(
        self,
        fn: Callable[[T], R],
        jobs: Sequence[T],
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[R]:
        if self.workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                yield fn(job)
                if progress:
                    progress(1)
            return
        # A bounded window of submitted jobs rather than `pool.map`, which submits every job at
        # once: the parent then holds a few futures, not one per file, so its memory does not
        # grow with the number of files in the bundle. Results still come back in job order.
        ctx = multiprocessing.get_context("fork")
        size = min(self.workers, len(jobs))
        pending = iter(jobs)
        with ProcessPoolExecutor(max_workers=size, mp_context=ctx) as pool:
            window = deque(pool.submit(fn, job) for job in islice(pending, size * AHEAD))
            try:
                while window:
                    result = window.popleft().result()
                    for job in islice(pending, 1):
                        window.append(pool.submit(fn, job))
                    yield result
                    if progress:
                        progress(1)
            finally:
                for future in window:
                    future.cancel()

    def share(self, root: Path) -> None:
        """Local processes see this machine's files: nothing to check."""

    def describe(self) -> dict[str, Any]:
        """Nothing: a local run's `run` block stays as it always was."""
        return {}

    def close(self) -> None:
        """Pools live only for the duration of one `map`."""


def open_executor(
    scheduler: str | None, workers: int, timeout: float = DEFAULT_SCHEDULER_TIMEOUT
) -> Executor:
    """`LocalPool` without a scheduler; otherwise a Dask executor (connects on first use).

    Raises SchedulerError at once when Dask is not installed.
    """
    if not scheduler:
        return LocalPool(workers)
    from auditor.dask_executor import DaskExecutor

    return DaskExecutor(scheduler, workers, timeout)


def frame_chunks(jobs: Sequence[T], chunk: int, slots: int) -> list[list[T]]:
    """Guided chunking for a cluster: `chunk` images per task (fewer if that leaves under four
    tasks per slot), and never more than 1/(2 x slots) of what is left, so the last tasks shrink
    to single images and the workers finish together."""
    size = max(1, min(chunk, -(-len(jobs) // (4 * slots))))
    chunks: list[list[T]] = []
    begin = 0
    while begin < len(jobs):
        step = max(1, min(size, (len(jobs) - begin) // (2 * slots)))
        chunks.append(list(jobs[begin : begin + step]))
        begin += step
    return chunks


def analyse_frames(
    executor: Executor | None,
    jobs: Sequence[ImageJob],
    params: FaceParams,
    progress: Callable[[int], None] | None = None,
) -> Iterator[ImageResult]:
    """The frame pass on `executor`: one result per job, in job order.

    On the local pool this is exactly `engine.analyse` (its own fork pool, models loaded once per
    process by the pool initialiser). On a cluster each task is one chunk of frames given to
    `engine.analyse_chunk` (one batched descriptor call per chunk); each worker process loads the
    models once, on its first chunk.
    """
    from auditor.faces.engine import analyse, analyse_chunk

    if executor is None or isinstance(executor, LocalPool):
        yield from analyse(jobs, params, progress)
        return
    chunks = frame_chunks(list(jobs), params.chunk, executor.slots())
    work = functools.partial(analyse_chunk, params=params)
    for done in executor.map(work, chunks):
        if progress is not None:
            progress(len(done))
        yield from done
