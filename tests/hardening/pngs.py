"""A valid PNG of any size written in bounded memory (rows of zeros, compressed as they go)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_black_png(path: Path, width: int, height: int) -> Path:
    """An RGB PNG of `width` x `height` black pixels; only a few MB on disk."""
    comp = zlib.compressobj(9)
    row = b"\x00" * (1 + 3 * width)  # filter byte + pixels
    parts = []
    for _ in range(height):
        out = comp.compress(row)
        if out:
            parts.append(out)
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr))
        fh.write(_chunk(b"IDAT", b"".join(parts)))
        fh.write(_chunk(b"IEND", b""))
    return path
