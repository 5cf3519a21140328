"""Putting published records back: the sparse bundle `verify` audits again.

Every record goes to exactly the place it had (file name, line number, index in its `Records`
array), and everything between is filler the sources skip (blank lines) or count without
judging (`FILLER`), so the real sources read the sparse files and the findings' ids come out as
in the original audit. Apart from `records` (cutting them out) because the two directions share
only the `Record` type, and because this side is sized before it writes anything: a record at
a very high line or index must cost nothing but its refusal.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor.config.bundle import PathEscape, safe_relpath
from auditor.evidence_pack.records import Record, RecordError, is_log_path

#: A CloudTrail record that parses and counts but that no catalogue entry knows.
FILLER = b'{"eventSource":"filler.auditor.invalid","eventName":"Filler"}'
#: The most record slots (published records and fillers) one sparse file may hold.
MAX_SPARSE_RECORDS = 1_000_000
#: The most bytes the whole sparse bundle may take (before gzip); checked before anything is
#: written, so a record at index 5,000,000, or many lines each at a high index, cost nothing.
MAX_SPARSE_BYTES = 128 * 1024 * 1024


def write_sparse(root: Path, records: Iterable[Record]) -> dict[str, str]:
    """Write each file of `records` under `root` with every record at its place.

    Returns {file: source} for the files whose source is known (for `[[sources]]` overrides).
    What would be written is sized first (`sparse_size`): over MAX_SPARSE_RECORDS slots in one
    file or MAX_SPARSE_BYTES in all is a RecordError before anything is written.
    """
    by_file: dict[str, list[Record]] = {}
    for rec in records:
        by_file.setdefault(rec.file, []).append(rec)
    targets: dict[str, Path] = {}
    total = 0
    for file, recs in sorted(by_file.items()):
        if not is_log_path(file):
            raise RecordError(f"records.jsonl: {file}: not a plain path under logs/")
        try:
            rel = safe_relpath(root, file)
        except PathEscape as exc:
            raise RecordError(f"records.jsonl: {file}: {exc}") from None
        target = root / rel
        if not target.resolve().is_relative_to((root / "logs").resolve()):
            raise RecordError(f"records.jsonl: {file}: leaves the logs/ folder")
        shapes = {r.shape for r in recs}
        if "document-record" in shapes and shapes != {"document-record"}:
            raise RecordError(f"records.jsonl: {file}: mixes a document with line records")
        total += sparse_size(file, recs)
        if total > MAX_SPARSE_BYTES:
            raise RecordError(
                f"records.jsonl: {file}: the sparse bundle would be larger than "
                f"{MAX_SPARSE_BYTES:,} bytes (the records are at very high lines or indices)"
            )
        targets[file] = target
    sources: dict[str, str] = {}
    for file, recs in sorted(by_file.items()):
        shapes = {r.shape for r in recs}
        data = _document(recs) if "document-record" in shapes else _lines(file, recs)
        target = targets[file]
        target.parent.mkdir(parents=True, exist_ok=True)
        if file.endswith(".gz"):
            data = gzip.compress(data, mtime=0)
        target.write_bytes(data)
        known = {r.source for r in recs if r.source}
        if len(known) == 1:
            sources[file] = known.pop()
    return sources


def sparse_size(file: str, recs: list[Record]) -> int:
    """The bytes (before gzip) the sparse file of `recs` takes, computed, not built; over
    MAX_SPARSE_RECORDS record slots is a RecordError."""
    filler = len(FILLER) + 2
    if all(r.shape == "document-record" for r in recs):
        sizes = {r.record: len(r.raw) for r in recs if r.record is not None}
        count = max(sizes) + 1
        size = 32 + sum(sizes.values()) + 2 * len(sizes) + filler * (count - len(sizes))
    else:
        lines: dict[int, dict[int | None, int]] = {}
        for r in recs:
            assert r.line is not None
            lines.setdefault(r.line, {})[r.record] = len(r.raw)
        count = 0
        size = max(lines) + 1  # a newline for every line
        for here in lines.values():
            indices = [i for i in here if i is not None]
            slots = max(indices) + 1 if indices else 1
            count += slots
            size += 16 + sum(here.values()) + len(here) + filler * (slots - len(here))
    if count > MAX_SPARSE_RECORDS:
        raise RecordError(
            f"records.jsonl: {file}: would need {count:,} record slots, over the limit of "
            f"{MAX_SPARSE_RECORDS:,} for one file"
        )
    return size


def _records_array(recs: list[Record]) -> list[bytes]:
    slots: dict[int, bytes] = {}
    for r in recs:
        assert r.record is not None
        if slots.get(r.record, r.raw) != r.raw:
            raise RecordError(f"records.jsonl: {r.file}: two different records at index {r.record}")
        slots[r.record] = r.raw
    return [slots.get(i, FILLER) for i in range(max(slots) + 1)]


def _document(recs: list[Record]) -> bytes:
    # Two newlines up front: the reader takes a document whose first 4 KiB hold more than one
    # newline as pretty-printed, so its events carry no line number, as the original's did.
    return b'{\n"Records": [\n' + b",\n".join(_records_array(recs)) + b"\n]\n}\n"


def _lines(file: str, recs: list[Record]) -> bytes:
    by_line: dict[int, list[Record]] = {}
    for r in recs:
        assert r.line is not None
        by_line.setdefault(r.line, []).append(r)
    out = bytearray()
    last = 0
    for n in sorted(by_line):
        out += b"\n" * (n - last - 1)  # the blank lines before this one
        last = n
        here = by_line[n]
        if all(r.record is None for r in here):
            if len({r.raw for r in here}) != 1:
                raise RecordError(f"records.jsonl: {file}:{n}: two different lines")
            out += here[0].raw
        elif any(r.record is None for r in here):
            raise RecordError(f"records.jsonl: {file}:{n}: a line both whole and by record")
        else:
            out += b'{"Records":[' + b",".join(_records_array(here)) + b"]}"
        out += b"\n"
    return bytes(out)


def overrides_toml(sources: dict[str, str]) -> str:
    """`[[sources]]` tables that pin each sparse file to the source that read the original."""
    parts = []
    for file, source in sorted(sources.items()):
        glob = "".join(f"[{c}]" if c in "*?[" else c for c in file)
        parts.append(f"\n[[sources]]\nglob = {json.dumps(glob)}\nsource = {json.dumps(source)}\n")
    return "".join(parts)


def pin_years(root: Path, years: dict[str, int]) -> None:
    """Give each sparse file whose RFC 3164 times were dated by its modification time
    (`sources.syslogyear`) a modification time at the end of that year, so the re-run dates
    its lines alike: a sparse file is written now, the original was not."""
    for file, year in years.items():
        path = root / file
        if path.is_file():
            stamp = datetime(year, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()
            os.utime(path, (stamp, stamp))


def syslog_years(report: dict[str, Any]) -> dict[str, int]:
    """file -> the year its year-less syslog times were given by the file's modification time
    in the audit (`sources.syslogyear`; a year from audit.toml travels in audit.toml)."""
    years: dict[str, int] = {}
    for finding in report.get("findings") or []:
        for event in finding.get("events") or [] if isinstance(finding, dict) else []:
            attrs = event.get("attributes") if isinstance(event, dict) else None
            if not isinstance(attrs, dict) or not isinstance(event.get("file"), str):
                continue
            year = attrs.get("syslog_year")
            by_mtime = attrs.get("syslog_year_from") == "file modification time"
            if by_mtime and isinstance(year, str) and year.isdigit():
                years.setdefault(event["file"], int(year))
    return years
