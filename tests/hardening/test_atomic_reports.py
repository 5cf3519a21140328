"""Report files are written whole or not at all (a temporary file, then a rename).

A full disk is a real process under a real file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored so a
write past it fails with EFBIG as on a full disk): the old report stays as it was and no
temporary file is left.
"""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEMO


def _limited(limit: int) -> Callable[[], None]:
    def setup() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return setup


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_a_full_disk_never_leaves_a_truncated_report(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    out.write_text("the previous report\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "auditor",
            "audit",
            str(DEMO),
            "--no-frames",
            "--no-store",
            "-f",
            fmt,
            "-o",
            str(out),
        ],  # fmt: skip
        capture_output=True,
        text=True,
        preexec_fn=_limited(2048),
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert f"auditor: error: {out}: cannot write report: File too large" in done.stderr
    assert out.read_text() == "the previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


def test_a_report_through_a_symlink_replaces_the_file_it_names(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    real = tmp_path / "reports" / "r.json"
    real.parent.mkdir()
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    res = cli("audit", DEMO, "--no-frames", "--no-store", "-f", "json", "-o", link)
    assert res.exit_code == 1, res.output
    assert link.is_symlink()
    assert json.loads(real.read_text())["schema"] == "auditor.report/v1"
    assert real.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in real.parent.iterdir()) == ["r.json"]


def test_a_report_to_a_device_is_written_into_it(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "auditor",
            "audit",
            str(DEMO),
            "--no-frames",
            "--no-store",
            "-f",
            "json",
            "-o",
            "/dev/stdout",
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["schema"] == "auditor.report/v1"
    assert not list(Path("/dev").glob(".stdout.*")), "no temporary file beside a device"
