"""Split a CloudTrail `{"Records": [...]}` document (or a top-level array) into records as it
streams, in bounded memory.

A pretty-printed file of a million records is a gigabyte; parsed whole it would be several
gigabytes of Python objects. Here only one record (at most MAX_RECORD_BYTES) and one read buffer
are held at a time. Candidate record ends are found with a regular expression (`}` followed by
`, {` or `]`) and confirmed by parsing the piece: a piece that starts at a record's first byte
and parses is exactly that record (a JSON value ends where its closing bracket is). A candidate
inside a nested object or a string leaves a piece that ends early ("unexpected end of data"), so
the piece is extended to the next candidate; an error before the end of the piece means the
record itself is malformed. Anything that stops the split is one located issue; every record
before it has been read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from auditor.core.errors import InputIssue
from auditor.sources.base import FileResult

#: One record larger than this ends the split with an error (CloudTrail caps events at 256 KB).
MAX_RECORD_BYTES = 4 << 20
#: `{"Records": [` or `[` at the start of a document (after whitespace).
START = re.compile(rb'\s*(?:\{\s*"Records"\s*:\s*)?\[')
_END = re.compile(rb"\}\s*(?:,\s*\{|\])")
#: CloudTrail writes `eventVersion` first in every record: when the first record starts so, only
#: `}, {"eventVersion"` can end a record, which skips the nested `},{` of `resources` arrays.
_END_CT = re.compile(rb'\}\s*(?:,\s*\{\s*"eventVersion"|\])')
_CT_FIRST = re.compile(rb'\{\s*"eventVersion"')
_SPACE = re.compile(rb"\s*")
_COMPACT_AT = 1 << 20
#: Of the unread rest in the buffer when the split stops, this much is swept.
_SWEPT = 1 << 20
_TOO_LONG = (
    f"record longer than the limit of {MAX_RECORD_BYTES:,} bytes (or not valid JSON): "
    "the rest of the file is not read"
)


class RecordStream:
    """The records of a document as `stream_records` splits them; `line` is the line the
    record last yielded starts on (the split counts lines anyway, so it costs nothing)."""

    def __init__(self, chunks: Iterable[bytes], result: FileResult, first_line: int) -> None:
        self.line = first_line
        self._records = _split(chunks, result, first_line, self)

    def __iter__(self) -> Iterator[Any]:
        return self._records

    @classmethod
    def placed(cls, records: Iterable[Any], line: int) -> RecordStream:
        """Records already parsed that start on `line` (one pretty-printed record)."""
        out = cls([], FileResult(path="", source=""), line)
        out._records = iter(records)
        return out


def stream_records(
    chunks: Iterable[bytes], result: FileResult, first_line: int = 1
) -> RecordStream:
    """The records of the document whose bytes `chunks` yields; problems go to `result`."""
    return RecordStream(chunks, result, first_line)


class _Buffer:
    """The read buffer of one split, and how it reports.

    The split's phases (finding the array, then each record) all read more of the same chunks
    into the same buffer and report the same way; holding that here lets each phase be a
    function of its own. `buf` is only ever changed in place (extended, or compacted by the
    split), so every phase sees the same bytes."""

    def __init__(self, chunks: Iterable[bytes], result: FileResult) -> None:
        self.it = iter(chunks)
        self.buf = bytearray()
        self.eof = False
        self.result = result

    def more(self) -> bool:
        """Read the next chunk into the buffer; False (and `eof`) when there is none."""
        for part in self.it:
            self.buf.extend(part)
            return True
        self.eof = True
        return False

    def issue(
        self, message: str, line: int, record: int | None, rest: tuple[int, int] | None = None
    ) -> None:
        """One located issue that stops the split; `rest` (offset, its line): what is left
        unread in the buffer goes to the suspected sweep."""
        result = self.result
        result.issues.append(InputIssue(result.path, message, line=line, record=record))
        if rest is not None:
            at, first = rest
            for n, piece in enumerate(bytes(self.buf[at : at + _SWEPT]).split(b"\n")):
                result.sweep_line(piece, first + n)


def _split(
    chunks: Iterable[bytes], result: FileResult, first_line: int, out: RecordStream
) -> Iterator[Any]:
    b = _Buffer(chunks, result)
    buf = b.buf
    pos = _array_start(b, first_line)
    if pos is None:
        return
    line = first_line + buf.count(b"\n", 0, pos)
    index = 0
    while len(buf) - pos < 64 and not b.eof:
        b.more()
    ends = _END_CT if _CT_FIRST.match(buf, _SPACE.match(buf, pos).end()) else _END  # type: ignore[union-attr]
    while True:
        if pos > _COMPACT_AT:  # drop what has been read (one memmove per megabyte)
            del buf[:pos]
            pos = 0
        space = _SPACE.match(buf, pos)
        assert space is not None
        line += buf.count(b"\n", pos, space.end())
        pos = space.end()
        if pos >= len(buf):
            if b.more():
                continue
            b.issue("the document ends inside the Records array (truncated?)", line, index)
            return
        if buf[pos] == ord("]"):
            return
        found = _record_at(b, ends, pos, line, index)
        if found is None:
            return
        record, next_pos = found
        out.line = line
        yield record
        index += 1
        line += buf.count(b"\n", pos, next_pos)
        pos = next_pos


def _array_start(b: _Buffer, first_line: int) -> int | None:
    """Where the first record may start: just after the opening `{"Records": [` or `[` (read
    until it is seen, the input ends, or 64 KB have shown none); None, reported, without one."""
    while True:
        m = START.match(b.buf)
        if m is not None or b.eof or len(b.buf) > 1 << 16:
            break
        b.more()
    if m is None:
        b.issue("not a CloudTrail Records document", first_line, None)
        return None
    return m.end()


def _record_at(
    b: _Buffer, ends: re.Pattern[bytes], start: int, line: int, index: int
) -> tuple[Any, int] | None:
    """The record that starts at `start`, and where the next one (its `{`, or the closing `]`)
    starts; None, reported, when the split must stop there.

    Candidate ends are tried in order: a piece that parses is the record; one that ends early
    (the candidate was inside a nested object or a string) is extended to the next candidate,
    reading more when there is none yet."""
    buf = b.buf
    search = start
    while True:
        m = ends.search(buf, search)
        if m is None:
            if len(buf) - start > MAX_RECORD_BYTES:
                b.issue(_TOO_LONG, line, index, (start, line))
                return None
            if b.more():
                continue
            b.issue("the document ends inside a record (truncated?)", line, index, (start, line))
            return None
        end = m.start() + 1
        if end - start > MAX_RECORD_BYTES:
            b.issue(_TOO_LONG, line, index, (start, line))
            return None
        try:
            record = orjson.loads(bytes(buf[start:end]))
        except orjson.JSONDecodeError as exc:
            if exc.pos is not None and exc.pos < end - start:
                at = line + buf.count(b"\n", start, start + exc.pos)
                b.issue(
                    f"malformed JSON in record {index}: {exc.msg}; the rest of the file "
                    "is not read",
                    at,
                    index,
                    (start, line),
                )
                return None
            search = end
            continue
        next_pos = (
            buf.rindex(b"{", m.start(), m.end()) if buf[m.end() - 1] != ord("]") else m.end() - 1
        )  # the next record's `{`, or the closing `]`
        return record, next_pos


RECORDS_HEAD = b'{"Records":['
#: CloudTrail writes `eventVersion` first in every record, so in delivery files this marks the
#: boundaries between records (a `"` inside a string is escaped, so it never matches there).
_DELIVERY_CUT = b'},{"eventVersion":'
_GENERIC_CUT = b'},{"'
_SPACE_BYTES = frozenset(b" \t\r\n")


def split_records(raw: bytes) -> Iterator[Any]:
    """The records of a one-line `{"Records":[...]}` document, parsed one at a time.

    Candidate boundaries are found with `bytes.find`; a candidate that falls inside a record
    (an array of objects nested in it) leaves an unbalanced piece that does not parse, so the
    piece is extended to the next candidate. A piece that starts at a record's first byte and
    parses is exactly that record: a prefix of a valid JSON text that is a whole value ends
    where the value ends. Raises `orjson.JSONDecodeError` when the line is not such a document
    (the caller then parses it whole); every piece parsed means the line was valid JSON.
    """
    end = len(raw)
    while end and raw[end - 1] in _SPACE_BYTES:
        end -= 1
    stop = end - 2
    start = len(RECORDS_HEAD)
    if stop < start or raw[stop:end] != b"]}":
        raise orjson.JSONDecodeError("not a one-line Records document", "", 0)
    cut_at = _DELIVERY_CUT if raw.startswith(b'{"eventVersion":', start) else _GENERIC_CUT
    view = memoryview(raw)
    loads = orjson.loads
    pos = start
    while start < stop:
        cut = raw.find(cut_at, pos, stop)
        if cut == -1:
            yield loads(view[start:stop])
            return
        try:
            rec = loads(view[start : cut + 1])
        except orjson.JSONDecodeError:
            pos = cut + 1  # the cut is inside a record: take in the next piece too
            continue
        yield rec
        start = pos = cut + 2


def looks_like_lines(data: bytes) -> bool:
    """True when the second non-empty line is a JSON object of its own (JSON lines)."""
    lines = [x for x in data.split(b"\n", 3)[:3] if x.strip()]
    if len(lines) < 2:
        return False
    try:
        return isinstance(orjson.loads(lines[1]), dict)
    except orjson.JSONDecodeError:
        return False
