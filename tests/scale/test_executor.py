"""The executors themselves: job order, the bounded window, chunking, a task that fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from scale_helpers import Cluster

from auditor.run.executors import (
    AHEAD,
    LocalPool,
    SchedulerError,
    frame_chunks,
    open_executor,
)
from auditor.run.logpass import GROUP_BYTES, GROUP_FILES, LogListing, log_tasks
from auditor.sources import ReadJob, open_bundle, read_file, read_files


def _jobs(bundle_path: Path) -> list[ReadJob]:
    bundle = open_bundle(bundle_path)
    listing = LogListing(bundle, bundle_path)  # the audit's own listing of logs/
    paths = list(listing)
    assert not listing.finish()
    return [ReadJob(str(bundle.root), rel, "auto", bundle.settings, None, n) for rel, n in paths]


@pytest.mark.parametrize(
    ("jobs", "chunk", "slots"),
    [(0, 8, 2), (1, 8, 2), (7, 8, 2), (48, 8, 2), (2000, 8, 4), (2000, 32, 2)],
)
def test_frame_chunks_cover_every_job_in_order(jobs: int, chunk: int, slots: int) -> None:
    chunks = frame_chunks(list(range(jobs)), chunk, slots)
    assert [j for c in chunks for j in c] == list(range(jobs))
    assert all(1 <= len(c) <= chunk for c in chunks)
    if jobs >= 4 * slots * chunk:
        assert len(chunks[0]) == chunk  # full chunks while there is plenty left
    if jobs > 2 * slots:
        assert len(chunks[-1]) == 1  # the tail shrinks so the workers finish together


def test_local_pool_keeps_job_order(scale_bundle: Path) -> None:
    jobs = _jobs(scale_bundle)
    progress: list[int] = []
    results = list(LocalPool(2).map(read_file, jobs, progress.append))
    assert [r.path for r in results] == [j.path for j in jobs]
    assert sum(progress) == len(jobs)
    assert open_executor(None, 2).describe() == {}  # a local run's `run` block is unchanged


def test_dask_window_is_bounded_and_ordered(scale_bundle: Path, cluster: Cluster) -> None:
    """At most AHEAD tasks per cluster thread exist at any time (plus the ones being released),
    however many files the bundle has; results still come back in job order."""
    jobs = _jobs(scale_bundle)
    executor = open_executor(cluster.address, 0)
    try:
        window = executor.slots() * AHEAD
        assert len(jobs) > 3 * window
        seen, paths, progress = [], [], []
        client = executor._client  # type: ignore[attr-defined]
        for result in executor.map(read_file, jobs, progress.append):
            paths.append(result.path)
            # how many auditor log tasks the scheduler holds (a lambda: pickled by value)
            seen.append(
                client.run_on_scheduler(
                    lambda dask_scheduler: sum(
                        1
                        for key in dask_scheduler.tasks
                        if str(key).startswith("auditor-read_file-")
                    )
                )
            )
        assert paths == [j.path for j in jobs] and sum(progress) == len(jobs)
        assert 0 < max(seen) <= window + 2  # releases reach the scheduler a moment later
        assert executor.describe()["dask_threads"] == 2
    finally:
        executor.close()


def test_log_tasks_group_small_files_in_order(scale_bundle: Path) -> None:
    """Small files go several to a task (at most GROUP_FILES files or GROUP_BYTES bytes), a
    file of GROUP_BYTES or more goes alone, and the order is the listing's."""
    jobs = _jobs(scale_bundle)
    assert sum(j.size for j in jobs) < GROUP_BYTES and len(jobs) > GROUP_FILES
    assert [j.size for j in jobs] == [(scale_bundle / j.path).stat().st_size for j in jobs]
    tasks = list(log_tasks(jobs))
    assert [j for t in tasks for j in t] == jobs
    assert [len(t) for t in tasks] == [GROUP_FILES, len(jobs) - GROUP_FILES]
    big = [ReadJob("/b", f"logs/{i}", "auto", jobs[0].settings, None, s) for i, s in
           enumerate([GROUP_BYTES, 10, 20, GROUP_BYTES - 20, 1, GROUP_BYTES * 3, 5])]  # fmt: skip
    sizes = [[j.size for j in t] for t in log_tasks(big)]
    assert sizes == [[GROUP_BYTES], [10, 20], [GROUP_BYTES - 20, 1], [GROUP_BYTES * 3], [5]]
    assert list(log_tasks([])) == []


def test_dask_runs_one_log_task_per_group(scale_bundle: Path, cluster: Cluster) -> None:
    """On a cluster the small files of the scale bundle are read GROUP_FILES to a task: the
    task stream shows one `read_files` task per group, not one per file, and the results come
    back in job order."""
    from distributed import get_task_stream

    jobs = _jobs(scale_bundle)
    tasks = list(log_tasks(jobs))
    executor = open_executor(cluster.address, 0)
    try:
        client = executor._connect()  # type: ignore[attr-defined]
        with get_task_stream(client) as stream:
            paths = [r.path for results in executor.map(read_files, tasks) for r in results]
        names = sorted(str(t["key"]).split("-")[1] for t in stream.data)
        assert paths == [j.path for j in jobs]
        assert names.count("read_files") == len(tasks) == 2 < len(jobs)
    finally:
        executor.close()


def test_a_task_that_keeps_failing_is_an_error(cluster: Cluster) -> None:
    executor = open_executor(cluster.address, 0)
    try:
        results = executor.map(int, ["1", "2", "x", "4"])
        assert next(results) == 1 and next(results) == 2
        with pytest.raises(SchedulerError, match=r"task auditor-int-\w+-2 failed .*ValueError"):
            next(results)
    finally:
        executor.close()
