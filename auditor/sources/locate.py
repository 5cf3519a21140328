"""One record locator: the record behind an event, found again in its file.

Two readers ask "which record did this event come from?": the HTML report's excerpts and
`auditor export`, which publishes the records findings rest on. They used to answer it each on
their own, with different limits (an excerpt looked 2,000,000 lines into a file, export
50,000,000; an excerpt read a document of up to 32 MiB whole, export 64 MiB), so a finding
that could be shown might not be exportable and the other way round. Here is the one answer,
with one set of limits, read the way the sources read:

* `(line, None)`: the line, as its bytes; when the line only opens a JSON document written on
  several lines (`jq .` output, one document of several), that document, because the sources
  locate such a document by the line it starts on.
* `(line, index)`: record `index` of the document on (or starting on) that line: a CloudTrail
  delivery line, an Azure `{"records": [...]}` line.
* `(None, index)`: record `index` of a document written on several lines, streamed with the
  sources' own splitters (`ctstream` for CloudTrail's `Records` arrays, `jsonany` otherwise),
  so a document of any size is found in the memory of one record.

Keys not found are absent from the answer; each caller says what that means (an excerpt is
left out, an export is refused).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import orjson

from auditor.config.bundlefs import BundleFS
from auditor.sources.base import FileResult, HashingStream
from auditor.sources.cloudtrail import MAX_DELIVERY_LINE_BYTES
from auditor.sources.ctstream import START, stream_records
from auditor.sources.jsonany import document_at, documents
from auditor.sources.jsondoc import records_of

#: How far into a file a record is looked for (an event located beyond it is not found).
MAX_LINE = 50_000_000
#: The longest line looked at: the longest any source reads (a CloudTrail delivery line).
MAX_LINE_BYTES = MAX_DELIVERY_LINE_BYTES

#: (line, record index) as the report locates an event.
Key = tuple[int | None, int | None]


@dataclass(frozen=True)
class Hit:
    """What a key found. `(line, None)`: `raw`, the line's bytes (or, for a document that only
    starts on the line, the document as one sorted line, and `value` the document). A record
    key: `value`, the parsed record."""

    raw: bytes | None = None
    value: Any = None


def find(fs: BundleFS, rel: str, keys: Iterable[Key]) -> dict[Key, Hit]:
    """The records of file `rel` (a path the bundle's filesystem already confined) that `keys`
    name. May raise OSError, EOFError or ValueError for a file that cannot be read again."""
    wanted = set(keys)
    out: dict[Key, Hit] = {}
    by_line: dict[int, set[int | None]] = {}
    for line, record in wanted:
        if line is not None and 1 <= line <= MAX_LINE:
            by_line.setdefault(line, set()).add(record)
    if by_line:
        for n, raw in _lines(fs, rel, max(by_line)):
            if n in by_line:
                out.update(_on_line(fs, rel, n, raw, by_line[n]))
    indices = {r for line, r in wanted if line is None and r is not None and r >= 0}
    if indices:
        out.update(((None, i), Hit(value=v)) for i, v in _document_records(fs, rel, indices))
    return out


def _stream(fs: BundleFS, rel: str) -> HashingStream:
    return HashingStream(fs.open(rel), rel)


def _lines(fs: BundleFS, rel: str, last: int) -> Iterator[tuple[int, bytes]]:
    """(number, bytes without the line end) up to line `last`; a line over MAX_LINE_BYTES is
    skipped in bounded memory (no source read a record from it)."""
    hashing = _stream(fs, rel)
    n = 0
    while n < last:
        raw = hashing.stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        n += 1
        if len(raw) > MAX_LINE_BYTES:
            if not raw.endswith(b"\n"):
                hashing.skip_line()
            continue
        yield n, raw.rstrip(b"\r\n")


def _on_line(
    fs: BundleFS, rel: str, n: int, raw: bytes, records: set[int | None]
) -> Iterator[tuple[Key, Hit]]:
    doc: Any = None
    line = Hit(raw=raw)
    if raw.lstrip()[:1] in (b"{", b"[", b"/"):
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            doc = _document_from(fs, rel, n)
            if doc is not None:
                line = Hit(_dumped(doc), doc)
    for record in records:
        if record is None:
            yield (n, None), line
        elif doc is not None and (value := _index(doc, record)) is not _MISSING:
            yield (n, record), Hit(value=value)


def _document_from(fs: BundleFS, rel: str, n: int) -> Any:
    """The JSON document that starts on line `n` and goes on over the next ones, or None."""
    stream = _stream(fs, rel).stream
    return document_at(islice(iter(lambda: stream.readline(MAX_LINE_BYTES + 1), b""), n - 1, None))


_MISSING = object()


def _dumped(doc: Any) -> bytes | None:
    """A document as one line of sorted JSON (None past orjson's 255 levels of nesting)."""
    try:
        return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return None


def _index(doc: Any, index: int) -> Any:
    """Record `index` of a document (its records array, or the document itself at index 0)."""
    items = records_of(doc)
    if items is None:
        return doc if index == 0 and isinstance(doc, dict) else _MISSING
    return items[index] if 0 <= index < len(items) else _MISSING


def _document_records(fs: BundleFS, rel: str, indices: set[int]) -> Iterator[tuple[int, Any]]:
    """(index, record) for the wanted records of a document written on several lines, read as
    the source that located them reads it, up to the last one wanted."""
    scratch = FileResult(rel, "locate")
    stream = _stream(fs, rel)
    head = stream.stream.peek(1 << 16)[: 1 << 16]
    last = max(indices)
    if START.match(head):
        for i, rec in enumerate(stream_records(stream.chunks(), scratch)):
            if i in indices:
                yield i, rec
            if i >= last:
                return
        return
    for rec, line, index in documents(stream.lines(scratch, sweep=False), scratch, head, True):
        if line is not None:
            continue
        if index is None:  # the file is one document: its records array (`events`, ...) or it
            for i in sorted(indices):
                if (value := _index(rec, i)) is not _MISSING:
                    yield i, value
            return
        if index in indices:
            yield index, rec
        if index >= last:
            return
