"""JSON in any layout, read as records with the line each record starts on.

Real tools write JSON every way: one object per line (JSON lines), one pretty-printed document
(`aws ... --output json`, `gcloud logging read --format=json`), several documents one after the
other (`jq .` over a stream, `docker inspect` appended to a file), a top-level array of records,
a `{"Records": [...]}` / `{"records": [...]}` / `{"entries": [...]}` wrapper, and documentation
examples with `//` and `/* */` comments. Every JSON source reads all of them through `records`.

* `layout` tells the two families apart from the first 64 KiB: JSON lines when the first
  value (comment lines aside) is one whole line; documents otherwise.
* JSON lines are parsed a line at a time with orjson (the fast path, unchanged): a line that is
  not JSON is one error for that line; a line that is a JSON array is its records.
* Documents stream through ijson (`multiple_values=True`: concatenated documents), fed one line
  at a time, so memory holds one record and a line; a record's start line is found by counting
  brackets outside strings on the same lines. A wrapper's array or a top-level array streams
  record by record; any other document is one record (at most `MAX_DOCUMENT_BYTES`).
* Records are located as the evidence pack (`auditor.evidence_pack.records.cut`) and the
  report excerpt read them back: a record of a JSON line by its line (and its index in the
  line's array); a record of a multi-line array document, or of a file that is one document,
  by its index alone (line None), as before; each of several documents one after the other by
  the line it starts on (and its index in the document's array).
  The error of a document that was not read names the line it starts on.
* Comments are removed by `CommentFilter` line by line before parsing, with the newlines kept,
  so line numbers stay those of the file; `//` inside a string is text, not a comment.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

import ijson
import orjson

from auditor.core.errors import InputIssue
from auditor.sources.base import MAX_LINE_BYTES, FileResult, HashingStream

#: A document that is one record (not an array of records) larger than this is not read.
MAX_DOCUMENT_BYTES = MAX_LINE_BYTES
#: Keys whose array holds the records of a wrapper document (Azure exports, Cloud Logging
#: API `entries`, CloudTrail `Records`).
ARRAY_KEYS = ("records", "Records", "entries")
_WRAPPER = re.compile(rb'\s*\{\s*"(records|Records|entries)"\s*:\s*\[')
_ARRAY = re.compile(rb"\s*\[")
_STRING = re.compile(rb'"(?:[^"\\\n]|\\.)*"')
_COMMENT_OR_STRING = re.compile(rb'"(?:[^"\\\n]|\\.)*"?|//|/\*')
_BRACKETS = re.compile(rb"[\[\]{}]")


class CommentFilter:
    """Removes `//` and `/* */` comments line by line, keeping every newline (and so every
    line number); text inside JSON strings is never taken for a comment."""

    def __init__(self) -> None:
        self.in_block = False

    def feed(self, line: bytes) -> bytes:
        """`line` without its comments (a line inside a block comment becomes empty)."""
        nl = b"\n" if line.endswith(b"\n") else b""
        if self.in_block:
            end = line.find(b"*/")
            if end == -1:
                return nl
            self.in_block = False
            line = b" " * (end + 2) + line[end + 2 :]
        if b"/" not in line:
            return line
        out = bytearray()
        pos = 0
        while True:
            m = _COMMENT_OR_STRING.search(line, pos)
            if m is None:
                out += line[pos:]
                return bytes(out)
            token = m.group()
            if token == b"//":
                out += line[pos : m.start()]
                return bytes(out) + nl
            if token == b"/*":
                out += line[pos : m.start()]
                end = line.find(b"*/", m.end())
                if end == -1:
                    self.in_block = True
                    return bytes(out) + nl
                out += b" " * (end + 2 - m.start())
                pos = end + 2
                continue
            out += line[pos : m.end()]
            pos = m.end()


def strip_comments(data: bytes) -> bytes:
    """`data` (a head or a small document) without comments, line numbers kept."""
    filt = CommentFilter()
    return b"".join(filt.feed(line) for line in data.splitlines(keepends=True))


def layout(head: bytes) -> str:
    """`lines` (JSON lines) or `documents` (pretty-printed, concatenated, commented), from the
    first 64 KiB of a file: JSON lines when its first value (comment lines aside) is one whole
    line, as it has always been decided; a broken line further down is an error of its own."""
    text = strip_comments(head)
    lines = text.split(b"\n")
    first = next((line for line in lines[:-1] if line.strip()), None)
    if first is None:  # one line, or no newline in the head
        first = text if len(lines) == 1 else b""
    if not first.strip():
        return "lines"
    try:
        orjson.loads(first)
    except orjson.JSONDecodeError:
        return "documents"
    return "lines"


def first_record(head: bytes) -> Any:
    """The first record of a file from its first bytes, in any layout (None when the head
    holds no whole record): what content detection looks at."""
    text = strip_comments(head)
    if layout(head) == "lines":
        for line in text.split(b"\n"):
            if line.strip():
                try:
                    value = orjson.loads(line)
                except orjson.JSONDecodeError:
                    return None
                return value[0] if isinstance(value, list) and value else value
        return None
    sink = ijson.sendable_list()
    coro = ijson.items_coro(sink, _prefix(text), use_float=True, multiple_values=True)
    try:
        coro.send(text)
    except ijson.JSONError:
        pass
    return sink[0] if sink else None


def first_doc(head: bytes) -> Any:
    """The first whole document of a file from its first bytes (None when the head does not
    hold all of it)."""
    text = strip_comments(head)
    sink = ijson.sendable_list()
    coro = ijson.items_coro(sink, "", use_float=True, multiple_values=True)
    try:
        coro.send(text)
    except ijson.JSONError:
        pass
    return sink[0] if sink else None


def _prefix(head: bytes) -> str:
    m = _WRAPPER.match(head)
    if m is not None:
        return m.group(1).decode() + ".item"
    return "item" if _ARRAY.match(head) else ""


def records(
    stream: HashingStream, result: FileResult, arrays: bool = True
) -> Iterator[tuple[Any, int | None, int | None]]:
    """(record, start line, index in its array) for every record of the file, in any layout.

    `arrays=False` keeps a wrapper document whole (one record) for sources that read the
    wrapper themselves. A record the consumer did not read (no record counted, no event) is
    handed to the file's sweep when the consumer asks for the next one.
    """
    head = stream.stream.peek(1 << 16)[: 1 << 16]
    if layout(head) == "lines":
        yield from _lines(stream, result, arrays)
    else:
        yield from documents(stream.lines(result, sweep=False), result, head, arrays)


def records_in(
    data: bytes, result: FileResult, first_line: int = 1
) -> Iterator[tuple[Any, int | None, int | None]]:
    """`records` of bytes already read (a document of at most MAX_DOCUMENT_BYTES)."""
    numbered = enumerate(data.splitlines(keepends=True), first_line)
    yield from documents(numbered, result, data[: 1 << 16], True)


def _lines(
    stream: HashingStream, result: FileResult, arrays: bool
) -> Iterator[tuple[Any, int | None, int | None]]:
    filt: CommentFilter | None = None
    for lineno, raw in stream.lines(result, sweep=False):
        if raw.isspace():
            continue
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            filt = filt or CommentFilter()
            bare = filt.feed(raw)
            if not bare.strip():
                continue  # a comment line
            try:
                value = orjson.loads(bare)
            except orjson.JSONDecodeError:
                result.issues.append(
                    InputIssue(result.path, f"malformed JSON: {exc.msg}", line=lineno)
                )
                result.sweep_line(raw, lineno)
                continue
        items = _items(value) if arrays else None
        if items is None:
            yield from _watch(result, value, lineno, None)
        else:
            for index, item in enumerate(items):
                yield from _watch(result, item, lineno, index)


def _items(value: Any) -> list[Any] | None:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        for key in ARRAY_KEYS:
            if isinstance(value.get(key), list):
                return list(value[key])
    return None


def _watch(
    result: FileResult,
    rec: Any,
    line: int | None,
    index: int | None,
    document: bool = False,
    start: int | None = None,
) -> Iterator[tuple[Any, int | None, int | None]]:
    """Yield one record; sweep it when the consumer read nothing from it. The error of a
    whole document that was not read names its top-level keys (an unknown shape shows) and
    the line the document starts on (`start`); the swept hits keep the record's locator."""
    mark = (result.records, len(result.events))
    issues = len(result.issues)
    yield rec, line, index
    if (result.records, len(result.events)) != mark:
        return
    if document and len(result.issues) == issues + 1:
        last = result.issues[-1]
        message = f"{last.message} ({keys_of(rec)})"
        at = last.line if last.line is not None else start
        result.issues[-1] = InputIssue(last.file, message, at, last.record)
    # a swept hit keeps the record's own locator, so the evidence pack finds the record again
    result.sweep_record(rec, line, index)


