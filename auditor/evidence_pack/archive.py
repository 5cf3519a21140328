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
import lzma
import re
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from auditor.config.bundlefs import BundleFS, PathEscape, sha256_of
from auditor.core.errors import AuditorError
from auditor.core.report import ReportHead, pack_id_ok
from auditor.core.reportdoc import TypedReport
from auditor.evidence_pack.records import Record, RecordError, cut
from auditor.evidence_pack.shape import _STRING, MAX_REPORT_BYTES, parse_report
from auditor.report.base import RenderOptions
from auditor.report.json_report import JsonReporter
from auditor.report.thumbs import Thumbnail, thumbnail_jpeg

MANIFEST = "MANIFEST.sha256"
README = "README.txt"
#: The largest entry `verify` reads from an archive (uncompressed); report.json has its own,
#: smaller cap (shape.MAX_REPORT_BYTES).
MAX_ENTRY_BYTES = 128 * 1024 * 1024
#: All entries of an archive together (uncompressed): every entry is read once, under this.
MAX_TOTAL_BYTES = 256 * 1024 * 1024
#: The most entries an archive may have.
MAX_ENTRIES = 100_000
#: The most records records.jsonl may publish.
MAX_RECORDS = 1_000_000
#: The entries `build` writes; nothing else may be in an archive.
_FIXED = frozenset(
    {
        "report.json",
        "records.jsonl",
        "README.txt",
        MANIFEST,
        "config/audit.toml",
        "config/principals.toml",
        "packs/",
        "config/",
        "thumbs/",
    }
)
_THUMB = re.compile(r"thumbs/[0-9a-f]{64}\.jpg")
_HEX64 = re.compile(r"[0-9a-f]{64}")
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


def build(
    report: TypedReport | Mapping[str, Any], bundle: BundleFS, pack_files: dict[str, bytes]
) -> bytes:
    """The archive's bytes for a stored report and the bundle it was read from (a folder or
    object storage: every file is read through `bundle`, so the audit's confinement rules hold).

    `pack_files` maps pack id -> the pack file's bytes; each must hash to the report's sha256
    (the caller finds them; a pack that changed since the run cannot be published as used).
    The report is read through the typed model, which also guarantees that every pack id can
    name a file (`core.report.pack_id_ok`).
    """
    typed = TypedReport.of(report)
    head = typed.head
    entries: dict[str, bytes] = {}
    entries["report.json"] = JsonReporter().render(typed, RenderOptions()).encode()
    events = [ev for f in typed.findings for ev in f.events]
    sources = {i.path: i.source for i in head.inputs if i.kind == "log"}
    _check_logs(bundle, head, {ev.file for ev in events})
    try:
        records = cut(bundle, events, sources)
    except RecordError as exc:
        raise ArchiveError(str(exc)) from None
    entries["records.jsonl"] = b"".join(
        orjson.dumps(r.as_dict(), option=orjson.OPT_SORT_KEYS) + b"\n" for r in records
    )
    for pack in head.packs:
        data = pack_files.get(pack.id)
        if data is None or hashlib.sha256(data).hexdigest() != pack.sha256:
            raise ArchiveError(
                f"pack {pack.id} {pack.version}: the file used by the run "
                f"(sha256 {pack.sha256[:12]}…) is not available; pass it with --policy"
            )
        entries[f"packs/{pack.id}.toml"] = data
    for item in head.inputs:
        if item.kind != "config":
            continue
        data = _bundle_bytes(bundle, item.path)
        if hashlib.sha256(data).hexdigest() != item.sha256:
            raise ArchiveError(f"{item.path}: changed since the run (its SHA-256 differs)")
        entries[f"config/{item.path}"] = data
    for path, sha, boxes in _frames(typed):
        made = thumbnail_jpeg(bundle.root, path, sha, boxes, show_faces=False)
        if not isinstance(made, Thumbnail):
            entries[f"thumbs/{sha}.jpg"] = made[0]
    from auditor import __version__

    entries[README] = _README.format(version=__version__, run=head.run.id).encode()
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


