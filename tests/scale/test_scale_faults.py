"""No hang, ever (issue 21, item 2): a frozen scheduler, a killed scheduler, a cluster whose
workers all died and a frozen worker each end the audit within the --scheduler-timeout bound,
with exit 2 and one line saying what was lost, no traceback and no claim of retries.

Each fault is dealt to real processes (SIGSTOP, SIGKILL) while the scheduler reports a frame
task of the audit processing, so it always lands mid-audit."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from scale_helpers import AUDITOR, Cluster

#: The watchdog bound used here (the default is 30 s); the audit must end within a few polls.
BOUND = 4
#: Seconds after the fault by which the audit must have ended: the bound, a poll or two, the
#: bounded goodbye to the cluster, and the slack of a loaded two-core machine.
ENDS_WITHIN = BOUND + 20


def audit_popen(bundle: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    argv = [
        str(AUDITOR),
        "audit",
        str(bundle),
        "--format",
        "json",
        "--output",
        str(out),
        "--no-store",
        "--fail-on",
        "never",
        *extra,
    ]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_task(
    cluster: Cluster, audit: subprocess.Popen[str], prefix: str, worker: str | None = None
) -> None:
    """Until the scheduler reports a task whose key starts with `prefix` processing (on
    `worker`, or on any worker)."""
    from distributed import Client

    with Client(cluster.address, timeout=10, set_as_default=False) as client:
        deadline = time.monotonic() + 300
        while True:
            busy = client.processing(workers=[worker] if worker else None)
            if any(str(key).startswith(prefix) for keys in busy.values() for key in keys):
                return
            if audit.poll() is not None:
                raise AssertionError(f"the audit ended before the fault: {audit.communicate()}")
            assert time.monotonic() < deadline, "no such task reached the cluster"
            time.sleep(0.02)


def fault_ends_audit(
    bundle: Path, cluster: Cluster, tmp_path: Path, fault: Callable[[], None]
) -> tuple[int, str, float]:
    """Run an audit on `cluster`, deal `fault` mid frame pass; (exit code, stderr, seconds
    from the fault to the end of the audit)."""
    out = tmp_path / "report.json"
    audit = audit_popen(
        bundle, out, "--scheduler", cluster.address, "--scheduler-timeout", str(BOUND)
    )
    try:
        wait_for_task(cluster, audit, "auditor-analyse_chunk-")
        fault()
        dealt = time.monotonic()
        _, stderr = audit.communicate(timeout=ENDS_WITHIN + 60)
        took = time.monotonic() - dealt
    finally:
        if audit.poll() is None:
            audit.kill()
            audit.wait()
    assert not out.exists()
    return audit.returncode, stderr, took


def one_line_no_traceback(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and "retried" not in stderr, stderr
    assert lines[0].startswith("auditor: error: "), stderr
    return lines[0]


def test_frozen_scheduler(scale_bundle: Path, own_cluster: Cluster, tmp_path: Path) -> None:
    assert own_cluster.scheduler is not None
    pid = own_cluster.scheduler.pid
    code, stderr, took = fault_ends_audit(
        scale_bundle, own_cluster, tmp_path, lambda: os.kill(pid, signal.SIGSTOP)
    )
    os.kill(pid, signal.SIGCONT)
    assert code == 2, stderr
    line = one_line_no_traceback(stderr)
    assert f"lost the Dask scheduler at {own_cluster.address}: no answer for" in line
    assert "frame tasks; nothing is reported" in line
    assert BOUND <= took < ENDS_WITHIN, took


def test_killed_scheduler(scale_bundle: Path, own_cluster: Cluster, tmp_path: Path) -> None:
    assert own_cluster.scheduler is not None
    pid = own_cluster.scheduler.pid
    code, stderr, took = fault_ends_audit(
        scale_bundle, own_cluster, tmp_path, lambda: os.kill(pid, signal.SIGKILL)
    )
    assert code == 2, stderr
    line = one_line_no_traceback(stderr)
    assert f"lost the connection to the Dask scheduler at {own_cluster.address}" in line
    assert took < ENDS_WITHIN, took


def test_every_worker_killed(scale_bundle: Path, own_cluster: Cluster, tmp_path: Path) -> None:
    def kill_all() -> None:
        for proc in own_cluster.workers.values():
            os.kill(proc.pid, signal.SIGKILL)

    code, stderr, took = fault_ends_audit(scale_bundle, own_cluster, tmp_path, kill_all)
    assert code == 2, stderr
    line = one_line_no_traceback(stderr)
    assert f"lost every Dask worker of the scheduler at {own_cluster.address}" in line
    assert BOUND <= took < ENDS_WITHIN, took


def test_frozen_worker(scale_bundle: Path, own_cluster: Cluster, tmp_path: Path) -> None:
    """One of two workers frozen while it analyses frames: the other finishes what it can,
    then the result the audit needs next is on the frozen one, which sends no heartbeat."""
    victim = sorted(own_cluster.workers)[0]
    out = tmp_path / "report.json"
    audit = audit_popen(
        scale_bundle, out, "--scheduler", own_cluster.address, "--scheduler-timeout", str(BOUND)
    )
    try:
        wait_for_task(own_cluster, audit, "auditor-analyse_chunk-", victim)
        os.kill(own_cluster.workers[victim].pid, signal.SIGSTOP)
        dealt = time.monotonic()
        _, stderr = audit.communicate(timeout=300)
        took = time.monotonic() - dealt
    finally:
        if audit.poll() is None:
            audit.kill()
            audit.wait()
    assert audit.returncode == 2, stderr
    line = one_line_no_traceback(stderr)
    assert f"lost the Dask worker {victim}: no heartbeat and no task finished for 4 s" in line
    # the other worker first finishes the tasks already handed out (a few frame chunks)
    assert BOUND <= took < ENDS_WITHIN + 30, took
    assert not out.exists()
