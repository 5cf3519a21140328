"""Bundle-relative paths and bundle locations: the rules every reader of bundle files applies
before a byte is read (one place, so a folder on disk and object storage refuse the same
references): a reference never climbs out of the bundle, is never absolute, and a location is
either a path on this machine or a `scheme://` URL whose credentials are never shown."""

from __future__ import annotations

import os
import re
from pathlib import PurePosixPath
from urllib.parse import urlsplit

__all__ = ["PathEscape", "is_url", "normalise", "shown_root"]

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class PathEscape(ValueError):
    """A reference that would leave the bundle, or is not a usable relative path or file."""


def is_url(location: str | os.PathLike[str]) -> bool:
    """True for `scheme://...` (an fsspec URL), False for a path on this machine."""
    return isinstance(location, str) and bool(_URL.match(location))


def shown_root(location: str) -> str:
    """The root as messages and the store may show it: any `user:password@` taken out."""
    if not is_url(location):
        return location
    parts = urlsplit(location)
    if "@" not in parts.netloc:
        return location
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=host).geturl()


def normalise(ref: str) -> str:
    """`ref` as a bundle-relative POSIX path without `.`, `..` or empty parts, or PathEscape."""
    if not ref or "\x00" in ref:
        raise PathEscape("empty path or NUL byte")
    text = ref.replace("\\", "/")
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text) or "://" in text:
        raise PathEscape(f"absolute path {ref!r} is outside the bundle")
    parts: list[str] = []
    for part in PurePosixPath(text).parts:
        if part == "..":
            if not parts:
                raise PathEscape(f"path {ref!r} climbs out of the bundle")
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    if not parts:
        raise PathEscape(f"path {ref!r} names the bundle itself")
    return "/".join(parts)
