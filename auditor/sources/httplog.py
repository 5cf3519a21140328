"""HTTP access logs: nginx/Apache combined and common formats, JSON, and other servers' lines.

A self-hosted recogniser (CompreFace, DeepStack, CodeProject.AI behind Frigate / Double Take) or
a pipeline calling Azure AI Face or Face++ over REST leaves its face operations in the access
log of the server or proxy in front of it. Each request line is one record; the route catalogue
(`auditor.catalogue.routes`) says which requests are face operations, so no pattern has to be
written.

The principal is the authenticated user (`%u` / `remote_user`) when the log has one, otherwise
the client address; the address is kept either way, so principals.toml can attribute by CIDR
range (`[[principal]] address = "10.0.0.0/8"`). A 4xx or 5xx status is an attempt (`failed`).

Besides CLF (which also covers gunicorn's default, morgan `combined`/`common` and werkzeug's
`log_request`) and JSON, `accesslines` reads Gin, uvicorn, morgan `dev`/`tiny`/`short` and Envoy
lines, and `[[httplog]] format` in audit.toml declares any other Apache or nginx format. Paths
are normalised (`auditor.catalogue.paths`) before the route table sees them; the path as logged
is kept as `raw_path` when it differs.

uvicorn's and morgan's `dev`/`tiny`/`short` lines carry no time. A runtime's time prefix
(`docker logs --timestamps`) gives them one; without it a line that is a face operation is a
located issue (an event needs a time, and none is invented), and any other line is counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import auditor.sources.accesslines as accesslines
from auditor.catalogue.operations import looks_like_face_matching
from auditor.catalogue.paths import normalise_path
from auditor.catalogue.routes import match_route, request_path
from auditor.config.logformat import parse_line
from auditor.core.errors import InputIssue
from auditor.core.models import NO_TIME, TIME_KNOWN, Event, Notice, OperationKind, Principal
from auditor.sources import accessjson, jsonany
from auditor.sources.accesstime import access_time
from auditor.sources.base import FileResult, HashingStream, ReadJob

NAME = "httplog"

#: `%h %l %u [%t] "%r" %>s %b` (common) plus `"%{Referer}i" "%{User-Agent}i"` (combined);
#: nginx's default `combined` log_format writes the same fields.
CLF = re.compile(
    rb"^(?P<host>\S+) \S+ (?P<user>\S+) \[(?P<time>[^\]]+)\] "
    rb'"(?P<request>(?:[^"\\]|\\.)*)" (?P<status>\d{3}|-) (?P<size>\S+)'
    rb'(?: "(?P<referer>(?:[^"\\]|\\.)*)" "(?P<agent>(?:[^"\\]|\\.)*)")?'
)


class HttpLogSource:
    """See `Source.read`."""

    name = NAME

    def read(self, job: ReadJob, stream: HashingStream, result: FileResult) -> None:
        """See `Source.read`: each line is CLF text, one JSON object, or another server's line;
        JSON in another layout (pretty-printed, an array, concatenated, commented) is read as
        records."""
        head = stream.stream.peek(1 << 16)[: 1 << 16]
        if _json_document(head):
            for obj, at, _ in jsonany.records(stream, result):
                found = self._object(obj, result, at)
                if found is not None:
                    self._record(job, found, result, at)
            return
        state = _State(job.settings.httplog_formats_for(job.path), prelude=True)
        for lineno, raw in stream.lines(result):
            self._line(job, raw, state, result, lineno)

    def _line(
        self, job: ReadJob, raw: bytes, state: _State, result: FileResult, lineno: int | None
    ) -> None:
        """One line of the file: a JSON object, a one-line JSON array of them, or text."""
        line = raw.strip()
        if not line:
            state.block, state.after_gin = None, False
            return
        if line.startswith(b"[") and _ARRAY_LINE.match(line):
            # a JSON array of records on one line (`jq -c -s`), not `[GIN]` or `[2026-...]`
            state.block, state.after_gin = None, False
            for obj, at, _ in jsonany.records_in(line, result, lineno or 1):
                found = self._object(obj, result, at)
                if found is not None:
                    self._record(job, found, result, lineno)
            return
        if line.startswith(b"{"):
            state.block, state.after_gin = None, False
            fields = self._json(line, result, lineno)
        else:
            fields = self._text(raw, state, result, lineno)
        if fields is not None:
            self._record(job, fields, result, lineno)

    def read_line(
        self,
        job: ReadJob,
        raw: bytes,
        lineno: int | None,
        result: FileResult,
        state: dict[str, Any],
        wrapper_time: datetime | None = None,
        lenient: bool = False,
    ) -> None:
        """One line from a wrapper (`sources.wrapped`), read as a line of the file is; the
        wrapper's `state` keeps this file's httplog state between its lines.

        `lenient`: a line of a stream that holds access lines but is not one itself (a start-up
        banner, an application's own message): a server message or a block's further line is
        read as in a file of its own, a line that names a face request or looks like a broken
        access line is an issue, and any other is left to the caller (the sweep)."""
        own = state.setdefault(NAME, _State(job.settings.httplog_formats_for(job.path)))
        own.wrapper_time, own.lenient = wrapper_time, lenient
        self._line(job, raw, own, result, lineno)

    def read_record(
        self,
        job: ReadJob,
        rec: Any,
        line: int | None,
        index: int | None,
        result: FileResult,
        state: dict[str, Any],
    ) -> None:
        """One JSON access record from a wrapper."""
        fields = self._object(rec, result, line)
        if fields is not None:
            self._record(job, fields, result, line)

    def _text(
        self, raw: bytes, state: _State, result: FileResult, lineno: int | None
    ) -> dict[str, Any] | None:
        """Fields of a text line: a declared format first, then CLF, then `accesslines`."""
        line = accesslines.clean(raw)
        fields: dict[str, Any] | None = None
        if state.custom:  # the declared format sees the line as written (a time may lead it)
            text = raw.strip().decode("utf-8", "replace")
            for fmt in state.custom:
                fields = parse_line(fmt, text)
                if fields is not None:
                    state.kind = "custom"
                    break
            if fields is not None and "invalid" in fields:
                result.issues.append(InputIssue(result.path, fields["invalid"], line=lineno))
                result.consumed += 1  # the line is in the declared format: the issue is its trace
                return None
        if fields is None:
            m = CLF.match(line.text)
            if m is not None:
                state.kind = "clf"
                fields = self._clf(m)
        if fields is None:
            found = accesslines.parse(line.text)
            if found is not None:
                state.kind, fields = found
        if fields is not None:
            state.after_gin, state.block, state.prelude = state.kind == "gin", None, False
            if fields.get("time") is None:
                fields["time"] = line.runtime_time or state.wrapper_time
            return fields
        return self._other(line, state, result, lineno)

    def _other(
        self, line: accesslines.Line, state: _State, result: FileResult, lineno: int | None
    ) -> dict[str, Any] | None:
        """A line that is no request: part of a block, a server's own message, or an issue."""
        text = line.text
        if state.after_gin and accesslines.GIN_ERROR.match(text):
            result.consumed += 1
            return None  # Gin's `c.Errors` after an access line belong to it
        message = accesslines.server_message(text)
        part_of_block = message is None and accesslines.continues_block(state.block, line)
        owner = message if message is not None else state.block if part_of_block else None
        lenient = state.lenient or state.prelude
        if owner is None and lenient and not accesslines.broken_access(text):
            return None  # not this source's line: the wrapper sweeps it
        if owner is None:
            label = accesslines.FORMAT_LABELS.get(state.kind or "", "the common or combined format")
            result.issues.append(
                InputIssue(result.path, f"not an access-log line (expected {label})", line=lineno)
            )
            return None
        if message is not None:
            state.block, state.after_gin = accesslines.opens_block(message, text), False
        request = accesslines.REQUEST_IN_TEXT.search(text)
        if (
            owner.name not in accesslines.RELOGGED
            and request
            and accesslines.may_be_face(request.group(0))
        ):
            result.issues.append(
                InputIssue(
                    result.path,
                    f"a {owner.name} message holds a request that may be a face operation"
                    " but is not an access line in a known format; not read as a request",
                    line=lineno,
                )
            )
            result.consumed += 1  # the issue names the request: no second trace by the sweep
            return None
        if part_of_block:
            result.consumed += 1
            return None  # a warning's, banner's or traceback's further lines belong to its first
        return {"no_request": True}  # counted: the server's own message, no request

    def _clf(self, m: re.Match[bytes]) -> dict[str, Any]:
        if not accesslines.may_be_face(m.group("request")):
            return {"no_request": True}  # counted; nothing in it can be a face operation
        g = {
            k: (v.decode("utf-8", "replace") if v is not None else None)
            for k, v in m.groupdict().items()
        }
        method, _, rest = (g["request"] or "").partition(" ")
        target = rest.rsplit(" ", 1)[0] if " " in rest else rest
        if not target:
            # `"-" 400` (a connection closed before a request) or a TLS handshake sent to a
            # plain-HTTP port: a real line of a real log that carries no request to classify
            return {"no_request": True}
        return {
            "time": g["time"],
            "method": method,
            "target": target,
            "status": g["status"],
            "client": g["host"],
            "user": g["user"],
            "agent": g["agent"],
        }

    def _json(self, line: bytes, result: FileResult, lineno: int | None) -> dict[str, Any] | None:
        return accessjson.from_line(line, result, lineno)

    def _object(
        self, obj: Any, result: FileResult, lineno: int | None, what: str = "record"
    ) -> dict[str, Any] | None:
        return accessjson.fields(obj, result, lineno, what)

    def _record(
        self, job: ReadJob, f: dict[str, Any], result: FileResult, lineno: int | None
    ) -> None:
        """One request, as its line's format gave its fields: a face operation becomes an event."""
        if f.get("no_request"):
            result.records += 1
            return
        method, target = f.get("method"), f.get("target")
        if not isinstance(method, str) or not isinstance(target, str) or not target:
            result.issues.append(
                InputIssue(
                    result.path, "access-log record without a request method and path", line=lineno
                )
            )
            return
        result.records += 1
        raw_path = request_path(target)
        path = normalise_path(raw_path)
        route = match_route(method, path)
        if route is None:
            if not looks_like_face_matching(path):
                return
            service, operation, kind = (
                "http",
                f"{method.upper()} {path}",
                OperationKind.SUSPECTED_FACE_MATCHING,
            )
        else:
            service, operation, kind = route.service, route.operation, route.kind
        untimed = f.get("time") is None and bool(f.get("untimed"))
        if untimed:
            when, label = NO_TIME, accesslines.FORMAT_LABELS[f["untimed"]]
            result.notices.append(
                Notice(
                    result.path,
                    f"{method.upper()} {path} has no time: {label} carries none,"
                    " so no rule can judge it (read the log with its runtime's timestamps, e.g."
                    " `docker logs --timestamps`, or log in a format with a time)",
                    line=lineno,
                )
            )
        else:
            try:
                when = access_time(f.get("time"), job.settings.timezone)
            except (ValueError, TypeError, OverflowError, OSError):  # OSError: platform range
                result.records -= 1
                result.issues.append(
                    InputIssue(result.path, f"bad time {f.get('time')!r}", line=lineno)
                )
                return
        status = str(f.get("status") or "")
        client = _text(f.get("client"))
        user = _text(f.get("user"))
        failed = status[:1] in ("4", "5") or status == "0"  # 0: no response was sent
        event = Event(
            source=NAME,
            file=result.path,
            time=when,
            service=service,
            operation=operation,
            kind=kind,
            principal=Principal(id=user or client or "unknown", address=client),
            line=lineno,
            outcome="failed" if failed else "succeeded",
            error_code=f"HTTP {status}" if failed else None,
            attributes=_attributes(f, method, path, raw_path, untimed),
        )
        result.events.append(event)
        if kind is OperationKind.SUSPECTED_FACE_MATCHING:
            result.notices.append(
                Notice(
                    result.path,
                    f"{method.upper()} {path} looks like face "
                    "matching but is not in the route catalogue",
                    line=lineno,
                )
            )


def _attributes(
    f: dict[str, Any], method: str, path: str, raw_path: str, untimed: bool
) -> tuple[tuple[str, str], ...]:
    """A request's event attributes: the request, whether it has a time, the path as logged
    when normalising changed it, and the line's fields that are not empty or `-`."""
    attrs = [("http_method", method.upper()), ("http_path", path)]
    if untimed:
        attrs.append((TIME_KNOWN, "false"))
    if raw_path != path:
        attrs.append(("raw_path", raw_path))
    attrs += [
        (k, v)
        for k, v in (
            ("http_status", str(f.get("status") or "")),
            ("client_address", _text(f.get("client"))),
            ("user_agent", _text(f.get("agent"))),
            ("authenticated_user", _text(f.get("user"))),
        )
        if v
    ]
    return tuple(sorted(attrs))


def _text(value: Any) -> str | None:
    """A field as text; `-` (the log's "none") and empty values are None."""
    if value is None:
        return None
    text = str(value).strip()
    return None if text in ("", "-") else text


@dataclass
class _State:
    """What one file's earlier lines say about the next: declared formats, the last format
    read, and whether a line may continue a block or a Gin access line."""

    custom: tuple[str, ...]
    kind: str | None = None
    block: accesslines.ServerMessage | None = None
    after_gin: bool = False
    #: the time the wrapper gave the line being read (`read_line`), for untimed formats
    wrapper_time: datetime | None = None
    #: the line being read is one no source claimed, of a stream that holds access lines
    lenient: bool = False
    #: no access line read yet in a file of its own: the prose a pasted log starts with
    #: ("here are my logs:") goes to the sweep, not to the issues
    prelude: bool = False


#: A line that opens a JSON array of records (`[{` or `[]`), not `[GIN]` or `[2026-...]`:
#: matched in place, no copy of the line (Gin and Envoy lines all start with `[`).
_ARRAY_LINE = re.compile(rb"\[\s*[{\]]")


def _json_document(head: bytes) -> bool:
    """Does the file start a JSON document that is not one object per line (pretty-printed,
    an array, commented)? Gin's `[GIN]` and Envoy's `[2026-...]` lines start with `[` too, so
    an array must open on a record (or be empty) and a comment must be `//` or `/*`."""
    h = head.lstrip()
    if h[:1] == b"[":
        if h[1:].lstrip()[:1] not in (b"{", b"]"):
            return False
    elif h[:2] not in (b"//", b"/*") and h[:1] != b"{":
        return False
    return jsonany.layout(head) == "documents"


def looks_like_access_log(head: bytes) -> bool:
    """True when a file's first lines are an access log in a shape this source reads (used by
    `sniff`): its first line that is not a server's start-up message is an access line."""
    return accesslines.looks_like_access_log(head, lambda line: CLF.match(line) is not None)


def is_access_line(line: bytes) -> bool:
    """True when `line` is one request in a format this source reads without a declared format
    (CLF/combined, Gin, werkzeug, uvicorn, gunicorn, morgan, Envoy): how `sources.wrapped`
    tells an access line inside a container, journald or syslog wrapper."""
    text = accesslines.clean(line).text
    return CLF.match(text) is not None or accesslines.parse(text) is not None


SOURCE = HttpLogSource()
