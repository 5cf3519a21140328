"""AWS CloudTrail in the shapes found in real archives.

* `{"Records": [...]}` files as delivered to S3, plain or `.json.gz`: one line is split into
  records with `bytes.find`; a pretty-printed document, or a line over the line limit, is split
  as it streams (`ctstream`), so memory stays bounded whatever the file's size;
* one record per line (Logstash/Firehose copies, where `eventTime` may be `@timestamp`);
* Event-history exports (`aws cloudtrail lookup-events`, its `{"Events": [...]}` output or one
  event per line), whose record is a JSON *string* in `CloudTrailEvent`;
* any JSON layout of these records (`jsonany`): `jq '.Records[]'` output (pretty-printed records
  one after the other), arrays, documents with comments.

The hot loop does two dictionary lookups per record and leaves the background traffic there;
only face operations become `Event`s.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable
from dataclasses import replace
from itertools import chain
from typing import Any

import orjson

from auditor.catalogue.operations import canonical_service, classify
from auditor.core.errors import InputIssue
from auditor.core.models import Event, Notice, OperationKind
from auditor.core.timefmt import parse_time
from auditor.sources import ctrecord, ctstream, jsonany
from auditor.sources.base import (
    MAX_LINE_BYTES,
    FileResult,
    HashingStream,
    ReadJob,
    broken_stream_message,
    frame_refs,
    long_line_message,
)
from auditor.sources.ctstream import RECORDS_HEAD as _RECORDS_HEAD
from auditor.sources.ctstream import START, looks_like_lines, split_records, stream_records

NAME = "cloudtrail"
#: A one-line `{"Records":[...]}` delivery file up to this size is held whole and cut with
#: `bytes.find` (the fast path, about 3x less CPU); a longer one is split as it streams.
MAX_DELIVERY_LINE_BYTES = 32 << 20

#: Of a document that does not parse, this much is handed to the suspected sweep.
MAX_SWEEP_BYTES = 1 << 20


class CloudTrailSource:
    """See `Source.read`."""

    name = NAME

    def read(self, job: ReadJob, stream: HashingStream, result: FileResult) -> None:
        """See `Source.read`: whole-file mode for Records files, line mode otherwise."""
        head = stream.stream.peek(1 << 16).lstrip()
        newline = head.find(b"\n")
        whole = False
        if newline != -1:
            # A first line that is not a whole JSON value means a pretty-printed (or broken)
            # document: read it whole. S3 delivery files are one line and stream as lines.
            try:
                orjson.loads(head[:newline])
            except orjson.JSONDecodeError:
                whole = True
        try:
            if whole and jsonany.strip_comments(head) != head:
                # a commented document (as documentation examples are written)
                for rec, line, index in jsonany.records(stream, result):
                    self._record(job, rec, result, line, index)
            elif not whole:
                self._read_lines(job, stream, result)
            elif START.match(head) and not looks_like_lines(head):
                line = 1 if head.count(b"\n", 0, 4096) <= 1 else None
                self._records(job, stream_records(stream.chunks(), result), result, line)
            else:
                self._read_whole(job, stream, result)
        except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
            result.issues.append(InputIssue(result.path, broken_stream_message(exc)))

    def read_record(
        self,
        job: ReadJob,
        rec: Any,
        line: int | None,
        index: int | None,
        result: FileResult,
        state: dict[str, Any],
    ) -> None:
        """One record (or `{"Records": [...]}` document) from a wrapper (`sources.wrapped`)."""
        inner = rec.get("Records", rec.get("Events")) if isinstance(rec, dict) else None
        if isinstance(inner, list):
            self._records(job, inner, result, line)
        else:
            self._record(job, rec, result, line, index)

    def _read_whole(self, job: ReadJob, stream: HashingStream, result: FileResult) -> None:
        """A document that is not a Records array (one pretty-printed record): read whole,
        up to the line limit."""
        data = stream.stream.read(MAX_LINE_BYTES + 1)
        if len(data) > MAX_LINE_BYTES:
            result.issues.append(
                InputIssue(
                    result.path,
                    f"JSON document larger than {MAX_LINE_BYTES:,} bytes that does not "
                    "start with a Records array: not read",
                )
            )
            return
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            if looks_like_lines(data):
                # JSON lines whose first line is broken: keep every other line
                for lineno, raw in enumerate(data.split(b"\n"), 1):
                    self._line(job, raw, result, lineno)
                return
            if data.lstrip()[:1] in (b"{", b"[") and exc.pos is not None and exc.pos > 0:
                # several documents one after the other, or a document with comments
                for rec, line, index in jsonany.records_in(data, result):
                    self._record(job, rec, result, line, index)
                return
            at = data[: exc.pos].count(b"\n") + 1 if exc.pos is not None else None
            result.issues.append(InputIssue(result.path, f"malformed JSON: {exc.msg}", line=at))
            result.sweep_line(data[:MAX_SWEEP_BYTES], at)
            return
        if isinstance(doc, dict) and isinstance(doc.get("Records"), list):
            records = doc["Records"]
        elif isinstance(doc, dict) and isinstance(doc.get("Events"), list):
            records = doc["Events"]  # `aws cloudtrail lookup-events --output json`
        elif isinstance(doc, list):
            records = doc
        elif isinstance(doc, dict) and ("eventName" in doc or "CloudTrailEvent" in doc):
            # one pretty-printed record: it starts where the document does
            start = 1 + data[: len(data) - len(data.lstrip())].count(b"\n")
            records = ctstream.RecordStream.placed([doc], start)
        else:
            result.issues.append(
                InputIssue(result.path, "not a CloudTrail file (no Records array)")
            )
            return
        line = 1 if data.count(b"\n", 0, 4096) <= 1 else None
        self._records(job, records, result, line)

    def _read_lines(self, job: ReadJob, stream: HashingStream, result: FileResult) -> None:
        lineno = 0
        try:
            while True:
                raw = stream.stream.readline(MAX_DELIVERY_LINE_BYTES + 1)
                if not raw:
                    return
                lineno += 1
                if len(raw) <= MAX_LINE_BYTES:
                    self._line(job, raw, result, lineno)
                elif not START.match(raw, 0, 1 << 16):
                    if not raw.endswith(b"\n"):
                        stream.skip_line()
                    result.issues.append(InputIssue(result.path, long_line_message(), line=lineno))
                elif len(raw) <= MAX_DELIVERY_LINE_BYTES:
                    # a big delivery file: the fast split, else split as it streams (never
                    # parsed whole, which would cost several times the line in objects)
                    if not (
                        raw.startswith(_RECORDS_HEAD)
                        and self._delivery_line(job, raw, result, lineno)
                    ):
                        self._records(job, stream_records([raw], result, lineno), result, lineno)
                else:
                    # a one-line Records document over the limit: split it as it streams
                    # (the document is the rest of the file)
                    records = stream_records(chain([raw], stream.chunks()), result, lineno)
                    self._records(job, records, result, lineno)
                    return
        except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
            result.issues.append(
                InputIssue(result.path, broken_stream_message(exc), line=lineno + 1)
            )

    def _line(self, job: ReadJob, raw: bytes, result: FileResult, lineno: int) -> None:
        if not raw or raw.isspace():  # same test as `not raw.strip()`, without copying the line
            return
        if raw.startswith(_RECORDS_HEAD) and self._delivery_line(job, raw, result, lineno):
            return
        try:
            rec = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            bare = jsonany.strip_comments(raw)
            if not bare.strip():
                return  # a comment line
            try:
                rec = orjson.loads(bare)
            except orjson.JSONDecodeError:
                result.issues.append(
                    InputIssue(result.path, f"malformed JSON: {exc.msg}", line=lineno)
                )
                result.sweep_line(raw, lineno)
                return
        inner = rec.get("Records", rec.get("Events")) if isinstance(rec, dict) else None
        if isinstance(inner, list):
            self._records(job, inner, result, lineno)
        else:
            self._record(job, rec, result, lineno, None)

    def _delivery_line(self, job: ReadJob, raw: bytes, result: FileResult, lineno: int) -> bool:
        """Fast path for a `{"Records":[...]}` line: parse it one record at a time.

        Parsing the whole line builds every record's objects at once (a 20 MB delivery file is
        about 60 MB of Python objects per worker); one record at a time keeps one record's,
        and runs about twice as fast because each record is still in the CPU cache when it is
        freed. The result is the same as parsing the line whole: when any piece is not valid
        JSON, everything this call added is taken back and it returns False, so the caller
        parses the line whole and reports the error exactly as before.
        """
        mark = (result.records, len(result.events), len(result.issues), len(result.notices))
        try:
            self._records(job, split_records(raw), result, lineno)
        except orjson.JSONDecodeError:
            result.records = mark[0]
            del result.events[mark[1] :], result.issues[mark[2] :], result.notices[mark[3] :]
            return False
        return True

    def _records(
        self, job: ReadJob, records: Iterable[Any], result: FileResult, line: int | None
    ) -> None:
        """The hot loop: background records are counted here and go no further.

        A record goes to `_record` (which validates, reports and builds the `Event`) unless it
        is plainly an object with string `eventSource` and `eventName` that the catalogue does
        not know, which is all but a few in a thousand in real trails. A streamed split tells
        the line each record starts on."""
        split = records if isinstance(records, ctstream.RecordStream) else None
        plain = 0
        try:
            for index, rec in enumerate(records):
                if split is not None:
                    result.boundary()  # a streamed document: between two records
                if type(rec) is dict and "CloudTrailEvent" not in rec:
                    source = rec.get("eventSource")
                    name = rec.get("eventName")
                    if type(source) is str and type(name) is str and classify(source, name) is None:
                        plain += 1
                        continue
                mark, events = result.records + len(result.events), len(result.events)
                self._record(job, rec, result, line, index)
                if split and line is None and len(result.events) > events:
                    result.events[-1] = replace(result.events[-1], start_line=split.line)
                if result.records + len(result.events) == mark:
                    result.sweep_record(rec, line, index)
        finally:
            result.records += plain

    def _record(
        self, job: ReadJob, rec: Any, result: FileResult, line: int | None, index: int | None
    ) -> None:
        opened = ctrecord.unwrap(rec, result, line, index)
        if opened is None:
            return
        rec, wrapper = opened
        source = rec.get("eventSource")
        name = rec.get("eventName")
        if not isinstance(source, str) or not isinstance(name, str):
            missing = "eventSource" if not isinstance(source, str) else "eventName"
            result.issues.append(
                InputIssue(result.path, f"missing field {missing}", line=line, record=index)
            )
            return
        result.records += 1
        kind = classify(source, name)
        if kind is None:
            return
        if name == "CreateStreamProcessor":
            kind = ctrecord.stream_processor_kind(rec.get("requestParameters"), kind)
        raw_time = rec.get("eventTime") or rec.get("@timestamp")
        if raw_time is None and wrapper is not None:
            raw_time = wrapper.get("EventTime")
        try:
            when = parse_time(raw_time)
        except ValueError as exc:
            result.records -= 1
            why = "missing eventTime" if raw_time is None else f"bad eventTime: {exc}"
            result.issues.append(InputIssue(result.path, why, line=line, record=index))
            return
        refs, attrs = ctrecord.request_details(rec)
        error_code = rec.get("errorCode")
        event = Event(
            source=NAME,
            file=result.path,
            time=when,
            service=canonical_service(source),
            operation=name,
            kind=kind,
            principal=ctrecord.principal(rec.get("userIdentity")),
            record=index,
            line=line,
            event_id=rec.get("eventID") if isinstance(rec.get("eventID"), str) else None,
            outcome="failed" if error_code else "succeeded",
            error_code=str(error_code) if error_code else None,
            frames=frame_refs(job, refs, result, line, index),
            attributes=tuple(sorted(attrs)),
        )
        result.events.append(event)
        if kind is OperationKind.SUSPECTED_FACE_MATCHING:
            result.notices.append(
                Notice(
                    result.path,
                    f"{source} {name} looks like face matching "
                    "but is not in the operation catalogue",
                    record=index,
                    line=line,
                    event_id=event.event_id,
                )
            )


SOURCE = CloudTrailSource()