def _check_logs(fs: BundleFS, head: ReportHead, files: set[str]) -> None:
    """Each log a finding rests on must hash as the report says: a record cut from a log that
    changed since the audit would publish evidence the audit never saw."""
    hashes = {i.path: i.sha256 for i in head.inputs if i.kind == "log"}
    for rel in sorted(files):
        if rel not in hashes:
            raise ArchiveError(f"{rel}: a finding rests on it, but the report has no such input")
        try:
            got = sha256_of(fs, rel)
        except (PathEscape, OSError) as exc:
            raise ArchiveError(f"{rel}: cannot be read from the bundle: {exc}") from None
        if got != hashes[rel]:
            raise ArchiveError(
                f"{rel}: changed since the run (its SHA-256 differs from the report's); "
                "export publishes only the records the audit read"
            )


def _bundle_bytes(fs: BundleFS, rel: str) -> bytes:
    """A config file's bytes (audit.toml, principals.toml: small, capped like an entry)."""
    try:
        safe = fs.safe(rel)
        fs.check(safe, MAX_ENTRY_BYTES)
        with fs.open(safe) as fh:
            return fh.read()
    except (PathEscape, OSError) as exc:
        raise ArchiveError(f"{rel}: cannot be read from the bundle: {exc}") from None


def _frames(report: TypedReport) -> Iterable[tuple[str, str, list[list[int]]]]:
    seen: set[str] = set()
    for f in report.findings:
        for fr in f.frames:
            sha = fr.sha256
            if sha and sha not in seen and not fr.error:
                seen.add(sha)
                yield fr.path, sha, [list(b) for b in fr.boxes]


# -- reading ---------------------------------------------------------------------------------


def is_archive(path: Path) -> bool:
    """Is `path` a regular file that looks like a zip (by content, not by name)?"""
    try:
        return path.is_file() and zipfile.is_zipfile(path)
    except OSError:
        return False


def _layout_name(name: str) -> bool:
    """Is `name` one of the entries `build` writes (or a folder of them)?"""
    if name in _FIXED or _THUMB.fullmatch(name):
        return True
    stem = name.removeprefix("packs/").removesuffix(".toml")
    return name == f"packs/{stem}.toml" and pack_id_ok(stem)


class _Reader:
    """Reads members of one zip, each at most once, under one budget of uncompressed bytes."""

    def __init__(self, where: str, zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo]):
        self.where, self.zf, self.infos = where, zf, infos
        self.spent = 0

    def read(self, name: str, cap: int = MAX_ENTRY_BYTES) -> bytes:
        info = self.infos[name]
        if info.flag_bits & 0x1:
            raise ArchiveError(
                f"{self.where}: {name}: cannot be decompressed: it is encrypted "
                "(evidence archives are never)"
            )
        if info.file_size > cap:
            raise ArchiveError(f"{self.where}: {name} is larger than {cap:,} bytes")
        if self.spent + info.file_size > MAX_TOTAL_BYTES:
            raise ArchiveError(
                f"{self.where}: {name}: the archive holds more than {MAX_TOTAL_BYTES:,} bytes "
                "(uncompressed) of entries"
            )
        chunks: list[bytes] = []
        got = 0
        try:
            with self.zf.open(info) as fh:
                while chunk := fh.read(1 << 20):
                    got += len(chunk)
                    if got > info.file_size:  # the zip module stops at file_size; be sure
                        raise ArchiveError(f"{self.where}: {name}: longer than its header says")
                    chunks.append(chunk)
        except ArchiveError:
            raise
        except (
            zipfile.BadZipFile,
            zlib.error,
            lzma.LZMAError,
            NotImplementedError,  # Deflate64, IMPLODE, ...: methods Python cannot decompress
            RuntimeError,  # an encrypted member
            OSError,
            EOFError,
            ValueError,
        ) as exc:
            reason = str(exc) or type(exc).__name__
            raise ArchiveError(f"{self.where}: {name}: cannot be decompressed: {reason}") from None
        self.spent += got
        return b"".join(chunks)


