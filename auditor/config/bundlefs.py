"""Where a bundle's bytes live: one small interface for a folder on disk and for object storage.

Every reader of bundle files (audit.toml, principals.toml, logs, frames, probes, evidence
export) opens them through a `BundleFS`, so the confinement rules hold in one place whatever
holds the bytes:

* `LocalFS`: a folder on this machine's disk, read with plain `os` calls exactly as before the
  interface existed (symlinks resolved and kept inside, FIFOs and devices refused before any
  read, files opened non-blocking) - local reports are byte-identical to what they were.
* `FsspecFS`: any fsspec URL (`s3://bucket/prefix`, `gs://`, `az://`, `memory://`...), for
  bundles in object storage. fsspec is an optional extra (`auditor[s3]`). A key is always the
  root plus a normalised relative path, so no reference reaches a key outside the prefix;
  links and S3 website redirects are refused like symlinks that lead out. Folders are listed
  one level at a time and the listing cache is dropped after each level, so a CloudTrail
  archive (`AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/`) is never held whole.

A `BundleFS` is rebuilt on each worker from its `root` string (`open_fs`), never pickled:
credentials come from each worker's own environment and config chain (for S3 the AWS chain:
environment, `~/.aws`, instance roles), so they never travel, print or land in a report.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from auditor.config.relpath import PathEscape, is_url, normalise, shown_root
from auditor.core.timefmt import when_or_none

__all__ = [
    "BundleFS",
    "FsspecFS",
    "LocalFS",
    "PathEscape",
    "UnlistedFolder",
    "is_url",
    "normalise",
    "open_fs",
    "sha256_of",
    "shown_root",
]

#: Bytes fetched per request when a remote file is streamed: the memory a read holds.
REMOTE_BLOCK = 8 << 20


class UnlistedFolder(str):
    """A folder `walk` could not list (access denied by the store or the file system, an I/O
    error), handed out in place of its files so that the listing reports it as an input error
    naming the folder: files behind it are never skipped in silence."""

    why: str

    def __new__(cls, rel: str, why: str) -> UnlistedFolder:
        made = super().__new__(cls, rel)
        made.why = why
        return made


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


def _over(rel: str, size: int, max_bytes: int | None) -> None:
    if max_bytes is not None and size > max_bytes:
        raise PathEscape(f"{rel!r} is {size:,} bytes, over the limit of {max_bytes:,} bytes")


class BundleFS(Protocol):
    """The bundle root as a small filesystem. Paths are bundle-relative POSIX strings."""

    #: What `open_fs` reopens it from: the resolved folder, or the URL (no credentials).
    root: str
    #: The folder on this machine's disk, or None for object storage.
    local: Path | None

    def safe(self, ref: str) -> str:
        """`ref` normalised and checked to stay inside the bundle, or PathEscape."""

    def is_dir(self, rel: str) -> bool:
        """Whether folder `rel` ("" for the root) exists."""

    def lexists(self, rel: str) -> bool:
        """Whether anything (even a broken link) is at `rel`."""

    def check(self, rel: str, max_bytes: int | None = None) -> int:
        """The size of regular file `rel`, checked BEFORE it is opened: inside the bundle, not
        a directory, link, FIFO or device, at most `max_bytes`. FileNotFoundError when nothing
        is there, PathEscape otherwise."""

    def open(self, rel: str) -> BinaryIO:
        """A binary reader of regular file `rel` (streamed: never the whole file in memory)."""

    def walk(self, folder: str) -> Iterator[str]:
        """Every entry under `folder` that is not a plain folder, in path order (folder by
        folder, names sorted), as bundle-relative paths; nothing when `folder` is absent."""

    def modified(self, rel: str) -> datetime | None:
        """When file `rel` was last written (UTC), None when the store does not say: dates
        RFC 3164 syslog lines, which carry no year (`sources.syslogyear`)."""


class LocalFS:
    """A bundle folder on this machine's disk (the behaviour of every release so far)."""

    def __init__(self, folder: Path) -> None:
        self.local: Path | None = folder.resolve()
        self._root = folder.resolve()
        self.root = str(self._root)

    def safe(self, ref: str) -> str:
        norm = normalise(ref)
        full = self._root.joinpath(*norm.split("/"))
        if full.is_symlink() or full.exists():
            real = full.resolve()
            if not real.is_relative_to(self._root):
                raise PathEscape(f"path {ref!r} leads outside the bundle (symlink)")
        return norm

    def path(self, rel: str) -> Path:
        """The checked local path of `rel` (regular file or not: see `check`)."""
        return self._root / self.safe(rel)

    def is_dir(self, rel: str) -> bool:
        return (self._root / rel).is_dir() if rel else self._root.is_dir()

    def lexists(self, rel: str) -> bool:
        return os.path.lexists(self._root / rel)

    def check(self, rel: str, max_bytes: int | None = None) -> int:
        path = self.path(rel)
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
        _over(rel, info.st_size, max_bytes)
        return info.st_size

    def open(self, rel: str) -> BinaryIO:
        # O_NONBLOCK: a FIFO put in place after the bundle was listed must not block the read
        import errno

        fd = os.open(self._root / rel, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        fh = os.fdopen(fd, "rb", buffering=0)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            fh.close()
            raise OSError(errno.EINVAL, "not a regular file")
        return fh

    def walk(self, folder: str) -> Iterator[str]:
        base = self._root / folder
        if not base.is_dir():
            return
        unlisted: list[Path] = []
        for path in sorted(base.rglob("*")):
            if any(path.is_relative_to(u) for u in unlisted):
                continue  # behind a folder already reported
            if path.is_dir() and not path.is_symlink():
                # rglob passes over a folder it may not read: say so instead
                if not os.access(path, os.R_OK | os.X_OK):
                    unlisted.append(path)
                    rel = path.relative_to(self._root).as_posix()
                    yield UnlistedFolder(rel, "cannot list this folder: permission denied")
                continue
            yield path.relative_to(self._root).as_posix()

    def modified(self, rel: str) -> datetime | None:
        """See `BundleFS.modified`."""
        try:
            return datetime.fromtimestamp(self.path(rel).stat().st_mtime, UTC)
        except (OSError, ValueError, PathEscape):
            return None


def _denied(exc: PermissionError) -> str:
    """What a store's refusal to open a key says in an input error.

    fsspec stores raise a bare PermissionError whose only text is the store's answer, and for
    S3's HeadObject (which `open` sends first) that answer has no body: a policy denying
    s3:GetObject arrives as plain "Forbidden". "cannot open: Forbidden" does not say that the
    credentials in use lack the right to read the key, so the message says so itself
    (tests/storage/test_storage_audit.py, the access-policy test)."""
    return f"access denied by the store ({exc.strerror or str(exc) or 'no reason given'})"


#: Schemes refused as bundle roots: HTTP has no listing (fsspec scrapes HTML links) and follows
#: redirects to any host; local paths are given as paths, not `file://` (one way in).
_REFUSED_SCHEMES = frozenset({"http", "https", "file", "local"})

#: Keys of an fsspec `info` that make an object a redirect rather than content.
_REDIRECT_KEYS = ("WebsiteRedirectLocation", "website_redirect_location", "destination")


class FsspecFS:
    """A bundle under an fsspec URL (object storage). The URL holds no credentials."""

    def __init__(self, url: str) -> None:
        try:
            import fsspec
        except ImportError:  # pragma: no cover - depends on the install
            raise PathEscape(
                f"{shown_root(url)}: a bundle URL needs fsspec: pip install 'auditor[s3]'"
            ) from None
        self.local: Path | None = None
        scheme = url.split("://", 1)[0].lower()
        if scheme in _REFUSED_SCHEMES:
            raise PathEscape(
                f"{shown_root(url)}: {scheme}:// cannot hold a bundle (no listing of its own, "
                "and servers may redirect anywhere): copy the bundle to a folder or a store"
            )
        try:
            fs, path = fsspec.core.url_to_fs(url)
        except (ImportError, ValueError) as exc:
            raise PathEscape(f"{shown_root(url)}: cannot open this URL: {exc}") from None
        self._fs: Any = fs
        self._base = path.rstrip("/")
        #: The listing entries of the folder being walked (`check` needs no request for them).
        self._seen: dict[str, dict[str, Any]] = {}
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        self.root = f"{protocol}://{self._base}"

    def _key(self, rel: str) -> str:
        return f"{self._base}/{rel}" if rel else self._base

    def safe(self, ref: str) -> str:
        return normalise(ref)

    def is_dir(self, rel: str) -> bool:
        try:
            return bool(self._fs.isdir(self._key(rel)))
        finally:
            self._fs.invalidate_cache(self._key(rel))

    def lexists(self, rel: str) -> bool:
        try:
            return bool(self._fs.exists(self._key(self.safe(rel))))
        except (OSError, PathEscape):
            return True  # something is there that cannot be used: `check` says what

    def check(self, rel: str, max_bytes: int | None = None) -> int:
        key = self._key(self.safe(rel))
        try:
            # just listed: the listing's own entry (no request per key of a large archive)
            info = self._seen.get(key) or self._fs.info(key)
        except FileNotFoundError:
            raise FileNotFoundError(rel) from None
        except OSError as exc:
            raise PathEscape(f"cannot stat {rel!r}: {exc.strerror or exc}") from None
        if info.get("type") == "directory":
            raise PathEscape(f"{rel!r} is a directory, not a regular file")
        if info.get("islink") or info.get("type") == "link":
            raise PathEscape(f"path {rel!r} is a link: refused (it may lead outside the bundle)")
        if any(info.get(k) for k in _REDIRECT_KEYS):
            raise PathEscape(
                f"path {rel!r} is a redirect: refused (it may lead outside the bundle)"
            )
        if info.get("type") not in ("file", None):
            raise PathEscape(f"{rel!r} is not a regular file")
        size = int(info.get("size") or 0)
        _over(rel, size, max_bytes)
        return size

    def modified(self, rel: str) -> datetime | None:
        """See `BundleFS.modified`: the object's last-modified time as its store reports it
        (`LastModified` on S3, `mtime` on local and SFTP stores, `updated` on GCS,
        `last_modified` on Azure)."""
        try:
            info = self._seen.get(self._key(rel)) or self._fs.info(self._key(rel))
        except (OSError, ValueError, PathEscape):
            return None
        for key in ("LastModified", "mtime", "last_modified", "updated"):
            when = when_or_none(info.get(key))
            if when is not None:
                return when
        return None

    def open(self, rel: str) -> BinaryIO:
        key = self._key(self.safe(rel))
        try:
            handle: BinaryIO = self._fs.open(
                key, "rb", block_size=REMOTE_BLOCK, cache_type="readahead"
            )
        except PermissionError as exc:  # the key is listed, but these credentials may not read it
            raise PermissionError(errno.EACCES, _denied(exc), rel) from None
        return handle

    def walk(self, folder: str) -> Iterator[str]:
        yield from self._walk(self._key(folder))

    def _walk(self, key: str) -> Iterator[str]:
        try:
            listed = self._fs.ls(key, detail=True)
        except FileNotFoundError:
            return
        except OSError as exc:  # a policy may deny listing one prefix and allow the rest
            why = exc.strerror or str(exc) or type(exc).__name__
            yield UnlistedFolder(key[len(self._base) + 1 :], f"cannot list this folder: {why}")
            return
        finally:
            self._fs.invalidate_cache(key)  # one folder at a time in memory, never the archive
        level: dict[str, dict[str, Any]] = {}
        folders: set[str] = set()
        for entry in listed:
            raw = str(entry["name"])
            name = raw.rstrip("/")
            if name == key and raw != name and entry.get("type") == "directory":
                # keys under `folder//`: a folder with an empty name, which no path can
                # name; handed out as such, so the listing refuses it by name (never silent)
                level[key + "//"] = entry
                continue
            if name == key or not name.startswith(key + "/"):
                continue
            if entry.get("type") == "directory":
                folders.add(name)
            else:
                level[name] = entry
        del listed
        for child in sorted(folders | set(level), key=lambda n: n[len(key) + 1 :]):
            if child in folders:
                yield from self._walk(child)
            else:
                self._seen = level
                yield child[len(self._base) + 1 :]
        self._seen = {}


def sha256_of(fs: BundleFS, rel: str) -> str:
    """The SHA-256 of bundle file `rel`, read as any bundle file is (checked first, streamed):
    what `verify` and `export` compare with a report's inputs. Raises FileNotFoundError,
    PathEscape or OSError."""
    import hashlib

    safe = fs.safe(rel)
    fs.check(safe)
    digest = hashlib.sha256()
    with fs.open(safe) as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


_OPEN: dict[tuple[str, int], BundleFS] = {}


def open_fs(location: str | os.PathLike[str]) -> BundleFS:
    """The bundle filesystem of a folder or URL (a URL's is kept per process, and rebuilt
    after a fork, as fsspec's own clients are)."""
    text = os.fspath(location)
    if not is_url(text):
        return LocalFS(Path(text))  # cheap, and resolved afresh each time
    key = (text, os.getpid())
    found = _OPEN.get(key)
    if found is None:
        if len(_OPEN) > 16:
            _OPEN.clear()
        found = FsspecFS(text)
        _OPEN[key] = found
    return found
