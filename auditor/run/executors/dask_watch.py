"""The progress watchdog of a Dask audit: no wait on the cluster is unbounded.

Dask itself waits for ever in three cases an audit meets: a scheduler that stops answering
(frozen, overloaded past recovery, its network cut) keeps the client's connection open and its
futures pending; a scheduler whose workers all died keeps the tasks queued for a worker that
may come (`distributed.scheduler.no-workers-timeout` is off by default); and a frozen worker
keeps its tasks until the scheduler's `worker-ttl` (5 minutes by default) removes it.

So the client waits for each result in short polls, and between polls asks the scheduler for
its workers (an RPC bounded by the poll). The audit is given up, with one line saying what was
lost, when for `bound` seconds:

* the scheduler has not answered (the scheduler is lost), or
* no task of this audit finished and the scheduler has had no worker (every worker is lost), or
* no task of this audit finished and a worker has sent the scheduler no heartbeat (that worker
  is lost; heartbeats are compared as the scheduler's own `last_seen` values, so the clocks of
  the client and the scheduler need not agree).

Workers that keep sending heartbeats are working, however long a task takes: a slow task on a
live worker is waited for.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from auditor.run.executors.base import SchedulerError


class Watchdog:
    """Waits for one future at a time and raises SchedulerError when the cluster went silent."""

    def __init__(
        self, client: Any, address: str, bound: float, total: int | None, what: str
    ) -> None:
        self.client = client
        self.address = address
        self.bound = bound
        self.poll = max(0.2, min(2.0, bound / 5))
        self.total = total
        self.what = what
        self.consumed = 0
        now = time.monotonic()
        self.progress_at = now
        self.answer_at = now
        self.finished: set[str] = set()
        #: worker address -> (the scheduler's last_seen value, when the client saw it change)
        self.beats: dict[str, tuple[float, float]] = {}

    def stopped(self) -> str:
        return (
            f"the audit stopped after {self.consumed} of {self.total or 'the listed'} {self.what}"
            " tasks; "
            f"nothing is reported"
        )

    def result(self, future: Any, pending: Iterable[Any]) -> Any:
        """`future.result()` once it is done; SchedulerError when the cluster went silent or
        the scheduler connection closed."""
        while True:
            try:
                value = future.result(timeout=self.poll)
            except TimeoutError:
                if future.status == "error":  # the task's own TimeoutError
                    raise
                if not future.done():  # still running: a poll
                    self.check([future, *pending])
                continue
            except BaseException:
                if future.status == "cancelled":
                    raise SchedulerError(self.cancelled(future)) from None
                raise
            self.consumed += 1
            self.progress_at = time.monotonic()
            return value

    def cancelled(self, future: Any) -> str:
        """The line for a future the client saw cancelled: by a lost scheduler connection
        (Dask's reason `scheduler-connection-lost`) or by someone else on the cluster."""
        reason = getattr(getattr(future, "_state", None), "exception", None)
        why = str(getattr(reason, "reason", "") or "unknown")
        if why == "scheduler-connection-lost" or self.client.status != "running":
            return (
                f"lost the connection to the Dask scheduler at {self.address} (it closed: "
                f"the scheduler stopped or its network went away); {self.stopped()}"
            )
        return f"task {future.key} was cancelled on the Dask cluster ({why}); {self.stopped()}"

    def check(self, futures: Iterable[Any]) -> None:
        now = time.monotonic()
        done = {str(f.key) for f in futures if f.done()}
        if done - self.finished:
            self.progress_at = now
        self.finished |= done
        workers = self._workers()
        if workers is not None:
            self.answer_at = now
            self._beat(workers, now)
        elif now - self.answer_at >= self.bound:
            raise SchedulerError(
                f"lost the Dask scheduler at {self.address}: no answer for "
                f"{now - self.answer_at:.0f} s (frozen, overloaded or cut off; "
                f"--scheduler-timeout {self.bound:g}); {self.stopped()}"
            )
        if now - self.progress_at < self.bound or workers is None:
            return
        if not workers:
            raise SchedulerError(
                f"lost every Dask worker of the scheduler at {self.address}: none for "
                f"{self.bound:g} s and no task finished (--scheduler-timeout {self.bound:g}); "
                f"{self.stopped()}"
            )
        silent = sorted(a for a, (_, at) in self.beats.items() if now - at >= self.bound)
        if silent:
            raise SchedulerError(
                f"lost the Dask worker {silent[0]}"
                + (f" and {len(silent) - 1} more" if len(silent) > 1 else "")
                + f": no heartbeat and no task finished for {self.bound:g} s (frozen or cut "
                f"off; --scheduler-timeout {self.bound:g}); {self.stopped()}"
            )

    def _workers(self) -> dict[str, Any] | None:
        """The scheduler's workers (address -> identity), or None when it did not answer."""
        try:
            info = self.client.sync(self.client.scheduler.identity, callback_timeout=self.poll)
        except Exception:  # noqa: BLE001 - TimeoutError, CommClosedError, OSError: no answer
            return None
        return dict(info.get("workers", {}))

    def _beat(self, workers: dict[str, Any], now: float) -> None:
        beats = {}
        for addr, facts in workers.items():
            seen = float(facts.get("last_seen", 0.0))
            old = self.beats.get(addr)
            beats[addr] = old if old is not None and old[0] == seen else (seen, now)
        self.beats = beats
