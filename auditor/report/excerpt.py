"""Log excerpts for the HTML report: the raw record behind each finding, bounded in size.

Read at render time from the bundle folder (paths checked to stay inside it): the line for
line-located events (JSON lines, text logs, one-record-per-line CloudTrail), the record of a
`Records` document by index, or, for an event with both, that record of the document written on
that line (a one-line CloudTrail delivery file). Each file is read at most once per report,
and big files or excerpts are cut rather than loaded whole. The text is shown escaped, never
interpreted.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable
from typing import Any

import orjson

from auditor.config.bundlefs import BundleFS, PathEscape, open_fs
from auditor.report.common import Located
from auditor.sources.base import FileResult
from auditor.sources.ctstream import START, stream_records
from auditor.sources.jsondoc import records_of

MAX_CHARS = 3000
MAX_DOC_BYTES = 32 * 1024 * 1024
MAX_LINE_SCAN = 2_000_000
#: Deeper levels of a record are not shown (see `_pruned`).
MAX_DEPTH = 32


def _cut(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS] + f" … [{len(text):,} chars, cut]"


def _open(fs: BundleFS, rel: str) -> Any:
    """Text of bundle file `rel` through the bundle's filesystem (a folder or a store)."""
    raw: Any = io.BufferedReader(fs.open(rel))
    if rel.endswith(".gz"):
        return gzip.open(raw, "rt", encoding="utf-8", errors="replace")
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace")


def _lines(path: tuple[BundleFS, str], wanted: set[int]) -> dict[int, str]:
    """The wanted lines, whole (the caller cuts them: a delivery line is parsed first)."""
    out: dict[int, str] = {}
    last = max(wanted)
    with _open(*path) as fh:
        for n, text in enumerate(fh, start=1):
            if n in wanted:
                out[n] = text.rstrip("\r\n")
            if n >= last or n >= MAX_LINE_SCAN:
                break
    return out


def _split(text: str, wanted: set[int]) -> dict[int, Any]:
    """The wanted records of one JSON document (a `Records`/`records`/`entries` array or a
    top-level array), by index as the sources count them.

    Parsed with orjson, as the sources parse it, so its nesting limit bounds the work (a
    record nested a thousand levels deep is an error there, never a RecursionError here).
    When the document as a whole does not parse (one bad record), a CloudTrail document is
    split record by record as the CloudTrail source splits it, so the records before the bad
    one can still be shown.
    """
    try:
        items = records_of(orjson.loads(text))
    except orjson.JSONDecodeError:
        items = None
        if START.match(text.encode("utf-8", errors="replace"), 0, 1 << 16):
            items = []
            split = stream_records(
                [text.encode("utf-8", errors="replace")], FileResult(path="", source="excerpt")
            )
            for rec in split:
                items.append(rec)
                if len(items) > max(wanted):
                    break
    if items is None:
        return {}
    return {i: items[i] for i in wanted if 0 <= i < len(items)}


def _pruned(record: Any) -> Any:
    """A copy of `record` whose containers deeper than MAX_DEPTH are replaced by a note.

    Built with an explicit stack: the sources accept records nested up to orjson's limit of
    1,024 levels, deeper than `json.dumps` (which recurses) can write; a reader gains nothing
    from the levels past the cut, and the page stays bounded.
    """
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, int]] = [(record, root, 0, 0)]
    while stack:
        value, parent, key, level = stack.pop()
        if isinstance(value, dict | list) and level >= MAX_DEPTH:
            parent[key] = f"… [nested deeper than {MAX_DEPTH} levels: not shown]"
        elif isinstance(value, dict):
            obj: dict[Any, Any] = {}
            parent[key] = obj
            stack.extend((v, obj, k, level + 1) for k, v in value.items())
        elif isinstance(value, list):
            arr: list[Any] = [None] * len(value)
            parent[key] = arr
            stack.extend((v, arr, i, level + 1) for i, v in enumerate(value))
        else:
            parent[key] = value
    return root[0]


def _show(record: Any) -> str | None:
    """A record as indented JSON, cut to MAX_CHARS; None when it cannot be written."""
    try:
        return _cut(json.dumps(_pruned(record), indent=2, sort_keys=True, ensure_ascii=False))
    except (RecursionError, ValueError, TypeError):
        return None


def _records(path: tuple[BundleFS, str], wanted: set[int]) -> dict[int, str]:
    if path[0].check(path[1]) > MAX_DOC_BYTES:
        return {}
    with _open(*path) as fh:
        found = _split(fh.read(), wanted)
    return {i: text for i, rec in found.items() if (text := _show(rec)) is not None}


def _line_records(lines: dict[int, str], wanted: dict[int, set[int]]) -> dict[tuple[int, int], str]:
    """(line, record) -> excerpt for records of a document written on one line (a CloudTrail
    delivery file, an Azure `{"records": [...]}` line): the finding's own record, not the
    whole line."""
    out: dict[tuple[int, int], str] = {}
    for line, indices in wanted.items():
        text = lines.get(line)
        if text is None or len(text) > MAX_DOC_BYTES:
            continue
        for i, rec in _split(text, indices).items():
            shown = _show(rec)
            if shown is not None:
                out[(line, i)] = shown
    return out


def excerpts(
    bundle_root: str, events: Iterable[Located]
) -> dict[tuple[str, int | None, int | None], str]:
    """(file, record, line) -> excerpt text for every event that can be found again.

    An event with both a line and a record index is a record of a document on that line: its
    excerpt is that record, or the (cut) line when the record cannot be found again.
    """
    try:
        fs = open_fs(bundle_root)
    except PathEscape:
        return {}
    by_file: dict[str, list[Located]] = {}
    for ev in events:
        by_file.setdefault(ev.file, []).append(ev)
    out: dict[tuple[str, int | None, int | None], str] = {}
    for file, evs in sorted(by_file.items()):
        try:
            path = (fs, fs.safe(file))
            fs.check(path[1])
        except (PathEscape, OSError):
            continue
        lines = {e.line for e in evs if e.line is not None}
        records = {e.record for e in evs if e.line is None and e.record is not None}
        in_lines: dict[int, set[int]] = {}
        for e in evs:
            if e.line is not None and e.record is not None:
                in_lines.setdefault(e.line, set()).add(e.record)
        try:
            found_lines = _lines(path, lines) if lines else {}
            found_records = _records(path, records) if records else {}
            found_in_lines = _line_records(found_lines, in_lines)
        except (OSError, ValueError, EOFError, RecursionError):
            continue
        for e in evs:
            line, record = e.line, e.record
            key = (file, record, line)
            if line is not None and record is not None and (line, record) in found_in_lines:
                out[key] = found_in_lines[(line, record)]
            elif line is not None and line in found_lines:
                out[key] = _cut(found_lines[line])
            elif line is None and record in found_records:
                out[key] = found_records[record]
    return out
