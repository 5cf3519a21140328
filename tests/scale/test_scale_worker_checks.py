"""Workers are checked for what they read (issue 21, item 3): a worker that joins mid-audit
gets the same checks as the first ones, and a worker that sees other bytes at a path than the
client (a stale mount) makes that file an input error naming the file and the worker (exit 3),
never another report with exit 0."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from scale_helpers import AUDITOR, FIXTURES, ROOT, Cluster, audit_cli, start_cluster
from test_scale_faults import audit_popen, wait_for_task


def _can_unshare() -> bool:
    try:
        probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


needs_unshare = pytest.mark.skipif(
    not _can_unshare(), reason="needs a private mount namespace (unshare -m)"
)


def _other_auditor(dest: Path) -> Path:
    """A full copy of this auditor that says it is another version (for PYTHONPATH)."""
    package = dest / "auditor"
    shutil.copytree(ROOT / "auditor", package, ignore=shutil.ignore_patterns("__pycache__"))
    init = package / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "', '__version__ = "9.9.9-other'))
    return dest


def _join_mid_audit(
    tmp_path: Path, bundle: Path, start: Callable[[Cluster], str]
) -> tuple[int, str, str]:
    """An audit on a one-worker cluster; once its first task runs, `start(cluster)` adds a
    worker and returns its address. (exit code, stderr, the new worker's address)."""
    cluster = start_cluster(tmp_path / "cluster", workers=1)
    out = tmp_path / "report.json"
    try:
        audit = audit_popen(bundle, out, "--scheduler", cluster.address)
        try:
            wait_for_task(cluster, audit, "auditor-")
            address = start(cluster)
            _, stderr = audit.communicate(timeout=600)
        finally:
            if audit.poll() is None:
                audit.kill()
                audit.wait()
    finally:
        cluster.stop()
    assert not out.exists(), stderr
    return audit.returncode, stderr, address


def test_worker_of_another_version_joins_mid_audit(scale_bundle: Path, tmp_path: Path) -> None:
    other = _other_auditor(tmp_path / "other")
    code, stderr, address = _join_mid_audit(
        tmp_path, scale_bundle, lambda c: c.start_worker(env={"PYTHONPATH": str(other)})
    )
    assert code == 2, stderr
    assert f"1 Dask worker(s) differ from this client, e.g. {address}: auditor 9.9.9-other" in (
        stderr
    )
    assert "Traceback" not in stderr


@needs_unshare
def test_blind_worker_joins_mid_audit(scale_bundle: Path, tmp_path: Path) -> None:
    """Today's failure: a worker without the shared filesystem joins, and every file it
    reads would be 'not found', blamed on the bundle. Now the audit stops, naming it."""
    hidden = tmp_path / "share"
    bundle = hidden / "bundle"
    shutil.copytree(scale_bundle, bundle)

    def blind(cluster: Cluster) -> str:
        mount = f'mount -t tmpfs none \'{hidden}\' && exec "$0" "$@"'
        return cluster.start_worker(None, prefix=("unshare", "-m", "sh", "-c", mount))

    code, stderr, address = _join_mid_audit(tmp_path, bundle, blind)
    assert code == 2, stderr
    assert f"cannot read the bundle folder {bundle} (first: {address})" in stderr
    assert "not found" not in stderr and "Traceback" not in stderr


@needs_unshare
def test_stale_mount_is_an_input_error(tmp_path: Path) -> None:
    """The only worker sees a log file and a frame through a stale mount: other bytes at the
    same paths. Each is an input error naming file and worker; the local report of the same
    bundle is complete (exit 0)."""
    bundle = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo", bundle)
    log = "logs/pipeline/matcher-2023-05.jsonl"
    frame = "frames/metro-pd/cam-01/f0002.jpg"
    stale = tmp_path / "stale"
    stale.mkdir()
    lines = (bundle / log).read_text().splitlines(keepends=True)
    (stale / "log").write_text("".join(lines[: len(lines) // 2]))  # an older, shorter copy
    (stale / "frame").write_bytes((bundle / "frames/metro-pd/cam-01/f0003.jpg").read_bytes())

    local = audit_cli(bundle, tmp_path / "local.json", "--workers", "1")
    assert local.returncode == 0, local.stderr

    cluster = Cluster(tmp_path / "cluster")
    cluster.folder.mkdir()
    try:
        cluster.start_scheduler()
        mounts = (
            f"mount --bind '{stale}/log' '{bundle}/{log}' && "
            f"mount --bind '{stale}/frame' '{bundle}/{frame}' && exec \"$0\" \"$@\""
        )
        address = cluster.start_worker(None, prefix=("unshare", "-m", "sh", "-c", mounts))
        cluster.wait(1)
        for store in ("--no-store", f"--db=sqlite:///{tmp_path}/audit.db"):
            # without a store (and its face cache: the local run above filled it) the client
            # stamps frames by size and end blocks; with one it has their SHA-256 (the cache
            # key) and the worker must read the same
            out = tmp_path / "dask.json"
            argv = [str(AUDITOR), "audit", str(bundle), "-f", "json", "-o", str(out)]
            argv += ["--fail-on", "never", store, "--scheduler", cluster.address]
            argv += ["--no-cache"] if store == "--no-store" else []
            done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
            assert done.returncode == 3, done.stderr + cluster.log_text()
            errors = {e["file"]: e["message"] for e in json.loads(out.read_text())["errors"]}
            assert set(errors) == {log, frame}, errors
            for message in errors.values():
                assert f"the Dask worker {address} reads other bytes at this path" in message
            assert "bytes there" in errors[log]
            if store == "--no-store":
                assert "bytes there" in errors[frame]
            else:
                assert "other SHA-256" in errors[frame]
    finally:
        cluster.stop()
    # only the worker's view was stale
    assert (bundle / log).read_text() == "".join(lines)
