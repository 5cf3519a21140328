"""Frames are samples: a missing one keeps its finding (notice); an unusable one is exit 3."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES
from tests.hardening.helpers import AMAZON, JSONL_PRINCIPALS, jsonl_line, write
from tests.hardening.pngs import write_black_png

AuditJson = Callable[..., tuple[int, dict[str, Any]]]
FACE = FIXTURES / "faces" / "obama_small.jpg"


def _bundle(tmp_path: Path, *frames: str) -> Path:
    logs = "".join(jsonl_line(frame=f, event_id=f"e{i}") for i, f in enumerate(frames))
    return write(tmp_path / "b", {"logs/p.jsonl": logs, "principals.toml": JSONL_PRINCIPALS})


def test_missing_frame_keeps_its_finding_and_is_a_notice(
    tmp_path: Path, audit_json: AuditJson
) -> None:
    bundle = _bundle(tmp_path, "frames/gone.jpg", "frames/here.jpg")
    (bundle / "frames").mkdir(exist_ok=True)
    shutil.copy(FACE, bundle / "frames" / "here.jpg")
    code, report = audit_json(bundle, "--policy", AMAZON)
    assert code == 1  # the exit code follows the findings
    assert report["run"]["status"] == "complete" and report["errors"] == []
    assert report["summary"]["frames_missing"] == 1
    assert report["summary"]["frames_analysed"] == 1
    frames = {fr["path"]: fr for f in report["findings"] for fr in f["frames"]}
    assert frames["frames/gone.jpg"]["status"] == "missing"
    assert frames["frames/gone.jpg"]["faces"] is None
    assert frames["frames/here.jpg"]["status"] == "analysed"
    assert frames["frames/here.jpg"]["faces"] == 1
    assert len(report["findings"]) == 2
    (notice,) = [n for n in report["notices"] if n["file"] == "frames/gone.jpg"]
    assert "not in the bundle" in notice["message"]


def test_missing_frame_with_fail_on_never_is_exit_0(tmp_path: Path, audit_json: AuditJson) -> None:
    code, report = audit_json(
        _bundle(tmp_path, "frames/gone.jpg"), "--policy", AMAZON, "--fail-on", "never"
    )
    assert code == 0 and report["summary"]["frames_missing"] == 1


def test_require_frames_makes_a_missing_frame_exit_3(tmp_path: Path, audit_json: AuditJson) -> None:
    code, report = audit_json(
        _bundle(tmp_path, "frames/gone.jpg"), "--policy", AMAZON, "--require-frames"
    )
    assert code == 3
    (error,) = report["errors"]
    assert error["file"] == "frames/gone.jpg" and "--require-frames" in error["message"]
    assert report["findings"][0]["frames"][0]["status"] == "missing"


def test_missing_frame_is_shown_in_the_table(tmp_path: Path, cli: Callable[..., Any]) -> None:
    result = cli("audit", _bundle(tmp_path, "frames/gone.jpg"), "--policy", AMAZON, "--no-store")
    assert result.exit_code == 1
    assert "frames/gone.jpg" in result.stdout and "not in the bundle" in result.stdout


def test_frame_symlink_out_of_the_bundle_is_refused_unread(
    tmp_path: Path, audit_json: AuditJson
) -> None:
    bundle = _bundle(tmp_path, "frames/f.png")
    (bundle / "frames").mkdir()
    (bundle / "frames" / "f.png").symlink_to("/dev/zero")
    code, report = audit_json(bundle, "--policy", AMAZON)
    assert code == 3
    (error,) = report["errors"]
    assert (error["file"], error["line"]) == ("logs/p.jsonl", 1)
    assert "leads outside the bundle" in error["message"]


@pytest.mark.parametrize(
    "kind", ["fifo", "folder", "too many bytes", "not an image", "too many pixels"]
)
def test_present_but_unusable_frame_is_exit_3(
    tmp_path: Path, audit_json: AuditJson, kind: str
) -> None:
    bundle = _bundle(tmp_path, "frames/f.png")
    target = bundle / "frames" / "f.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    elif kind == "too many bytes":
        with open(target, "wb") as fh:
            fh.truncate((64 << 20) + 1)  # sparse
    elif kind == "not an image":
        target.write_text("hello")
    else:
        write_black_png(target, 6300, 6300)
    code, report = audit_json(bundle, "--policy", AMAZON)
    assert code == 3
    (error,) = report["errors"]
    assert error["file"] == "frames/f.png"
    expected = {
        "fifo": "FIFO",
        "folder": "is a directory",
        "too many bytes": "over the limit of 67,108,864 bytes",
        "not an image": "not an image",
        "too many pixels": "6300x6300 = 39,690,000 pixels, over the limit",
    }[kind]
    assert expected in error["message"], error
    assert report["findings"][0]["frames"][0]["status"] == "unreadable"
