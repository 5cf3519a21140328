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
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sized
from itertools import islice
from typing import Any, TypeVar

from auditor.faces.detectors import DEFAULT_DETECTOR
from auditor.run.executors.base import AHEAD, Inputs, SchedulerError
from auditor.run.executors.dask_checks import (
    Checked,
    TaskCheck,
    can_read,
    checked_call,
    client_stamps,
    differences,
    mismatch,
    worker_facts,
)
from auditor.run.executors.dask_watch import Watchdog

T = TypeVar("T")
R = TypeVar("R")

#: Times a task that raised is run again before the audit gives up (Dask's `retries=`).
RETRIES = 2

INSTALL_HINT = "install the optional Dask support: pip install 'auditor[dask]'"


#: Seconds at least that the checks run on every worker may take (at most): a worker's first
#: check imports dlib and the kernel's runtime and hashes the model files, which takes a while
#: on a busy machine; a longer --scheduler-timeout raises it.
CHECK_TIMEOUT = 120.0

#: What each task function is called in messages (`N of M log-parsing tasks`).
TASK_NAMES = {"read_file": "log-parsing", "read_files": "log-parsing", "analyse_chunk": "frame"}


DASK_LOGGERS = ("distributed", "tornado", "asyncio")


def _quiet_dask_logs() -> None:
    """Dask's client logs its own view of a failure (with tracebacks) to stderr; the audit
    says what was lost in one line of its own, so the client process keeps only Dask's
    critical messages."""
    names = [n for n in logging.root.manager.loggerDict if n.split(".")[0] in DASK_LOGGERS]
    for name in {*DASK_LOGGERS, *names}:
        logger = logging.getLogger(name)
        logger.setLevel(logging.CRITICAL)
        for handler in logger.handlers:  # children's records pass these handlers too
            handler.setLevel(logging.CRITICAL)


def _client_class() -> Any:
    """Dask's Client, but one whose finaliser neither waits long nor prints: a client whose
    start failed (a bad TLS setup) or whose scheduler froze is closed again when it is
    collected at exit, which otherwise waits twice the timeout and prints a traceback."""
    from distributed import Client

    class QuietClient(Client):
        def __del__(self) -> None:
            if getattr(self, "_Client__loop", None) is None:
                return
            try:
                self.close(timeout=1)  # type: ignore[no-untyped-call]
            except Exception:  # noqa: BLE001, S110 - at exit, a client that did not close is gone
                pass

    return QuietClient


