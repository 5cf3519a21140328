"""The evidence archive an NGO may publish: what a finding rests on, and nothing more.

Layout (a zip; entries sorted, timestamps fixed, so the same run gives the same bytes):

    report.json          the run's JSON report, exactly as `--format json` writes it
    records.jsonl        the log records behind each finding, only those (see records.py)
    packs/<id>.toml      the policy packs the run used, byte for byte (hashes in the report)
    config/audit.toml    the bundle's config files, when the run had them (hashes in the report)
    config/principals.toml
    thumbs/<sha256>.jpg  a small thumbnail of each frame of a finding, faces blurred
    README.txt           what this is and how to check it
    MANIFEST.sha256      `sha256sum -c` lines for every other entry

Whole logs, whole frames, probe photos and face descriptors are never included. Reading an
archive is defensive: only the names above are read, each size is checked before reading, and
nothing is ever extracted to a path taken from the archive.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from auditor.core.errors import AuditorError
from auditor.evidence_pack.records import Record, RecordError, cut
from auditor.report.base import RenderOptions
from auditor.report.json_report import JsonReporter
from auditor.report.thumbs import Thumbnail, thumbnail_jpeg

MANIFEST = "MANIFEST.sha256"
README = "README.txt"
#: The largest entry `verify` reads from an archive (uncompressed).
MAX_ENTRY_BYTES = 256 * 1024 * 1024
#: The most entries an archive may have.
MAX_ENTRIES = 100_000
_EPOCH = (1980, 1, 1, 0, 0, 0)

_README = """\
Evidence archive written by auditor {version} for run {run}.

It holds the run's report (report.json), the exact log records behind each finding
(records.jsonl, one JSON object a line with file, line, record index and the raw record),
the policy packs used (packs/), the bundle's config files (config/), blurred thumbnails of
the frames of findings (thumbs/) and SHA-256 sums of all of these (MANIFEST.sha256, checkable
with `sha256sum -c MANIFEST.sha256`).

To check that the published records give the published findings:

    auditor verify THIS-ARCHIVE.zip

