"""The audit bundle: its folders, its audit.toml, and the rule that every path stays inside it.

Logs name frames by S3 key or by relative path; both are untrusted input. `safe_relpath` is the
one gate every such reference goes through: absolute paths, `..` that climbs out, and symlinks
that lead out are refused before anything is opened.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from auditor.config import settings as settings_mod
from auditor.config import tomlfile
from auditor.config.bundlefs import (
    BundleFS,
    LocalFS,
    PathEscape,
    UnlistedFolder,
    is_url,
    normalise,
    open_fs,
    shown_root,
)
from auditor.config.settings import JsonlMapping, SourceSettings, TextPattern
from auditor.core.errors import BundleError, ConfigError, InputIssue, Location

__all__ = [
    "AUDIT_TOML",
    "MAX_CONFIG_BYTES",
    "MAX_IMAGE_BYTES",
    "PRINCIPALS_TOML",
    "Bundle",
    "bundle_fs",
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


def display_name(rel: str) -> str:
    """A file name fit for reports: bytes that are not UTF-8 shown as `\\xNN` escapes."""
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def regular_file(root: Path, rel: str, max_bytes: int | None = None) -> Path:
    """The path of local bundle file `rel`, checked BEFORE it is opened (`LocalFS.check`):
    inside the bundle (symlinks too), a regular file (a FIFO would block the reader, /dev/zero
    never ends) and at most `max_bytes` long. Raises FileNotFoundError when nothing is there,
    PathEscape otherwise."""
    fs = LocalFS(root)
    fs.check(rel, max_bytes)
    return fs.path(rel)


def safe_relpath(root: Path, ref: str) -> str:
    """Normalise `ref` to a bundle-relative POSIX path of the local folder `root`, or raise
    PathEscape. A path that exists is also resolved, so a symlink inside the bundle that points
    outside it is refused too (`LocalFS.safe`)."""
    return LocalFS(root).safe(ref)


@dataclass
class Bundle:
    """An audit bundle (a folder or an object-storage prefix), with its audit.toml read and
    checked. Every read of its files goes through `fs`."""

    fs: BundleFS
    name: str
    settings: SourceSettings
    config_file: str | None = None

    @property
    def root(self) -> str:
        """What workers reopen the bundle from (`bundlefs.open_fs`): folder or URL."""
        return self.fs.root

    @property
    def shown(self) -> str:
        """The root as reports, messages and the store show it (never credentials)."""
        return shown_root(display_name(self.fs.root))

    def iter_entries(self, folder: str, max_bytes: int | None = None) -> Iterator[str | InputIssue]:
        """Usable regular files under `folder` and issues, in path order, listed lazily.

        Nothing is skipped in silence: a name that is not UTF-8, a symlink or redirect that
        leads out or is broken, a FIFO, socket or device, a key that is not a normal path, or
        a file over `max_bytes` is an issue (by its escaped name), never a read.
        """
        for item in self.iter_sized(folder, max_bytes):
            yield item if isinstance(item, InputIssue) else item[0]

    def iter_sized(
        self, folder: str, max_bytes: int | None = None
    ) -> Iterator[tuple[str, int] | InputIssue]:
        """`iter_entries` with each file's size as the check saw it (the log pass groups small
        files into one task by it, with no second request per key)."""
        for rel in self.fs.walk(folder):
            if isinstance(rel, UnlistedFolder):
                yield InputIssue(f"{display_name(rel)}/", f"refused: {rel.why}")
                continue
            shown = display_name(rel)
            if shown != rel:
                yield InputIssue(shown, "refused: the file name is not valid UTF-8")
                continue
            try:
                if self.fs.local is None and normalise(rel) != rel:
                    raise PathEscape(f"{rel!r} is not a normal path (empty, . or .. parts)")
                size = self.fs.check(rel, max_bytes)
            except (PathEscape, OSError) as exc:
                yield InputIssue(rel, f"refused: {exc}")
                continue
            yield rel, size

    def entries(
        self, folder: str, max_bytes: int | None = None
    ) -> tuple[list[str], list[InputIssue]]:
        """(usable regular files, issues) under `folder`, both sorted (deterministic)."""
        good: list[str] = []
        issues: list[InputIssue] = []
        for item in self.iter_entries(folder, max_bytes):
            if isinstance(item, InputIssue):
                issues.append(item)
            else:
                good.append(item)
        return good, issues

    def config_bytes(self, name: str) -> bytes | None:
        """audit.toml or principals.toml when present; ConfigError when it cannot be used."""
        if not self.fs.lexists(name):
            return None
        try:
            self.fs.check(name, MAX_CONFIG_BYTES)
        except (PathEscape, OSError) as exc:
            raise ConfigError(f"cannot be used: {exc}", Location(name)) from None
        try:
            with self.fs.open(name) as fh:
                data = fh.read(MAX_CONFIG_BYTES + 1)
        except OSError as exc:
            raise ConfigError(f"cannot read: {exc.strerror or exc}", Location(name)) from None
        if len(data) > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"cannot be used: over the limit of {MAX_CONFIG_BYTES:,} bytes", Location(name)
            )
        return bytes(data)


def bundle_fs(path: str | Path) -> BundleFS:
    """The filesystem of the bundle at `path` (a folder, or an fsspec URL of one), checked to be
    there: a BundleError naming it otherwise. `audit`, `verify` and `export` all start here."""
    if is_url(str(path)):
        shown = shown_root(str(path))
        try:
            fs: BundleFS = open_fs(str(path))
            found = fs.is_dir("")
        except PathEscape as exc:
            raise BundleError(str(exc), Location(shown)) from None
        except OSError as exc:
            raise BundleError(f"cannot list the bundle: {exc}", Location(shown)) from None
        if not found:
            raise BundleError("bundle not found (no key under this prefix)", Location(shown))
        return fs
    local = Path(path)
    if not local.exists():
        raise BundleError("bundle not found", Location(str(path)))
    if not local.is_dir():
        raise BundleError("bundle must be a folder", Location(str(path)))
    return LocalFS(local)


def open_bundle(path: str | Path, known_sources: Collection[str]) -> Bundle:
    """Check that `path` is a bundle folder (or an fsspec URL of one) and read its audit.toml.

    `known_sources` are the source names audit.toml may name (`auditor.sources.open_bundle`
    passes the registry's)."""
    fs = bundle_fs(path)
    base = fs.root.rstrip("/").rsplit("/", 1)[-1]
    bundle = Bundle(fs=fs, name=display_name(base), settings=SourceSettings())
    raw = bundle.config_bytes(AUDIT_TOML)
    if raw is None:
        return bundle
    name, settings = settings_mod.parse(tomlfile.parse(raw, AUDIT_TOML), known_sources)
    return Bundle(fs=fs, name=name or bundle.name, settings=settings, config_file=AUDIT_TOML)


#: What sits beside logs/ in a bundle folder: found beside a folder, it says that folder is a
#: bundle's logs/ (or frames/, ...) rather than the bundle.
BUNDLE_MARKS = (AUDIT_TOML, PRINCIPALS_TOML, "logs", "frames", "probes")


def nothing_to_audit(given: Path | str, logs_exists: bool) -> BundleError:
    """The error for a bundle without a log file to read (exit 2, like any bundle that cannot be
    used): an absent or empty logs/. When `given` (a folder) itself looks like a logs/ folder (it
    is named `logs`, or its parent holds a bundle's files) the message names the parent to audit
    instead, as the user most likely typed `auditor audit BUNDLE/logs`."""
    if logs_exists:
        return BundleError("the logs/ folder is empty: nothing to audit", Location(str(given)))
    message = "the bundle has no logs/ folder: nothing to audit"
    if not isinstance(given, Path):  # an object-storage URL: no parent folder to look at
        return BundleError(message, Location(str(given)))
    path = given
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
