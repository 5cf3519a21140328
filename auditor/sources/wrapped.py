"""Wrapped logs: container, journald, syslog, Lambda and CloudWatch lines, peeled and read.

The wrapper of each line is peeled off (`peel`: compose prefixes, `docker logs --timestamps`,
`kubectl logs --prefix --timestamps`, CRI with partial lines joined, Docker's json-file
driver, `journalctl -o json`, RFC 3164 / RFC 5424 syslog, the Lambda Python runtime's
`[LEVEL]\\ttime\\trequest id\\tmessage`), and the line inside is detected again on its own
(`detect_inner`: an access-log line, a JSON record of a known source, a Python or JSON repr of
an event such as a Lambda handler prints) and given to that source's per-line or per-record
entry point (`read_line` / `read_record`, optional in the `Source` protocol). So one
`docker compose logs` file that mixes an nginx access log, a CompreFace JSON log and a Lambda's
event dumps is read per line, each line by the right source. CloudWatch Logs exports (`aws logs
filter-log-events` / `get-log-events` output, subscription-filter `DATA_MESSAGE` payloads) are
JSON documents whose records carry the wrapped line in `message`.

Line numbers stay those of the file; each event gets the wrapper's facts as attributes
(`wrapper`, `wrapped_stream`). A line whose inner content no source reads goes to the suspected
sweep with the wrapper's time.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import orjson

from auditor.core.errors import InputIssue
from auditor.core.timefmt import parse_time
from auditor.sources import accesslines, envelopes, jsonany, peel, syslogyear
from auditor.sources.appdetect import APP_LOGS, app_log_kind
from auditor.sources.base import FileResult, HashingStream, ReadJob
from auditor.sources.detect import json_kind
from auditor.sources.httplog import is_access_line
from auditor.sources.jsondoc import is_filler
from auditor.sources.sweeptime import line_time

NAME = "wrapped"
#: The longest inner text parsed as a Python literal (`ast.literal_eval`).
MAX_REPR_BYTES = 1 << 20
#: Parts of a line split by the wrapper (CRI `P`, json-file without a newline) are joined up to
#: this many bytes; a longer line is read from what was joined.
MAX_JOINED_BYTES = 1 << 20
_CT_KEYS = ("eventSource", "eventVersion", "CloudTrailEvent", "Records")
_CORE = ("time", "principal", "service", "operation")
#: `Records`: the sparse bundle `verify` rebuilds from an evidence archive puts the published
#: CloudWatch events back at their index under `Records`.
_CLOUDWATCH_KEYS = ("events", "logEvents", "Records")


def detect_inner(text: bytes) -> tuple[str | None, Any]:
    """(source name, parsed record or None) for one inner line; (None, None) when no source
    reads it. JSON and Python reprs of a record are looked for from the line's first `{`
    (Lambda handlers print `Received event: {...}`)."""
    s = text.strip()
    if not s:
        return None, None
    brace = s.find(b"{") if s[:1] != b"[" else 0
    if brace != -1:
        obj = envelopes.open_envelope(_value(s[brace:]))
        first = obj[0] if isinstance(obj, list) and obj else obj
        if isinstance(first, dict):
            return _json_source(first), obj
    if is_access_line(s):
        return "httplog", None
    app = app_log_kind(s)  # a recogniser's own log line (Double Take, Frigate, Viseron, ...)
    if app is not None:
        return app, None
    return None, None


def _json_source(obj: dict[str, Any]) -> str | None:
    kind = json_kind(obj)
    if kind is not None:
        return kind
    if any(k in obj for k in _CT_KEYS):
        return "cloudtrail"
    if all(k in obj for k in _CORE):
        return "jsonl"
    return None


def _value(s: bytes) -> Any:
    try:
        return orjson.loads(s)
    except orjson.JSONDecodeError:
        pass
    if len(s) > MAX_REPR_BYTES or not s.startswith((b"{'", b'{"', b"[{")):
        return None
    try:
        return ast.literal_eval(s.decode("utf-8", "replace"))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def readable(text: bytes) -> bool:
    """True when some source reads this inner line (for `peel.detect`)."""
    return detect_inner(text)[0] is not None


def cloudwatch_records(rec: Any) -> list[Any] | None:
    """The log events of a CloudWatch Logs document, or None for another document."""
    if isinstance(rec, dict):
        for key in _CLOUDWATCH_KEYS:
            events = rec.get(key)
            if isinstance(events, list) and any(
                isinstance(e, dict) and "message" in e and "timestamp" in e for e in events[:64]
            ):
                return events
    return None


@dataclass
class _File:
    """What reading one wrapped file keeps: the sources' states and split lines per stream."""

    job: ReadJob
    result: FileResult
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    parts: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    #: Streams (services, containers) whose lines a product's log reader reads: once one of
    #: its lines is recognised, all its lines go to that reader (dumps, continuation lines).
    apps: dict[str, str] = field(default_factory=dict)
    #: Streams that hold access lines: a line of theirs no source claims (a server's start-up
    #: banner, a broken access line) goes to `httplog` leniently before the sweep.
    access: set[str] = field(default_factory=set)
    #: how this file's RFC 3164 times get a year (made at its first such line)
    year: syslogyear.Year | None = None

    def line(self, p: peel.Peeled, lineno: int, names: list[str]) -> None:
        """One peeled line: join split parts, then read its inner line."""
        if p.empty:
            self.result.records += 1  # START / END / REPORT: a wrapper record, no inner line
            return
        first, inner = lineno, p.inner
        if p.stream in self.parts:
            first, before = self.parts.pop(p.stream)
            inner = (before + inner)[:MAX_JOINED_BYTES]
        if p.partial:
            self.parts[p.stream] = (first, inner)
            return
        when = _when(p.time, self.job)
        dated: tuple[tuple[str, str], ...] = ()
        if p.yearless is not None:
            if self.year is None:
                self.year = syslogyear.Year.for_file(self.job)
            found = self.year.date(p.yearless, self.job.settings.timezone)
            if found is not None:
                when, dated = found
        self.inner(inner, first, None, p.stream, when, names, dated)

    def inner(
        self,
        text: bytes,
        line: int | None,
        record: int | None,
        stream: str,
        when: datetime | None,
        names: list[str],
        dated: tuple[tuple[str, str], ...] = (),
    ) -> None:
        """Detect and read one inner line; sweep it when no source reads it. `when` is the
        wrapper's time, `dated` says how a year-less one was dated (`syslogyear`)."""
        from auditor.sources import SOURCES

        result = self.result
        name, obj = (self.apps[stream], None) if stream in self.apps else detect_inner(text)
        lenient = False
        if name in APP_LOGS:
            self.apps[stream] = name
        elif name == "httplog":
            self.access.add(stream)
        elif name is None and (stream in self.access or (self.access and _server_error(text))):
            # a server writes its error log to the other stream (nginx: stderr) of the same
            # container as its access log: both are httplog's
            name, lenient = "httplog", True
        mark = (result.records, len(result.events), result.consumed)
        source: Any = SOURCES.get(name) if name else None
        state = self.states.setdefault(name or "", {})
        if source is not None and obj is not None and hasattr(source, "read_record"):
            many = isinstance(obj, list) and name != "kinesis_rekognition"
            for index, rec in enumerate(obj if many else [obj]):
                source.read_record(self.job, rec, line, index if many else record, result, state)
        elif lenient:
            source.read_line(self.job, text, line, result, state, when, lenient=True)
        elif source is not None and hasattr(source, "read_line"):
            source.read_line(self.job, text, line, result, state, when)
        own_time = line_time(text.decode("utf-8", "replace")) if dated else None
        if own_time is not None:
            dated = ()  # the line's own time dated it, not the wrapper's year-less one
        if (result.records, len(result.events), result.consumed) == mark:
            result.sweep_line(text, line, record, when=when)
            result.events[mark[1] :] = [
                replace(e, attributes=tuple(sorted((*e.attributes, *dated))))
                for e in result.events[mark[1] :]
            ]
            return
        tags = (("wrapper", "+".join(names)), ("wrapped_stream", stream))
        result.events[mark[1] :] = [
            replace(
                e,
                # located as the evidence pack finds it again: the wrapped line, or the
                # CloudWatch event by its index (not an index inside the inner line)
                record=record,
                attributes=tuple(
                    sorted(
                        (
                            *e.attributes,
                            *(t for t in tags if t[1]),
                            # the wrapper's year-less time dated this event, not its own
                            *(dated if e.time == when else ()),
                        )
                    )
                ),
            )
            for e in result.events[mark[1] :]
        ]

    def finish(self) -> None:
        """Read the split lines whose last part never came."""
        for stream, (lineno, inner) in sorted(self.parts.items()):
            self.inner(inner, lineno, None, stream, None, [])
        self.parts.clear()
        from auditor.sources import SOURCES

        for name, state in sorted(self.states.items()):
            finish = getattr(SOURCES.get(name), "finish_lines", None)
            if finish is not None:  # a product log's reader emits what spans its lines
                finish(state)


#: wrappers whose every record is a JSON object: a line of `{` that does not peel is broken
_JSON_WRAPPERS = {"docker_json": "Docker json-file", "journald": "journald JSON export"}


class WrappedSource:
    """See `Source.read`."""

    name = NAME

    def read(self, job: ReadJob, stream: HashingStream, result: FileResult) -> None:
        """See `Source.read`: peel each line (or CloudWatch event), read what is inside."""
        head = stream.stream.peek(1 << 16)[: 1 << 16]
        state = _File(job, result)
        if head.lstrip()[:1] in (b"{", b"[") and cloudwatch_records(jsonany.first_doc(head)):
            self._cloudwatch(stream, state)
            state.finish()
            return
        first = peel.detect(head, readable)
        if first is not None:
            state.access = _access_streams(head, first)
        if first is None and not head.strip():
            return  # an empty file
        if first is None:
            result.issues.append(
                InputIssue(result.path, "no wrapper format (container, journald, syslog) found")
            )
            return
        for lineno, raw in stream.lines(result, sweep=False):
            if not raw.strip():
                continue
            peeled, names = peel.peel(raw, first)
            if peeled is None and first in _JSON_WRAPPERS and raw.lstrip()[:1] == b"{":
                # a json-file or journald record that does not parse: cut off (a log rotated
                # or copied mid-write) or damaged; its text may hold a face call
                result.issues.append(
                    InputIssue(
                        result.path,
                        f"unreadable {_JSON_WRAPPERS[first]} record (cut off or malformed)",
                        line=lineno,
                    )
                )
                result.sweep_line(raw, lineno)
            elif peeled is None:  # a line outside the wrapper: read as it is
                state.inner(raw.rstrip(b"\r\n"), lineno, None, "", None, [])
            else:
                state.line(peeled, lineno, names)
        state.finish()

    def _cloudwatch(self, stream: HashingStream, state: _File) -> None:
        """`filter-log-events` / `get-log-events` output and subscription payloads: each log
        event is located by its document's line and its index in the document's events."""
        for doc, line, _ in jsonany.records(stream, state.result, arrays=False):
            events = cloudwatch_records(doc)
            if events is None:
                state.result.sweep_record(doc, line, None)
                continue
            for index, ev in enumerate(events):
                message = ev.get("message") if isinstance(ev, dict) else None
                if not isinstance(message, str):
                    if not is_filler(ev):
                        state.result.issues.append(
                            InputIssue(
                                state.result.path,
                                "CloudWatch log event without a message",
                                line=line,
                                record=index,
                            )
                        )
                    continue
                text = message.rstrip("\n").encode()
                inner, names = _inner_wrapper(text)
                if inner is not None and inner.empty:
                    state.result.records += 1
                    continue
                body = inner.inner if inner is not None else text
                when = (inner.time if inner is not None else None) or peel.epoch_millis(
                    ev.get("timestamp")
                )
                # only what the event itself says (a subscription payload's `logStream` is not
                # in its events, and an evidence archive publishes the events alone)
                name = str(ev.get("logStreamName") or "")
                state.inner(body, line, index, name, _when(when, state.job), ["cloudwatch", *names])


def _server_error(text: bytes) -> bool:
    """True for an nginx error-log line (`2024/05/11 10:04:02 [error] 23#23: ...`)."""
    message = accesslines.server_message(accesslines.clean(text).text)
    return message is not None and message.name == "nginx-error"


def _access_streams(head: bytes, first: str) -> set[str]:
    """The streams of the file's first lines that hold access lines, so that their start-up
    banners (which come before any request) are read by `httplog` too."""
    found: set[str] = set()
    for raw in head.split(b"\n")[:-1][: peel.DETECT_LINES * 10]:
        peeled, _ = peel.peel(raw, first)
        if peeled is not None and not peeled.empty and peeled.stream not in found:
            if detect_inner(peeled.inner)[0] == "httplog":
                found.add(peeled.stream)
    return found


def _inner_wrapper(text: bytes) -> tuple[peel.Peeled | None, list[str]]:
    """A wrapper inside a CloudWatch message (the Lambda runtime's line format)."""
    for peeler in peel.PEELERS:
        if not peeler.strict:
            found = peeler.peel(text)
            if found is not None:
                return found, [peeler.name]
    return None, []


def _when(time: str | None, job: ReadJob) -> datetime | None:
    """The wrapper's time (RFC 3339 with nanoseconds, journald's and CloudWatch's epochs)."""
    text = line_time(time) if time else None
    if text is None:
        return None
    try:
        return parse_time(text, job.settings.timezone)
    except (ValueError, TypeError, OverflowError):
        return None


SOURCE = WrappedSource()