Whole logs, whole frames, probe photos and face descriptors are not included.
"""


class ArchiveError(AuditorError):
    """An evidence archive that cannot be written or read."""


@dataclass
class Contents:
    """What `read` found in an archive."""

    report: dict[str, Any]
    records: list[Record]
    packs: dict[str, bytes]  # file name under packs/ -> bytes
    config: dict[str, bytes]  # audit.toml / principals.toml -> bytes
    thumbs: list[str] = field(default_factory=list)
    #: Manifest lines whose sum does not match, or entries the manifest does not list.
    manifest_problems: list[str] = field(default_factory=list)


def _entry(name: str, data: bytes) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info, data


def build(report: dict[str, Any], bundle_root: Path, pack_files: dict[str, bytes]) -> bytes:
    """The archive's bytes for a stored report and the bundle it was read from.

    `pack_files` maps pack id -> the pack file's bytes; each must hash to the report's sha256
    (the caller finds them; a pack that changed since the run cannot be published as used).
    """
    entries: dict[str, bytes] = {}
    entries["report.json"] = JsonReporter().render(report, RenderOptions()).encode()
    events = [ev for f in report.get("findings", []) for ev in f.get("events", [])]
    sources = {
        i["path"]: i.get("source") for i in report.get("inputs", []) if i.get("kind") == "log"
    }
    try:
        records = cut(bundle_root, events, sources)
    except RecordError as exc:
        raise ArchiveError(str(exc)) from None
    entries["records.jsonl"] = b"".join(
        orjson.dumps(r.as_dict(), option=orjson.OPT_SORT_KEYS) + b"\n" for r in records
    )
    for pack in report.get("packs", []):
        data = pack_files.get(pack["id"])
        if data is None or hashlib.sha256(data).hexdigest() != pack["sha256"]:
            raise ArchiveError(
                f"pack {pack['id']} {pack['version']}: the file used by the run "
                "(sha256 " + pack["sha256"][:12] + "…) is not available; "
                "pass it with --policy"
            )
        entries[f"packs/{pack['id']}.toml"] = data
    for item in report.get("inputs", []):
        if item.get("kind") != "config":
            continue
        data = _bundle_bytes(bundle_root, item["path"])
        if hashlib.sha256(data).hexdigest() != item["sha256"]:
            raise ArchiveError(f"{item['path']}: changed since the run (its SHA-256 differs)")
        entries[f"config/{item['path']}"] = data
    for path, sha, boxes in _frames(report):
        made = thumbnail_jpeg(str(bundle_root), path, sha, boxes, show_faces=False)
        if not isinstance(made, Thumbnail):
            entries[f"thumbs/{sha}.jpg"] = made[0]
    from auditor import __version__

    entries[README] = _README.format(version=__version__, run=report["run"]["id"]).encode()
    manifest = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(entries.items())
    )
    entries[MANIFEST] = manifest.encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted(entries):
            info, data = _entry(name, entries[name])
            zf.writestr(info, data)
    return buf.getvalue()


def _bundle_bytes(root: Path, rel: str) -> bytes:
    from auditor.config.bundle import PathEscape, safe_relpath

    try:
        path = root.resolve() / safe_relpath(root.resolve(), rel)
        return path.read_bytes()
    except (PathEscape, OSError) as exc:
        raise ArchiveError(f"{rel}: cannot be read from the bundle: {exc}") from None


def _frames(report: dict[str, Any]) -> Iterable[tuple[str, str, list[list[int]]]]:
    seen: set[str] = set()
    for f in report.get("findings", []):
        for fr in f.get("frames", []):
            sha = fr.get("sha256")
            if sha and sha not in seen and not fr.get("error"):
                seen.add(sha)
                yield fr["path"], sha, fr.get("boxes") or []


# -- reading ---------------------------------------------------------------------------------


def is_archive(path: Path) -> bool:
    """Is `path` a file that looks like a zip (by content, not by name)?"""
    return path.is_file() and zipfile.is_zipfile(path)


def read(path: Path) -> Contents:
    """Read and check an archive: manifest sums, records, packs; never extracts anything."""
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ArchiveError(f"{path}: not a readable zip archive: {exc}") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise ArchiveError(f"{path}: more than {MAX_ENTRIES:,} entries")
        by_name = {i.filename: i for i in infos}

        def get(name: str) -> bytes:
            info = by_name[name]
            if info.file_size > MAX_ENTRY_BYTES:
                raise ArchiveError(f"{path}: {name} is larger than {MAX_ENTRY_BYTES:,} bytes")
            try:
                data = zf.read(info)
            except (zipfile.BadZipFile, OSError, ValueError) as exc:
                raise ArchiveError(f"{path}: {name}: {exc}") from None
            return data

        for needed in ("report.json", "records.jsonl", MANIFEST):
            if needed not in by_name:
                raise ArchiveError(f"{path}: not an evidence archive (no {needed})")
        problems = _check_manifest(get(MANIFEST), by_name, get)
        try:
            report = orjson.loads(get("report.json"))
        except orjson.JSONDecodeError as exc:
            raise ArchiveError(f"{path}: report.json: malformed JSON: {exc}") from None
        if not isinstance(report, dict):
            raise ArchiveError(f"{path}: report.json is not a JSON object")
        records = []
        for n, line in enumerate(get("records.jsonl").splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise ArchiveError(f"records.jsonl:{n}: malformed JSON: {exc}") from None
            try:
                records.append(Record.from_dict(obj, f"records.jsonl:{n}"))
            except RecordError as exc:
                raise ArchiveError(str(exc)) from None
        packs = {
            name[len("packs/") :]: get(name)
            for name in by_name
            if name.startswith("packs/") and name.endswith(".toml") and name.count("/") == 1
        }
        config = {
            name[len("config/") :]: get(name)
            for name in by_name
            if name in ("config/audit.toml", "config/principals.toml")
        }
        thumbs = sorted(n for n in by_name if n.startswith("thumbs/"))
    return Contents(report, records, packs, config, thumbs, problems)


def _check_manifest(manifest: bytes, by_name: dict[str, zipfile.ZipInfo], get: Any) -> list[str]:
    problems: list[str] = []
    listed: set[str] = set()
    for n, line in enumerate(manifest.decode("utf-8", "replace").splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64:
            problems.append(f"{MANIFEST}:{n}: not a `sha256  name` line")
            continue
        listed.add(name)
        if name not in by_name:
            problems.append(f"{name}: listed in {MANIFEST} but not in the archive")
        elif hashlib.sha256(get(name)).hexdigest() != digest:
            problems.append(f"{name}: its SHA-256 differs from {MANIFEST}")
    problems.extend(
        f"{name}: in the archive but not in {MANIFEST}"
        for name in sorted(by_name)
        if name not in listed and name != MANIFEST and not name.endswith("/")
    )
    return problems
