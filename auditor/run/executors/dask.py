"""Tasks on a dask.distributed cluster: `--scheduler tcp://host:8786` or `--scheduler local`.

What is sent to the workers is the task function (by reference: the workers import it from their
own `auditor` install) and its job: a log file's bundle path and source settings, or a chunk of
frame paths and the face parameters. Workers read those files themselves, so the bundle must be
on a filesystem every worker sees at the same path (`share` checks it before any task is sent).
What comes back is one task's result: a log file's events, counts and issues, or the boxes and
descriptors of the frames of one chunk. Nothing else (no cache, no findings, no report) leaves
the client.

Why it is built this way:

* Results come back in job order from a bounded window of futures (`AHEAD` per cluster
  thread), like the local pool: the client holds a few pending results, and each future is
  released as soon as its result is read, so neither the client nor the scheduler keeps one
  entry per file of a large archive.
* A worker lost mid-audit costs nothing but time: the scheduler gives its tasks to other workers
  (up to `distributed.scheduler.allowed-failures` lost workers per task), and a task that
  raises is retried `RETRIES` times (Dask's `retries=`). Tasks are pure, so a retry computes
  the same result.
* Every worker must run the same auditor version and the same dlib build and model files as the
  client: the cached descriptors are keyed by the client's fingerprint, and a report must not
  depend on which worker computed a frame. Connecting checks this on every worker.
* Keys are unique per audit (`pure=False` plus a random tag), so several audits can share one
  cluster without sharing (or cancelling) each other's tasks.
"""

from __future__ import annotations

import logging
import os
import platform
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

from auditor.run.executors.base import AHEAD, SchedulerError

T = TypeVar("T")
R = TypeVar("R")

#: Times a task that raised is run again before the audit gives up (Dask's `retries=`).
RETRIES = 2

INSTALL_HINT = "install the optional Dask support: pip install 'auditor[dask]'"


def worker_facts(kernel: str) -> dict[str, str]:
    """What must be equal on the client and every worker for identical results, for the
    descriptor kernel the audit uses (the onnx kernel adds the onnxruntime version and provider).

    Runs on each worker (`Client.run`), so it is top-level and imports lazily.
    """
    import hashlib
    import json

    from auditor import __version__
    from auditor.faces.fingerprint import build_info

    build = json.dumps(build_info(kernel), sort_keys=True, default=str)
    return {
        "auditor": __version__,
        "python": platform.python_version(),
        "kernel": kernel,
        "dlib build, kernel runtime and models": hashlib.sha256(build.encode()).hexdigest()[:16],
    }


def can_read(root: str) -> bool:
    """Runs on each worker: is the bundle there and listable (a folder at the same path, or
    the same object-storage URL with this worker's own credentials)?"""
    from auditor.config.bundlefs import PathEscape, is_url, open_fs

    if not is_url(root):
        try:
            os.listdir(root)
        except OSError:
            return False
        return True
    try:
        return open_fs(root).is_dir("")
    except (OSError, PathEscape):
        return False


class DaskExecutor:
    """A connection to a Dask scheduler, opened on first use and closed by `close`."""

    def __init__(self, address: str, workers: int, timeout: float, kernel: str) -> None:
        try:
            import distributed  # noqa: F401 - only to fail early and clearly
        except ImportError as exc:
            raise SchedulerError(
                f"--scheduler {address}: Dask is not installed ({exc}); {INSTALL_HINT}"
            ) from exc
        self.address = address
        self.workers = workers
        self.kernel = kernel
        self.timeout = timeout
        self._client: Any = None
        self._cluster: Any = None
        self._slots = 0
        self._facts: dict[str, Any] = {}

    # -- connecting --------------------------------------------------------------------------

    def _connect(self) -> Any:
        if self._client is not None:
            return self._client
        from distributed import Client

        target: Any = self.address
        if self.address == "local":
            target = self._cluster = self._local_cluster()
        try:
            client = Client(target, timeout=self.timeout, set_as_default=False)  # type: ignore[no-untyped-call]
        except Exception as exc:  # noqa: BLE001 - OSError, TimeoutError, ValueError (bad address)
            self.close()
            raise SchedulerError(
                f"cannot reach the Dask scheduler at {self.address} within "
                f"{self.timeout:g} s: {type(exc).__name__}: {exc}"
            ) from exc
        self._client = client
        try:
            client.wait_for_workers(1, timeout=self.timeout)
        except Exception as exc:  # noqa: BLE001 - TimeoutError
            self.close()
            raise SchedulerError(
                f"the Dask scheduler at {self.address} has no workers (waited {self.timeout:g} s)"
            ) from exc
        self._check_workers(client)
        threads = client.nthreads()  # type: ignore[no-untyped-call]
        self._slots = max(1, sum(threads.values()))
        self._facts = {"dask_workers": len(threads), "dask_threads": self._slots}
        return client

    def _local_cluster(self) -> Any:
        """A LocalCluster of `workers` processes with one thread each, on loopback only."""
        from distributed import LocalCluster

        try:
            return LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=max(1, self.workers),
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                # no dashboard, but the scheduler's HTTP server (health, metrics) still binds:
                # a free loopback port, not 8787 (taken by any other cluster, with a warning)
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                silence_logs=logging.ERROR,
            )
        except Exception as exc:  # noqa: BLE001 - whatever stops the cluster from starting
            raise SchedulerError(
                f"cannot start a local Dask cluster: {type(exc).__name__}: {exc}"
            ) from exc

    def _check_workers(self, client: Any) -> None:
        """Every worker must import this auditor and have the same dlib build and models."""
        mine = worker_facts(self.kernel)
        try:
            theirs = client.run(worker_facts, self.kernel)
        except Exception as exc:  # noqa: BLE001 - ModuleNotFoundError raised on a worker
            self.close()
            raise SchedulerError(
                f"the Dask workers at {self.address} cannot run auditor tasks "
                f"({type(exc).__name__}: {exc}); the workers must run in an environment with "
                f"the same auditor installed (auditor {mine['auditor']})"
            ) from exc
        wrong = {addr: facts for addr, facts in theirs.items() if facts != mine}
        if wrong:
            self.close()
            addr, facts = sorted(wrong.items())[0]
            diff = ", ".join(
                f"{key} {facts.get(key)} (client: {value})"
                for key, value in mine.items()
                if facts.get(key) != value
            )
            raise SchedulerError(
                f"{len(wrong)} Dask worker(s) differ from this client, e.g. {addr}: {diff}; "
                f"results would depend on the worker"
            )

    # -- the Executor protocol --------------------------------------------------------------

    def slots(self) -> int:
        self._connect()
        return self._slots

    def share(self, root: str) -> None:
        client = self._connect()
        seen = client.run(can_read, root)
        blind = sorted(addr for addr, ok in seen.items() if not ok)
        if blind:
            raise SchedulerError(
                f"{len(blind)} Dask worker(s) cannot read the bundle folder {root} "
                f"(first: {blind[0]}): bundle paths must be on a filesystem shared by the "
                f"client and every worker, at the same path"
            )

    def map(
        self,
        fn: Callable[[T], R],
        jobs: Iterable[T],
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[R]:
        client = self._connect()
        name = getattr(getattr(fn, "func", fn), "__name__", "task")
        tag = f"auditor-{name}-{uuid.uuid4().hex[:8]}"
        numbered = enumerate(jobs)

        def submit(index: int, job: T) -> Any:
            return client.submit(fn, job, key=f"{tag}-{index}", retries=RETRIES, pure=False)

        window = deque(submit(i, job) for i, job in islice(numbered, self._slots * AHEAD))
        try:
            while window:
                future = window.popleft()
                try:
                    result = future.result()
                except Exception as exc:  # noqa: BLE001 - the task failed for good
                    raise SchedulerError(
                        f"task {future.key} failed on the Dask cluster at {self.address} "
                        f"(retried up to {RETRIES} times): {type(exc).__name__}: {exc}"
                    ) from exc
                future.release()
                for i, job in islice(numbered, 1):
                    window.append(submit(i, job))
                yield result
                if progress:
                    progress(1)
        finally:
            for future in window:
                future.cancel()

    def describe(self) -> dict[str, Any]:
        return {"executor": "dask", "scheduler": self.address, **self._facts}

    def close(self) -> None:
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
