"""JSON documents of a file, whether it holds one object per line or one pretty-printed document.

Cloud exports come both ways (`gcloud logging read --format=json` writes an indented array,
Azure storage exports one record per line or a `{"records": [...]}` document, a Lambda test
event is indented). Sources that accept either use `documents`, which yields each parsed value
with its line number (None for a whole-file document) and reports what does not parse.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from auditor.core.errors import InputIssue
from auditor.sources.base import FileResult, HashingStream


def documents(stream: HashingStream, result: FileResult) -> Iterator[tuple[Any, int | None]]:
    """(value, line) for each JSON value: per line, or the whole file when it is indented."""
    head = stream.stream.peek(1 << 16).lstrip()
    if b"\n" in head:
        try:
            orjson.loads(head.split(b"\n", 1)[0])
        except orjson.JSONDecodeError:
            yield from _whole(stream, result)
            return
    for lineno, raw in stream.lines(result):
        if not raw.strip():
            continue
        try:
            yield orjson.loads(raw), lineno
        except orjson.JSONDecodeError as exc:
            result.issues.append(InputIssue(result.path, f"malformed JSON: {exc.msg}", line=lineno))


def _whole(stream: HashingStream, result: FileResult) -> Iterator[tuple[Any, int | None]]:
    data = stream.read_all(result)
    if data is None:
        return
    try:
        yield orjson.loads(data), None
    except orjson.JSONDecodeError as exc:
        at = data[: exc.pos].count(b"\n") + 1 if exc.pos is not None else None
        result.issues.append(InputIssue(result.path, f"malformed JSON: {exc.msg}", line=at))


#: The filler record of an evidence archive's sparse bundle (auditor/evidence_pack/records.py):
#: it stands at the indices of records that were not published, so it is counted and skipped.
FILLER_SOURCE = "filler.auditor.invalid"
_ARRAY_KEYS = ("records", "Records", "entries")


def records_of(doc: Any) -> list[Any] | None:
    """The records of a whole document: a JSON array, or the array under `records` (Azure
    exports), `entries` (Cloud Logging API) or `Records` (the sparse bundle `verify` rebuilds);
    None when `doc` is a single record."""
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        for key in _ARRAY_KEYS:
            if isinstance(doc.get(key), list):
                return list(doc[key])
    return None


def is_filler(rec: Any) -> bool:
    """True for the sparse bundle's filler record."""
    return isinstance(rec, dict) and rec.get("eventSource") == FILLER_SOURCE


def records(
    stream: HashingStream, result: FileResult
) -> Iterator[tuple[Any, int | None, int | None]]:
    """(record, line, index in its document) for every record of the file.

    A document that is one record gives index None; the records of an array document come one
    by one with their index; filler records are counted here and never reach the source.
    """
    for doc, line in documents(stream, result):
        items = records_of(doc)
        if items is None:
            yield doc, line, None
            continue
        for index, item in enumerate(items):
            if is_filler(item):
                result.records += 1
            else:
                yield item, line, index


def dig(obj: Any, *keys: str) -> Any:
    """obj[k1][k2]... or None when a step is missing or not an object."""
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj
