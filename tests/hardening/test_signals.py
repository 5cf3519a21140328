"""Signals end an audit cleanly: real `auditor` processes, real signals (os.kill).

SIGTERM and SIGINT run the normal cleanup (the spill folder is removed, the exit code is 143 or
130, no worker is left); after SIGKILL the workers die with their parent (PR_SET_PDEATHSIG) and
the next audit removes the folder the killed one left.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import DEMO

FRAMES = 40  # about 12 s of frame pass on two workers: time enough to be interrupted


def _slow_bundle(root: Path) -> Path:
    """A bundle whose audit spends seconds in the frame pass's worker pool (--all-frames)."""
    (root / "logs").mkdir(parents=True)
    (root / "frames").mkdir()
    (root / "logs/p.jsonl").write_text(
        json.dumps(
            {
                "time": "2023-01-01T00:00:00Z",
                "principal": "x",
                "service": "rekognition",
                "operation": "ListCollections",
            }
        )
        + "\n"
    )
    photo = (DEMO / "frames/metro-pd/cam-01/f0001.jpg").read_bytes()
    for i in range(FRAMES):  # distinct bytes, so no frame is analysed once for several
        (root / f"frames/f{i:03d}.jpg").write_bytes(photo + i.to_bytes(4, "big"))
    return root


def _marked(mark: str) -> list[int]:
    """Pids of live processes whose environment holds `mark` (the audit and its workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if mark.encode() in env and state not in ("Z", "X"):
            found.append(int(entry.name))
    return found


class Audit:
    """One real `auditor audit` process with its own TMPDIR and a marker in its environment."""

    def __init__(self, tmp: Path, bundle: Path, *extra: str) -> None:
        self.mark = f"AUDITOR_TEST_MARK={uuid.uuid4().hex}"
        self.tmpdir = tmp / "tmpdir"
        self.tmpdir.mkdir(exist_ok=True)
        env = {**os.environ, "TMPDIR": str(self.tmpdir), self.mark.split("=")[0]: self.mark}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "auditor",
                "audit",
                str(bundle),
                "--all-frames",
                "--no-cache",
                "--workers",
                "2",
                *extra,
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            cwd=tmp,
        )

    def workers(self) -> list[int]:
        return [p for p in _marked(self.mark) if p != self.proc.pid]

    def wait_for_workers(self, count: int = 2, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.workers()) >= count and self.scratch():
                time.sleep(1.0)  # well inside the frame pass
                return
            assert self.proc.poll() is None, self.proc.stderr.read() if self.proc.stderr else ""
            time.sleep(0.1)
        raise AssertionError("the audit never started its workers")

    def scratch(self) -> list[Path]:
        return sorted(self.tmpdir.glob("auditor-*"))

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        code = self.proc.wait(timeout=timeout)
        err = self.proc.stderr.read().decode() if self.proc.stderr else ""
        return code, err

    def no_process_left(self, timeout: float = 15) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _marked(self.mark):
                return True
            time.sleep(0.2)
        return False

    def kill_all(self) -> None:
        for pid in _marked(self.mark):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def slow_bundle(tmp_path: Path) -> Path:
    return _slow_bundle(tmp_path / "b")


@pytest.mark.parametrize(
    ("signum", "code", "said"),
    [
        (signal.SIGTERM, 143, "auditor: terminated by SIGTERM"),
        (signal.SIGINT, 130, ""),  # typer turns KeyboardInterrupt into a quiet exit 130
    ],
)
def test_a_signal_runs_the_normal_cleanup(
    tmp_path: Path, slow_bundle: Path, signum: int, code: int, said: str
) -> None:
    out = tmp_path / "report.json"
    audit = Audit(tmp_path, slow_bundle, "--no-store", "-f", "json", "-o", str(out))
    try:
        audit.wait_for_workers()
        assert audit.scratch(), "the spill folder exists while the audit runs"
        os.kill(audit.proc.pid, signum)
        start = time.monotonic()
        got, err = audit.finish()
        assert got == code, err
        assert said in err
        assert "Traceback" not in err
        assert time.monotonic() - start < 15  # the workers were stopped, not waited for
        assert audit.scratch() == []
        assert audit.no_process_left(), "a worker outlived the audit"
        assert not out.exists()
        assert list(tmp_path.glob(".report.json.*")) == []
    finally:
        audit.kill_all()


def test_after_sigkill_the_workers_die_and_the_next_audit_cleans_up(
    tmp_path: Path, slow_bundle: Path
) -> None:
    audit = Audit(tmp_path, slow_bundle, "--no-store")
    try:
        audit.wait_for_workers()
        workers = audit.workers()
        assert workers
        os.kill(audit.proc.pid, signal.SIGKILL)
        assert audit.finish()[0] == -signal.SIGKILL
        assert audit.no_process_left(), f"workers {workers} outlived a killed parent"
        left = audit.scratch()
        assert left, "a SIGKILL leaves the spill folder (nothing can run in the process)"
        # a live audit's folder is kept; the dead one's is removed when the next audit starts
        live = Audit(tmp_path, slow_bundle, "--no-store")
        try:
            live.wait_for_workers()
            mine = [p for p in live.scratch() if f"auditor-{live.proc.pid}." in p.name]
            assert mine and set(live.scratch()) == set(mine)
            os.kill(live.proc.pid, signal.SIGTERM)
            assert live.finish()[0] == 143
        finally:
            live.kill_all()
        assert audit.scratch() == []
    finally:
        audit.kill_all()
