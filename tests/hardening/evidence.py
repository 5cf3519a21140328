"""Evidence archives for the hardening tests: a real small run exported through the CLI, and
zip files rebuilt from it with members changed, added, duplicated or corrupted."""

from __future__ import annotations

import hashlib
import json
import struct
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.hardening.helpers import AMAZON, JSONL_PRINCIPALS, jsonl_line, write

Cli = Callable[..., Any]
Members = list[tuple[str, bytes]]


def exported(cli: Cli, tmp: Path, logs: dict[str, str | bytes] | None = None) -> dict[str, Any]:
    """Audit a small police bundle into a store and export it; paths and the report."""
    bundle = write(
        tmp / "bundle",
        {**(logs or {"logs/p.jsonl": jsonl_line()}), "principals.toml": JSONL_PRINCIPALS},
    )
    db = f"sqlite:///{tmp / 'audit.db'}"
    out = tmp / "report.json"
    res = cli(
        "audit", bundle, "--policy", AMAZON, "--no-frames", "-f", "json", "-o", out, "--db", db
    )
    assert res.exit_code in (0, 1), res.output
    report = json.loads(out.read_text())
    archive = tmp / "evidence.zip"
    res = cli("export", report["run"]["id"], "--db", db, "--output", archive)
    assert res.exit_code == 0, res.output
    return {"bundle": bundle, "db": db, "report_path": out, "report": report, "archive": archive}


def members(archive: Path) -> Members:
    with zipfile.ZipFile(archive) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def manifest(entries: Members) -> bytes:
    return "".join(
        f"{hashlib.sha256(d).hexdigest()}  {n}\n"
        for n, d in sorted(entries)
        if n != "MANIFEST.sha256"
    ).encode()


def rezip(
    dest: Path,
    entries: Members,
    *,
    redo_manifest: bool = True,
    method: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """Write `entries` (duplicates allowed) as a zip, with a fresh manifest unless told not to."""
    if redo_manifest:
        entries = [(n, d) for n, d in entries if n != "MANIFEST.sha256"]
        entries.append(("MANIFEST.sha256", manifest(entries)))
    with warnings.catch_warnings(), zipfile.ZipFile(dest, "w", method) as zf:
        warnings.simplefilter("ignore")  # "Duplicate name": wanted here
        for name, data in entries:
            zf.writestr(name, data)
    return dest


def replace(entries: Members, name: str, data: bytes) -> Members:
    return [(n, data if n == name else d) for n, d in entries]


def patch_member(path: Path, name: str, *, method: int | None = None, flags: int | None = None):
    """Rewrite the compression method and/or flag bits of member `name` in both its local and
    central headers (as a Deflate64 or encrypting zip tool would have written them)."""
    data = bytearray(path.read_bytes())
    raw = name.encode()
    for sig, flag_at, method_at, name_at in ((b"PK\x03\x04", 6, 8, 30), (b"PK\x01\x02", 8, 10, 46)):
        start = 0
        while (pos := data.find(sig, start)) >= 0:
            start = pos + 4
            if data[pos + name_at : pos + name_at + len(raw)] != raw:
                continue
            if flags is not None:
                struct.pack_into("<H", data, pos + flag_at, flags)
            if method is not None:
                struct.pack_into("<H", data, pos + method_at, method)
    path.write_bytes(bytes(data))


def corrupt_member(path: Path, name: str) -> None:
    """Overwrite the start of member `name`'s compressed data (a deflate block of reserved type:
    zlib.error on reading)."""
    data = bytearray(path.read_bytes())
    raw = name.encode()
    pos = data.find(b"PK\x03\x04" + b"")
    while pos >= 0:
        name_len, extra_len = struct.unpack_from("<HH", data, pos + 26)
        if data[pos + 30 : pos + 30 + name_len] == raw:
            body = pos + 30 + name_len + extra_len
            data[body : body + 8] = b"\xff" * 8
            break
        pos = data.find(b"PK\x03\x04", pos + 4)
    path.write_bytes(bytes(data))
