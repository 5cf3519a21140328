"""Files derived from the model files (parsed weights, ONNX graphs), kept in the cache folder.

Why this module exists: a derived file decides what the frame pass computes, yet it lives in a
user-writable cache folder. So it must never be trusted just because it is there:

* every derived file is written together with a record of its SHA-256 (`<file>.sha256`), both
  atomically (write to a temporary name, then rename), so concurrent workers never read half;
* on load the bytes are hashed and compared with that record; a missing record, a mismatch, a
  truncated or unreadable file is a cache miss, and the caller rebuilds the file from the model;
* the caller reports the SHA-256 of the bytes it actually ran (`face_engine` in the report), so
  even a file planted together with a matching record shows up as a different engine.

Nothing here raises for a bad cache: a folder that cannot be written only costs rebuild time.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def _record(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def read_checked(path: Path) -> bytes | None:
    """The bytes of `path` when they hash to the recorded SHA-256, else None (a cache miss)."""
    try:
        data = path.read_bytes()
        recorded = _record(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if sha256_bytes(data) != recorded:
        return None
    return data


def checked_hash(path: Path) -> str | None:
    """The SHA-256 of `path` when it matches the recorded one, else None (a cache miss).

    Like `read_checked`, but hashed in 1 MiB blocks, for a caller that hands the file itself to a
    library (the 22 MB graph to ONNX Runtime) and need not hold its bytes.
    """
    digest = hashlib.sha256()
    try:
        recorded = _record(path).read_text(encoding="ascii").strip()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except (OSError, UnicodeDecodeError):
        return None
    return recorded if digest.hexdigest() == recorded else None


def write_checked(path: Path, data: bytes) -> str:
    """Keep `data` at `path` with its SHA-256 record; returns the hash (also when not kept)."""
    digest = sha256_bytes(data)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for target, content in ((path, data), (_record(path), digest.encode("ascii"))):
            partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")
            partial.write_bytes(content)
            os.replace(partial, target)  # atomic: a reader sees the old or the new file
    except OSError:
        pass
    return digest
