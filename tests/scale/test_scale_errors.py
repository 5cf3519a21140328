"""--scheduler errors are clear and exit 2 before anything is reported: Dask missing, scheduler
unreachable, no workers, workers that cannot import this auditor, workers that cannot see the
bundle."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scale_helpers import DASK, FIXTURES, Cluster, audit_cli, free_port

DEMO = FIXTURES / "demo"


def _no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr


def test_unreachable_scheduler_times_out(tmp_path: Path) -> None:
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    out = tmp_path / "report.json"
    started = time.monotonic()
    done = audit_cli(DEMO, out, "--scheduler", address, "--scheduler-timeout", "2")
    assert done.returncode == 2
    assert f"cannot reach the Dask scheduler at {address} within 2 s" in done.stderr
    _no_traceback(done.stderr)
    assert not out.exists()
    assert time.monotonic() - started < 60


def test_bad_scheduler_timeout_is_a_usage_error(tmp_path: Path) -> None:
    done = audit_cli(DEMO, tmp_path / "r.json", "--scheduler", "local", "--scheduler-timeout", "0")
    assert done.returncode == 2 and "--scheduler-timeout must be positive" in done.stderr


def _without_dask(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command line in an interpreter where `import distributed` fails, as it does
    when the optional extra is not installed (a None entry in sys.modules blocks the import)."""
    code = (
        "import sys; sys.modules['distributed'] = None; sys.argv[0] = 'auditor'; "
        "from auditor.cli import main; main()"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300
    )


def test_without_dask_installed(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    done = _without_dask(
        "audit", str(DEMO), "--scheduler", "local", "--no-store", "-f", "json", "-o", str(out)
    )
    assert done.returncode == 2, done.stderr
    assert "Dask is not installed" in done.stderr and "auditor[dask]" in done.stderr
    _no_traceback(done.stderr)
    assert not out.exists()
    # Dask is optional: without --scheduler the same interpreter audits as before.
    done = _without_dask(
        "audit", str(DEMO), "--no-store", "--no-frames", "-f", "json", "-o", str(out)
    )
    assert done.returncode == 1, done.stderr
    assert out.exists()


def test_no_workers_then_workers_without_this_auditor(tmp_path: Path) -> None:
    """A scheduler alone: 'has no workers'. Then a worker whose `auditor` is another version,
    then one that cannot import `auditor` at all (a PYTHONPATH entry shadows the installed
    package in both): neither may run the audit's tasks."""
    cluster = Cluster(tmp_path / "cluster")
    cluster.folder.mkdir()
    out = tmp_path / "report.json"
    try:
        cluster.start_scheduler()
        deadline = time.monotonic() + 60
        while True:  # the scheduler takes a moment to listen
            done = audit_cli(DEMO, out, "--scheduler", cluster.address, "--scheduler-timeout", "2")
            if "has no workers" in done.stderr or time.monotonic() > deadline:
                break
        assert done.returncode == 2, done.stderr
        assert f"the Dask scheduler at {cluster.address} has no workers" in done.stderr
        _no_traceback(done.stderr)

        for name, init, message in (
            ("older", '__version__ = "0.0.0"\n', "auditor 0.0.0 (client: "),
            ("none", 'raise ImportError("no auditor here")\n', "cannot run auditor tasks"),
        ):
            package = tmp_path / name / "auditor"
            package.mkdir(parents=True)
            (package / "__init__.py").write_text(init)
            address = cluster.start_worker(env={"PYTHONPATH": str(package.parent)})
            cluster.wait(1)
            done = audit_cli(DEMO, out, "--scheduler", cluster.address)
            assert done.returncode == 2, done.stderr
            assert message in done.stderr
            if name == "older":
                assert f"differ from this client, e.g. {address}" in done.stderr
            _no_traceback(done.stderr)
            assert not out.exists()
            cluster.stop_worker(address)
        assert "same auditor installed" in done.stderr
    finally:
        cluster.stop()


def _can_unshare() -> bool:
    try:
        probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


@pytest.mark.skipif(not _can_unshare(), reason="needs a private mount namespace (unshare -m)")
def test_worker_that_cannot_see_the_bundle(tmp_path: Path) -> None:
    """A worker in its own mount namespace, where the folder holding the bundle is an empty
    tmpfs: the same situation as a worker on a machine without the shared filesystem."""
    hidden = tmp_path / "share"
    bundle = hidden / "demo"
    shutil.copytree(DEMO, bundle)
    cluster = Cluster(tmp_path / "cluster")
    cluster.folder.mkdir()
    try:
        cluster.start_scheduler()
        port = free_port()
        address = f"tcp://127.0.0.1:{port}"
        worker = (
            f"mount -t tmpfs none '{hidden}' && exec '{DASK}' worker {cluster.address} "
            f"--nthreads 1 --no-nanny --host 127.0.0.1 --worker-port {port} "
            f"--no-dashboard --death-timeout 60 --local-directory '{cluster.folder}/w'"
        )
        cluster.workers[address] = cluster.spawn(["unshare", "-m", "sh", "-c", worker], "blind")
        cluster.wait(1)
        out = tmp_path / "report.json"
        done = audit_cli(bundle, out, "--scheduler", cluster.address)
        assert done.returncode == 2, done.stderr + cluster.log_text()
        assert f"cannot read the bundle folder {bundle}" in done.stderr
        assert "shared by the client and every worker" in done.stderr
        assert address in done.stderr
        _no_traceback(done.stderr)
        assert not out.exists()
    finally:
        cluster.stop()
    assert os.path.isdir(bundle)  # only the worker's view was hidden
