"""`LocalPool`: a fork pool of worker processes on this machine (the default executor)."""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from itertools import chain, islice
from typing import Any

from auditor.run.executors.base import AHEAD, Inputs, R, T


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what is queued and terminate the worker processes (Python 3.11 has no public
    way to do the latter; 3.14's `terminate_workers` does the same)."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    for proc in processes:
        proc.join(timeout=5)


class LocalPool:
    """Worker processes on this machine, forked per `map` (today's default)."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)

    def slots(self) -> int:
        return self.workers

    def map(
        self,
        fn: Callable[[T], R],
        jobs: Iterable[T],
        progress: Callable[[int], None] | None = None,
        inputs: Inputs[T, R] | None = None,
    ) -> Iterator[R]:
        pending = iter(jobs)
        first = list(islice(pending, self.workers * AHEAD if self.workers > 1 else 1))
        if self.workers <= 1 or len(first) <= 1:
            for job in chain(first, pending):
                yield fn(job)
                if progress:
                    progress(1)
            return
        # A bounded window of submitted jobs rather than `pool.map`, which submits every job at
        # once: the parent then holds a few futures, not one per file, so its memory does not
        # grow with the number of files in the bundle. Results still come back in job order.
        ctx = multiprocessing.get_context("fork")
        size = min(self.workers, len(first))
        pool = ProcessPoolExecutor(max_workers=size, mp_context=ctx)
        window = deque(pool.submit(fn, job) for job in first)
        try:
            while window:
                result = window.popleft().result()
                for job in islice(pending, 1):
                    window.append(pool.submit(fn, job))
                yield result
                if progress:
                    progress(1)
        except BaseException:
            # a signal (Terminated, KeyboardInterrupt), an error, or the consumer stopped: end
            # the workers now rather than wait for the jobs they are in (a big file can take
            # minutes)
            _stop(pool)
            raise
        pool.shutdown(wait=True)

    def share(self, root: str) -> None:
        """Local processes see this machine's files: nothing to check."""

    def local_disk(self) -> bool:
        """Forked processes of this machine: they share its disk."""
        return True

    def describe(self) -> dict[str, Any]:
        """Nothing: a local run's `run` block stays as it always was."""
        return {}

    def close(self) -> None:
        """Pools live only for the duration of one `map`."""
