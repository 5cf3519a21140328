"""A folder of the bundle that cannot be listed is an input error naming it (exit 3), never a
silent gap: object stores let a policy deny listing one prefix and allow the rest (S3's
`s3:prefix` condition, which the loopback S3 server does not evaluate), and a folder on disk
may be unreadable to the auditor's user.

The store case runs on fsspec's own in-memory filesystem with one change, made where a real
store answers: its listing of `logs/private` raises the PermissionError s3fs raises for a
403. The disk case asks the operating system through `os.access`, answered here for one folder
as it answers for a user without read permission (the tests run as root, which may read
everything)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import fsspec
import pytest
from fsspec.implementations.memory import MemoryFileSystem
from typer.testing import CliRunner

from auditor.cli import app
from auditor.config import bundlefs
from tests.conftest import DEMO


class DeniedListing(MemoryFileSystem):
    """fsspec's memory filesystem, except that listing `*/logs/private` is denied."""

    protocol = ("deniedmem",)

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        return str(super()._strip_protocol(path.removeprefix("deniedmem://")))

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> Any:
        if self._strip_protocol(path).rstrip("/").endswith("/logs/private"):
            raise PermissionError(13, "Access Denied")
        return super().ls(path, detail=detail, **kwargs)


def _audit(bundle: str, out: Path) -> tuple[int, dict[str, Any], str]:
    res = CliRunner().invoke(
        app, ["audit", bundle, "--no-frames", "--no-store", "-f", "json", "-o", str(out)]
    )
    return res.exit_code, json.loads(out.read_text()), res.output


def test_a_store_prefix_denied_for_listing_is_named(tmp_path: Path) -> None:
    fsspec.register_implementation("deniedmem", DeniedListing, clobber=True)
    fs = DeniedListing()
    for path in sorted(DEMO.rglob("*")):
        if path.is_file():
            fs.pipe(f"/bundle/{path.relative_to(DEMO).as_posix()}", path.read_bytes())
    fs.pipe("/bundle/logs/private/hidden.jsonl", b'{"op": "search"}\n')
    try:
        code, report, output = _audit("deniedmem://bundle", tmp_path / "r.json")
    finally:
        fs.rm("/bundle", recursive=True)
    assert code == 3, output
    assert [(e["file"], e["message"]) for e in report["errors"]] == [
        ("logs/private/", "refused: cannot list this folder: Access Denied")
    ]
    assert report["findings"] and "Traceback" not in output


def test_an_unreadable_folder_on_disk_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    bundle = tmp_path / "demo"
    shutil.copytree(DEMO, bundle)
    (bundle / "logs" / "private").mkdir()
    (bundle / "logs" / "private" / "hidden.jsonl").write_text('{"op": "search"}\n')
    real = os.access
    denied = (bundle / "logs" / "private").resolve()
    monkeypatch.setattr(
        bundlefs.os, "access", lambda p, mode: Path(p).resolve() != denied and real(p, mode)
    )
    code, report, output = _audit(str(bundle), tmp_path / "r.json")
    assert code == 3, output
    assert [(e["file"], e["message"]) for e in report["errors"]] == [
        ("logs/private/", "refused: cannot list this folder: permission denied")
    ]
