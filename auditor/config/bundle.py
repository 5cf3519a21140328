"""The audit bundle: its folders, its audit.toml, and the rule that every path stays inside it.

Logs name frames by S3 key or by relative path; both are untrusted input. `safe_relpath` is the
one gate every such reference goes through: absolute paths, `..` that climbs out, and symlinks
that lead out are refused before anything is opened.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from auditor.config import settings as settings_mod
from auditor.config import tomlfile
from auditor.config.settings import JsonlMapping, SourceSettings, TextPattern
from auditor.core.errors import BundleError, ConfigError, InputIssue, Location

__all__ = [
    "AUDIT_TOML",
    "MAX_CONFIG_BYTES",
    "MAX_IMAGE_BYTES",
    "PRINCIPALS_TOML",
    "Bundle",
    "JsonlMapping",
    "PathEscape",
    "SourceSettings",
    "TextPattern",
    "display_name",
    "nothing_to_audit",
    "open_bundle",
    "regular_file",
    "safe_relpath",
]

AUDIT_TOML = "audit.toml"
PRINCIPALS_TOML = "principals.toml"
#: audit.toml and principals.toml larger than this are refused unread (they are a few KB).
MAX_CONFIG_BYTES = 1 << 20
#: Frames and probe photos larger than this are refused unread (a 4K PNG is about 25 MB).
MAX_IMAGE_BYTES = 64 << 20


class PathEscape(ValueError):
    """A reference that would leave the bundle, or is not a usable relative path or file."""


def display_name(rel: str) -> str:
    """A file name fit for reports: bytes that are not UTF-8 shown as `\\xNN` escapes."""
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def regular_file(root: Path, rel: str, max_bytes: int | None = None) -> Path:
    """The path of bundle file `rel`, checked BEFORE it is opened: inside the bundle (symlinks
    too), a regular file (a FIFO would block the reader, /dev/zero never ends) and at most
    `max_bytes` long. Raises FileNotFoundError when nothing is there, PathEscape otherwise."""
    safe = safe_relpath(root, rel)
    path = root / safe
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        if path.is_symlink():
            raise PathEscape(f"{rel!r} is a broken symbolic link") from None
        raise FileNotFoundError(rel) from None
    except OSError as exc:
        raise PathEscape(f"cannot stat {rel!r}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise PathEscape(f"{rel!r} is {_kind(info.st_mode)}, not a regular file")
    if max_bytes is not None and info.st_size > max_bytes:
        raise PathEscape(
            f"{rel!r} is {info.st_size:,} bytes, over the limit of {max_bytes:,} bytes"
        )
    return path


def safe_relpath(root: Path, ref: str) -> str:
    """Normalise `ref` to a bundle-relative POSIX path, or raise PathEscape.

    `root` must already be resolved. A path that exists is also resolved, so a symlink inside the
    bundle that points outside it is refused too.
    """
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
    norm = "/".join(parts)
    full = root.joinpath(*parts)
    if full.is_symlink() or full.exists():
        real = full.resolve()
        if not real.is_relative_to(root):
            raise PathEscape(f"path {ref!r} leads outside the bundle (symlink)")
    return norm


@dataclass
class Bundle:
    """An audit bundle on disk, with its audit.toml read and checked."""

    root: Path
    name: str
    settings: SourceSettings
    config_file: str | None = None

    def entries(
        self, folder: str, max_bytes: int | None = None
    ) -> tuple[list[str], list[InputIssue]]:
        """(usable regular files, issues) under `folder`, both sorted (deterministic).

        Nothing is skipped in silence: a name that is not UTF-8, a symlink that leads out or
        is broken, a FIFO, socket or device, or a file over `max_bytes` is an issue (by its
        escaped name), never a read.
        """
        base = self.root / folder
        if not base.is_dir():
            return [], []
        good: list[str] = []
        issues: list[InputIssue] = []
        for path in sorted(base.rglob("*")):
            if path.is_dir() and not path.is_symlink():
                continue
            rel = path.relative_to(self.root).as_posix()
            shown = display_name(rel)
            if shown != rel:
                issues.append(InputIssue(shown, "refused: the file name is not valid UTF-8"))
                continue
            try:
                regular_file(self.root, rel, max_bytes)
            except (PathEscape, OSError) as exc:
                issues.append(InputIssue(rel, f"refused: {exc}"))
                continue
            good.append(rel)
        return good, issues

    def config_path(self, name: str) -> Path | None:
        """audit.toml or principals.toml when present; ConfigError when it cannot be used."""
        path = self.root / name
        if not os.path.lexists(path):
            return None
        try:
            return regular_file(self.root, name, MAX_CONFIG_BYTES)
        except (PathEscape, OSError) as exc:
            raise ConfigError(f"cannot be used: {exc}", Location(name)) from None


def open_bundle(path: Path, known_sources: Collection[str]) -> Bundle:
    """Check that `path` is a bundle folder and read its audit.toml (if any).

    `known_sources` are the source names audit.toml may name (`auditor.sources.open_bundle`
    passes the registry's)."""
    if not path.exists():
        raise BundleError("bundle not found", Location(str(path)))
    if not path.is_dir():
        raise BundleError("bundle must be a folder", Location(str(path)))
    root = path.resolve()
    bundle = Bundle(root=root, name=display_name(root.name), settings=SourceSettings())
    config = bundle.config_path(AUDIT_TOML)
    if config is None:
        return bundle
    name, settings = settings_mod.parse(tomlfile.load(config, AUDIT_TOML), known_sources)
    return Bundle(root=root, name=name or bundle.name, settings=settings, config_file=AUDIT_TOML)


#: What sits beside logs/ in a bundle folder: found beside a folder, it says that folder is a
#: bundle's logs/ (or frames/, ...) rather than the bundle.
BUNDLE_MARKS = (AUDIT_TOML, PRINCIPALS_TOML, "logs", "frames", "probes")


def nothing_to_audit(path: Path, logs_exists: bool) -> BundleError:
    """The error for a bundle without a log file to read (exit 2, like any bundle that cannot be
    used): an absent or empty logs/. When `path` itself looks like a logs/ folder (it is named
    `logs`, or its parent holds a bundle's files) the message names the parent to audit instead,
    as the user most likely typed `auditor audit BUNDLE/logs`."""
    if logs_exists:
        return BundleError("the logs/ folder is empty: nothing to audit", Location(str(path)))
    message = "the bundle has no logs/ folder: nothing to audit"
    resolved = path.resolve()
    parent = resolved.parent
    if resolved.name == "logs" or any((parent / mark).exists() for mark in BUNDLE_MARKS):
        shown = path.parent if path.name not in ("", ".", "..") else parent
        message += (
            f"; this looks like a bundle's logs/ folder: did you mean `auditor audit "
            f"{display_name(str(shown))}`?"
        )
    else:
        message += " (a bundle keeps its log files under logs/: docs/bundle.md)"
    return BundleError(message, Location(display_name(str(path))))
