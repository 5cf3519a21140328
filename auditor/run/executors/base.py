"""The executor interface: where an audit's tasks run, on local worker processes (the default)
or a Dask cluster.

The audit hands an executor a top-level function and a list of picklable jobs (log files, frame
chunks) and reads the results back in job order, whatever ran them. Two implementations:

* `LocalPool`: a fork pool of `--workers` processes on this machine (in-process for one worker
  or one job). This is what every audit used before Dask support and stays the default.
* `auditor.run.executors.dask.DaskExecutor`: tasks on a `dask.distributed` cluster (`--scheduler
  tcp://host:8786`, or `--scheduler local` for a LocalCluster). Imported only when asked for, so
  Dask stays an optional extra (`auditor[dask]`).

Both keep a bounded window of submitted jobs (a few per worker) instead of submitting every job
at once, so the client holds a handful of pending results, not one per file of a large archive.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from auditor.core.defaults import SCHEDULER_TIMEOUT
from auditor.core.errors import AuditorError

T = TypeVar("T")
R = TypeVar("R")

#: Jobs submitted ahead per worker: enough to keep every worker busy while results are consumed.
AHEAD = 4

DEFAULT_SCHEDULER_TIMEOUT = SCHEDULER_TIMEOUT


class SchedulerError(AuditorError):
    """The Dask cluster cannot be used (Dask missing, unreachable, no or wrong workers) or a
    task failed on it for good: nothing is reported, the command line exits 2."""


@dataclass(frozen=True)
class Inputs(Generic[T, R]):
    """How a cluster checks that a worker read the same bytes as the client.

    `files(job)` lists the job's input files: absolute path, bundle-relative name (for
    messages) and the SHA-256 the client already has, or None. `refuse(job, result, bad)` is the
    result to use instead of `result` when a worker saw other bytes in the files `bad` names
    (name -> why): the job's result with those files turned into input errors. A local pool
    reads this machine's files and ignores both.
    """

    files: Callable[[T], list[tuple[str, str, str | None]]]
    refuse: Callable[[T, R, dict[str, str]], R]


class Executor(Protocol):
    """Runs top-level functions on picklable jobs; results come back in job order."""

    def slots(self) -> int:
        """How many tasks run at once (worker processes or cluster threads)."""

    def map(
        self,
        fn: Callable[[T], R],
        jobs: Iterable[T],
        progress: Callable[[int], None] | None = None,
        inputs: Inputs[T, R] | None = None,
    ) -> Iterator[R]:
        """Yield `fn(job)` for every job, in job order; `progress(1)` after each. `jobs` may
        be a lazy iterator (an object-storage listing): it is consumed a window at a time. With
        `inputs`, a worker's view of each job's files is compared with this client's."""

    def share(self, root: str) -> None:
        """Check that every worker can read the bundle `root`, a folder or an fsspec URL
        (raise SchedulerError if not)."""

    def local_disk(self) -> bool:
        """Whether every task runs on this machine and sees its files, the audit's scratch
        folder included (a read hands a big file's events back through it)."""

    def describe(self) -> dict[str, Any]:
        """Facts for the report's `run` block (where the tasks ran; empty for the default)."""

    def close(self) -> None:
        """Release the cluster connection or the processes this executor started."""


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