def read(path: Path) -> Contents:
    """Read and check an archive: manifest sums, records, packs; never extracts anything.

    Nothing in the zip is trusted: a member name that appears twice, a name `build` never
    writes, a manifest line that is not `sha256  name` for such a name, or one that names an
    entry twice, is refused (ArchiveError, exit 2); every member is read once, all of them under
    MAX_TOTAL_BYTES, and report.json under shape.MAX_REPORT_BYTES.
    """
    where = str(path)
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise ArchiveError(f"{where}: not a readable zip archive: {exc}") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise ArchiveError(f"{where}: more than {MAX_ENTRIES:,} entries")
        by_name: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = info.filename
            if name in by_name:
                raise ArchiveError(f"{where}: two members are named {name!r}")
            if not _layout_name(name):
                raise ArchiveError(f"{where}: {name!r} is not an entry of an evidence archive")
            if name.endswith("/"):
                continue  # a folder entry, as `zip -r` writes them
            by_name[name] = info
        for needed in ("report.json", "records.jsonl", MANIFEST):
            if needed not in by_name:
                raise ArchiveError(f"{where}: not an evidence archive (no {needed})")
        reader = _Reader(where, zf, by_name)
        data = {name: reader.read(name, _cap(name)) for name in sorted(by_name)}
    problems = _check_manifest(where, data)
    report = parse_report(data["report.json"], f"{where}: report.json")
    records = _records(where, data["records.jsonl"])
    packs = {
        name[len("packs/") :]: body for name, body in data.items() if name.startswith("packs/")
    }
    config = {
        name[len("config/") :]: body for name, body in data.items() if name.startswith("config/")
    }
    thumbs = sorted(n for n in data if n.startswith("thumbs/"))
    return Contents(report, records, packs, config, thumbs, problems)


def _cap(name: str) -> int:
    return MAX_REPORT_BYTES if name == "report.json" else MAX_ENTRY_BYTES


def _records(where: str, data: bytes) -> list[Record]:
    """records.jsonl: each line a flat JSON object (no nested object or array, checked before it
    is parsed, so a line of `[{},{},...]` cannot cost memory)."""
    records = []
    for n, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        bare = _STRING.sub(b'""', line).strip()
        if (
            not bare.startswith(b"{")
            or bare.count(b"{") + bare.count(b"[") != 1
            or bare.count(b",") > 16
        ):
            raise ArchiveError(f"records.jsonl:{n}: not a flat JSON object of a record")
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ArchiveError(f"records.jsonl:{n}: malformed JSON: {exc}") from None
        try:
            records.append(Record.from_dict(obj, f"records.jsonl:{n}"))
        except RecordError as exc:
            raise ArchiveError(str(exc)) from None
    if len(records) > MAX_RECORDS:
        raise ArchiveError(f"{where}: records.jsonl: more than {MAX_RECORDS:,} records")
    return records


def _check_manifest(where: str, data: dict[str, bytes]) -> list[str]:
    """Manifest lines against the entries. A line that is not `sha256  name` for an entry of the
    layout, or that names an entry twice, is refused; sums that differ and entries missing from
    either side are returned as problems (verify reports them: exit 1)."""
    problems: list[str] = []
    listed: set[str] = set()
    try:
        text = data[MANIFEST].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArchiveError(f"{where}: {MANIFEST}: not UTF-8 text: {exc}") from None
    for n, line in enumerate(text.splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or not _HEX64.fullmatch(digest):
            raise ArchiveError(f"{where}: {MANIFEST}:{n}: not a `sha256  name` line")
        if name == MANIFEST or name.endswith("/") or not _layout_name(name):
            raise ArchiveError(f"{where}: {MANIFEST}:{n}: {name!r} is not an archive entry")
        if name in listed:
            raise ArchiveError(f"{where}: {MANIFEST}:{n}: {name!r} is listed twice")
        listed.add(name)
        if name not in data:
            problems.append(f"{name}: listed in {MANIFEST} but not in the archive")
        elif hashlib.sha256(data[name]).hexdigest() != digest:
            problems.append(f"{name}: its SHA-256 differs from {MANIFEST}")
    problems.extend(
        f"{name}: in the archive but not in {MANIFEST}"
        for name in sorted(data)
        if name not in listed and name != MANIFEST
    )
    return problems