def documents(
    numbered: Iterable[tuple[int, bytes]], result: FileResult, head: bytes, arrays: bool
) -> Iterator[tuple[Any, int | None, int | None]]:
    """The records of documents whose (line number, line) pairs `numbered` yields."""
    prefix = _prefix(strip_comments(head)) if arrays else ""
    depth_of_record = prefix.count(".") + (1 if prefix else 0)
    sink = ijson.sendable_list()
    coro = ijson.items_coro(sink, prefix, use_float=True, multiple_values=True)
    filt = CommentFilter()
    starts: deque[int] = deque()
    depth = 0
    index = 0
    size = 0
    lineno = 0
    held: tuple[Any, int] | None = None
    for lineno, raw in numbered:
        text = filt.feed(raw)
        depth = _starts(text, depth, depth_of_record, lineno, starts)
        size += len(text)
        try:
            coro.send(text)
        except ijson.JSONError as exc:
            _parse_error(result, exc, lineno)
            break
        for item in sink:
            start = starts.popleft() if starts and isinstance(item, dict | list) else lineno
            if prefix:  # a record of the array: found again by its index
                yield from _watch(result, item, None, index, False, start)
            elif held is None and index == 0:
                held = (item, start)  # one document, or the first of several: not known yet
            else:
                if held is not None:
                    yield from _document(result, *held, held[1], arrays)
                    held = None
                yield from _document(result, item, start, start, arrays)
            index += 1
        if sink:
            del sink[:]
            size = 0
        elif size > MAX_DOCUMENT_BYTES and not prefix:
            result.issues.append(
                InputIssue(
                    result.path,
                    f"JSON document larger than {MAX_DOCUMENT_BYTES:,} bytes that is not an "
                    "array of records: the rest of the file is not read",
                    line=starts[0] if starts else lineno,
                )
            )
            break
    else:
        try:
            coro.close()
        except ijson.JSONError:
            result.issues.append(
                InputIssue(
                    result.path,
                    "the JSON document ends inside a value (truncated?)",
                    line=starts[0] if starts else lineno,
                )
            )
            index += 1  # a broken document after the first: the first is not the whole file
        if held is not None and index == 1:  # the file is one document: located as a whole
            yield from _document(result, held[0], None, held[1], arrays)
            return
    if held is not None:
        yield from _document(result, *held, held[1], arrays)


