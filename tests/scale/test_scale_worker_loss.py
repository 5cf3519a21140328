"""A worker killed (SIGKILL) while it analyses frames: its tasks run again elsewhere and the
audit's report is the same as the local run's (issue 10, items 1 and 2)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from scale_helpers import AUDITOR, Cluster, strip_run


def test_worker_killed_mid_audit(
    scale_bundle: Path, local_report: str, own_cluster: Cluster, tmp_path: Path
) -> None:
    from distributed import Client

    victim = sorted(own_cluster.workers)[0]
    out = tmp_path / "report.json"
    argv = [
        str(AUDITOR),
        "audit",
        str(scale_bundle),
        "--format",
        "json",
        "--output",
        str(out),
        "--no-store",
        "--fail-on",
        "never",
        "--scheduler",
        own_cluster.address,
    ]
    audit = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with Client(own_cluster.address, timeout=10, set_as_default=False) as client:
            # Deterministic enough not to flake: kill only once the scheduler reports a frame
            # chunk processing on that worker, so the kill always lands inside the frame pass.
            deadline = time.monotonic() + 300
            while True:
                busy = client.processing(workers=[victim]).get(victim, ())
                if any(str(key).startswith("auditor-analyse_chunk-") for key in busy):
                    break
                assert audit.poll() is None, "the audit ended before the worker got a frame task"
                assert time.monotonic() < deadline, "no frame task reached the worker"
                time.sleep(0.02)
            os.kill(own_cluster.workers[victim].pid, signal.SIGKILL)
            running_at_kill = audit.poll() is None
            own_cluster.workers[victim].wait(timeout=30)
            _, stderr = audit.communicate(timeout=600)
            for _ in range(100):  # the scheduler notices the closed connection at once
                if victim not in client.nthreads():
                    break
                time.sleep(0.1)
            assert victim not in client.nthreads() and len(client.nthreads()) == 1
    finally:
        if audit.poll() is None:
            audit.kill()
            audit.wait()
    assert running_at_kill
    assert audit.returncode == 3, stderr + own_cluster.log_text()  # 3: the bundle's input errors
    text = out.read_text()
    assert json.loads(text)["run"]["dask_workers"] == 2  # both were there when it started
    assert strip_run(text) == strip_run(local_report)
