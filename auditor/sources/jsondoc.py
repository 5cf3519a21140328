"""JSON documents of a file, whether it holds one object per line or pretty-printed documents.

The layouts are read by `jsonany` (JSON lines, pretty-printed, concatenated, arrays, comments).
Cloud exports come every way (`gcloud logging read --format=json` writes an indented array,
Azure storage exports one record per line or a `{"records": [...]}` document, a Lambda test
event is indented). Sources use `records` (each record with the line it starts on and
its index in its array) or `documents` (each document whole), and what does not parse is
reported where it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from auditor.sources import jsonany
from auditor.sources.base import FileResult, HashingStream, ReadJob


def documents(stream: HashingStream, result: FileResult) -> Iterator[tuple[Any, int | None]]:
    """(value, line) for each JSON document, in any layout (`jsonany`): per line, pretty-printed,
    concatenated, commented; a wrapper document stays whole."""
    for doc, line, _ in jsonany.records(stream, result, arrays=False):
        yield doc, line


#: The filler record of an evidence archive's sparse bundle (auditor/evidence_pack/sparse.py):
#: it stands at the indices of records that were not published, so it is counted and skipped.
FILLER_SOURCE = "filler.auditor.invalid"
#: `events` / `logEvents`: CloudWatch Logs exports and subscription payloads, whose events the
#: `wrapped` source locates by their index.
_ARRAY_KEYS = ("records", "Records", "entries", "events", "logEvents")


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
    for rec, line, index in jsonany.records(stream, result):
        if is_filler(rec):
            result.records += 1
        else:
            yield rec, line, index


def dig(obj: Any, *keys: str) -> Any:
    """obj[k1][k2]... or None when a step is missing or not an object."""
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


class RecordSource:
    """The entry points of a source that reads JSON records one at a time, in a file of its own
    (any layout, `records`) or handed over by a wrapper (`sources.wrapped`), through one
    `record` method: the two ways in cannot drift apart.

    `read` hands each record to `read_record` with one `state` per file, as a wrapper does, so
    a source that must remember earlier records of its file (Double Take's repeated ids)
    overrides `read_record` alone and still has one way in."""

    name: str

    def read(self, job: ReadJob, stream: HashingStream, result: FileResult) -> None:
        """See `Source.read`."""
        state: dict[str, Any] = {}
        for rec, line, index in records(stream, result):
            self.read_record(job, rec, line, index, result, state)

    def read_record(
        self,
        job: ReadJob,
        rec: Any,
        line: int | None,
        index: int | None,
        result: FileResult,
        state: dict[str, Any],
    ) -> None:
        """One record, from `read` or from a wrapper; `state` lives as long as the file, and
        a source that keeps no state between records (most) leaves it to `record`."""
        self.record(job, rec, line, index, result)

    def record(
        self, job: ReadJob, rec: Any, line: int | None, index: int | None, result: FileResult
    ) -> None:
        """Read one record (`line`: where it starts, `index`: its place in an array)."""
        raise NotImplementedError