class DaskExecutor:
    """A connection to a Dask scheduler, opened on first use and closed by `close`.

    `timeout` bounds every wait on the cluster: connecting, the first worker, each check, and
    mid-audit the silence the `Watchdog` allows (no answer, or no finished task and no
    heartbeat)."""

    def __init__(
        self,
        address: str | None,
        workers: int,
        timeout: float,
        kernel: str,
        scheduler_file: str | None = None,
        detector: str = DEFAULT_DETECTOR,
    ) -> None:
        label = address or f"(scheduler file {scheduler_file})"
        try:
            import distributed  # noqa: F401 - only to fail early and clearly
        except ImportError as exc:
            raise SchedulerError(
                f"--scheduler {label}: Dask is not installed ({exc}); {INSTALL_HINT}"
            ) from exc
        self.address = label
        self.scheduler_file = scheduler_file
        self.workers = workers
        self.kernel = kernel
        self.detector = detector
        self.timeout = timeout
        self._client: Any = None
        self._cluster: Any = None
        self._slots = 0
        self._facts: dict[str, Any] = {}
        self._mine = worker_facts(kernel, detector)
        self._roots: list[str] = []

    # -- connecting --------------------------------------------------------------------------

    def _connect(self) -> Any:
        if self._client is not None:
            return self._client
        _quiet_dask_logs()
        if self.scheduler_file:
            self.address = self._read_scheduler_file(self.scheduler_file)
        target: Any = self.address
        if self.address == "local":
            target = self._cluster = self._local_cluster()
        try:
            client = _client_class()(
                target,
                timeout=self.timeout,
                set_as_default=False,
                # results (descriptors among them) come from the workers, not via the scheduler
                direct_to_workers=True,
            )
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
        scheduler: Any = client.scheduler
        threads = self._ask(client, scheduler.ncores, what="its workers' threads")
        self._slots = max(1, sum(threads.values()))
        self._facts = {"dask_workers": len(threads), "dask_threads": self._slots}
        return client

    def _read_scheduler_file(self, path: str) -> str:
        """The address in a Dask scheduler file, waiting up to the timeout for it to appear
        (a batch job's scheduler writes it once it runs; Dask's own client waits for ever)."""
        import json
        import time

        deadline = time.monotonic() + self.timeout
        while True:
            try:
                with open(path, encoding="utf-8") as fh:
                    address = json.load(fh)["address"]
                if isinstance(address, str) and address:
                    return address
                problem = "no scheduler address in it"
            except (OSError, ValueError, KeyError, TypeError) as exc:
                problem = getattr(exc, "strerror", None) or f"{type(exc).__name__}: {exc}"
            if time.monotonic() >= deadline:
                raise SchedulerError(
                    f"cannot reach the Dask scheduler at {self.address}: no usable scheduler "
                    f"file within {self.timeout:g} s ({problem})"
                )
            time.sleep(0.2)

    def _ask(
        self, client: Any, call: Callable[..., Any], *args: Any, what: str, bound: float = 0
    ) -> Any:
        """`call(*args)` on the client's event loop, bounded by `bound` or the timeout (Dask's
        own calls wait for ever on a frozen scheduler or worker)."""
        bound = max(bound, self.timeout)
        try:
            return client.sync(call, *args, callback_timeout=bound)
        except TimeoutError as exc:
            self.close()
            raise SchedulerError(
                f"the Dask scheduler at {self.address} did not answer within {bound:g} s "
                f"when asked for {what} (a frozen scheduler or worker)"
            ) from exc

    def _local_cluster(self) -> Any:
        """A LocalCluster of `workers` processes with one thread each, on loopback only; its
        scheduler drops a worker silent for the timeout and gives up tasks left without any
        worker (Dask's defaults wait 5 minutes and for ever)."""
        import dask
        from distributed import LocalCluster

        bound = f"{max(self.timeout, 1):g}s"
        try:
            with dask.config.set(
                {
                    "distributed.scheduler.worker-ttl": bound,
                    "distributed.scheduler.no-workers-timeout": bound,
                }
            ):
                return LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=max(1, self.workers),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    # no dashboard, but the scheduler's HTTP server (health, metrics) still
                    # binds: a free loopback port, not 8787 (taken by another cluster)
                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                    silence_logs=logging.ERROR,
                )
        except Exception as exc:  # noqa: BLE001 - whatever stops the cluster from starting
            raise SchedulerError(
                f"cannot start a local Dask cluster: {type(exc).__name__}: {exc}"
            ) from exc

    def _check_workers(self, client: Any) -> None:
        """Every worker must import this auditor and have the same dlib build and models."""
        try:
            theirs = self._ask(
                client,
                client._run,
                worker_facts,
                self.kernel,
                self.detector,
                what="its workers' versions",
                bound=CHECK_TIMEOUT,
            )
        except SchedulerError:
            raise
        except Exception as exc:  # noqa: BLE001 - ModuleNotFoundError raised on a worker
            self.close()
            raise SchedulerError(
                f"the Dask workers at {self.address} cannot run auditor tasks "
                f"({type(exc).__name__}: {exc}); the workers must run in an environment with "
                f"the same auditor installed (auditor {self._mine['auditor']})"
            ) from exc
        wrong = {addr: facts for addr, facts in theirs.items() if facts != self._mine}
        if wrong:
            self.close()
            addr, facts = sorted(wrong.items())[0]
            raise self._differ(len(wrong), addr, facts)

    def _differ(self, count: int, addr: str, facts: dict[str, str]) -> SchedulerError:
        return SchedulerError(
            f"{count} Dask worker(s) differ from this client, e.g. {addr}: "
            f"{differences(self._mine, facts)}; results would depend on the worker"
        )

    @staticmethod
    def _blind(count: int, root: str, addr: str) -> SchedulerError:
        return SchedulerError(
            f"{count} Dask worker(s) cannot read the bundle folder {root} "
            f"(first: {addr}): bundle paths must be on a filesystem shared by the "
            f"client and every worker, at the same path"
        )

    # -- the Executor protocol --------------------------------------------------------------

    def slots(self) -> int:
        self._connect()
        return self._slots

    def share(self, root: str) -> None:
        client = self._connect()
        seen = self._ask(
            client,
            client._run,
            can_read,
            str(root),
            what="the bundle",
            bound=CHECK_TIMEOUT,
        )
        blind = sorted(addr for addr, ok in seen.items() if not ok)
        if blind:
            raise self._blind(len(blind), str(root), blind[0])
        if str(root) not in self._roots:
            self._roots.append(str(root))

    def map(
        self,
        fn: Callable[[T], R],
        jobs: Iterable[T],
        progress: Callable[[int], None] | None = None,
        inputs: Inputs[T, R] | None = None,
    ) -> Iterator[R]:
        client = self._connect()
        name = getattr(getattr(fn, "func", fn), "__name__", "task")
        tag = f"auditor-{name}-{uuid.uuid4().hex[:8]}"
        numbered = enumerate(jobs)
        total = len(jobs) if isinstance(jobs, Sized) else None  # a lazy listing: not known yet
        watch = Watchdog(client, self.address, self.timeout, total, TASK_NAMES.get(name, name))

        def submit(index: int, job: T) -> tuple[Any, T, list[str], TaskCheck]:
            files = inputs.files(job) if inputs else []
            stamps = client_stamps([(p, s) for p, _, s in files])
            check = TaskCheck(self.kernel, tuple(self._roots), stamps, self.detector)
            future = client.submit(
                checked_call, fn, job, check, key=f"{tag}-{index}", retries=RETRIES, pure=False
            )
            return future, job, [name for _, name, _ in files], check

        window = deque(submit(i, job) for i, job in islice(numbered, self._slots * AHEAD))
        try:
            while window:
                future, job, names, check = window.popleft()
                try:
                    checked = watch.result(future, [f for f, *_ in window])
                except SchedulerError:
                    raise
                except Exception as exc:  # noqa: BLE001 - the task failed for good
                    raise SchedulerError(
                        f"task {future.key} failed on the Dask cluster at {self.address} "
                        f"(retried up to {RETRIES} times): {type(exc).__name__}: {exc}"
                    ) from exc
                future.release()
                result = self._accept(checked, job, names, check, inputs)
                for i, job in islice(numbered, 1):
                    window.append(submit(i, job))
                yield result
                if progress:
                    progress(1)
        finally:
            # release, not cancel: cancelling waits for the scheduler, which may be the part lost
            for future, *_ in window:
                future.release()

    def _accept(
        self,
        checked: Checked,
        job: T,
        names: list[str],
        check: TaskCheck,
        inputs: Inputs[T, R] | None,
    ) -> R:
        """The task's result once the worker passed the checks; SchedulerError (exit 2) for a
        worker that differs or cannot see the bundle, and `inputs.refuse` for files it read
        with other bytes than this client."""
        if checked.facts != self._mine:
            raise self._differ(1, checked.worker, checked.facts)
        if checked.blind is not None:
            raise self._blind(1, checked.blind, checked.worker)
        result: R = checked.result
        if inputs is None:
            return result
        bad = {}
        for name, (_, mine), theirs in zip(names, check.inputs, checked.seen, strict=True):
            why = mismatch(mine, theirs, checked.worker)
            if why is not None:
                bad[name] = why
        return inputs.refuse(job, result, bad) if bad else result

    def local_disk(self) -> bool:
        """Cluster workers share no disk with the client (even a LocalCluster is treated so)."""
        return False

    def describe(self) -> dict[str, Any]:
        return {"executor": "dask", "scheduler": self.address, **self._facts}

    def close(self) -> None:
        """Close the connection (bounded: a frozen scheduler never answers the goodbye)."""
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        if client is not None:
            try:
                client.close(timeout=min(self.timeout, 2))
            except Exception:  # noqa: BLE001 - TimeoutError, closed comms: it is gone anyway
                pass
        if cluster is not None:
            cluster.close()