def _document(
    result: FileResult, doc: Any, line: int | None, start: int, arrays: bool
) -> Iterator[tuple[Any, int | None, int | None]]:
    """The records of one whole document: itself, or its wrapper's array."""
    whole = _items(doc) if arrays else None
    if whole is None:
        yield from _watch(result, doc, line, None, True, start)
    else:
        for i, rec in enumerate(whole):
            yield from _watch(result, rec, line, i, False, start)


def document_at(lines: Iterable[bytes]) -> Any:
    """The JSON document that starts on the first of `lines` (comments allowed), or None when
    it does not parse: how the evidence pack cuts one document of several out of a file."""
    sink = ijson.sendable_list()
    coro = ijson.items_coro(sink, "", use_float=True, multiple_values=True)
    filt = CommentFilter()
    size = 0
    try:
        for raw in lines:
            coro.send(filt.feed(raw))
            size += len(raw)
            if sink or size > MAX_DOCUMENT_BYTES:
                break
    except ijson.JSONError:
        return None
    return sink[0] if sink else None


def _starts(text: bytes, depth: int, at: int, lineno: int, starts: deque[int]) -> int:
    """Track bracket depth over one line; note this line once per record that opens on it."""
    if b'"' in text:
        text = _STRING.sub(b'""', text)
    for m in _BRACKETS.finditer(text):
        ch = m.group()
        if ch in b"[{":
            if depth == at:
                starts.append(lineno)
            depth += 1
        else:
            depth -= 1
    return depth


def _parse_error(result: FileResult, exc: Exception, lineno: int) -> None:
    first = str(exc).split("\n", 1)[0].strip() or "invalid JSON"
    result.issues.append(
        InputIssue(
            result.path,
            f"malformed JSON: {first}; the rest of the file is not read",
            line=lineno,
        )
    )


def keys_of(rec: Any) -> str:
    """`top-level keys: a, b, c` of a record (for the error of an unknown shape)."""
    if isinstance(rec, dict):
        names = list(rec)[:12]
        more = f", ... ({len(rec)} in all)" if len(rec) > 12 else ""
        return "top-level keys: " + (", ".join(map(str, names)) or "none") + more
    return f"a JSON {type(rec).__name__}, not an object"
