"""HTTP access logs: nginx/Apache combined and common formats, and JSON access logs.

A self-hosted recogniser (CompreFace, DeepStack, CodeProject.AI behind Frigate / Double Take) or
a pipeline calling Azure AI Face or Face++ over REST leaves its face operations in the access
log of the server or proxy in front of it. Each request line is one record; the route catalogue
(`auditor.catalogue.routes`) says which requests are face operations, so no pattern has to be
written.

The principal is the authenticated user (`%u` / `remote_user`) when the log has one, otherwise
the client address; the address is kept either way, so principals.toml can attribute by CIDR
range (`[[principal]] address = "10.0.0.0/8"`). A 4xx or 5xx status is an attempt (`failed`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson

from auditor.catalogue.operations import looks_like_face_matching
from auditor.catalogue.routes import match_route, may_be_face_request, request_path
from auditor.core.errors import InputIssue
from auditor.core.models import Event, Notice, OperationKind, Principal
from auditor.sources import jsonany
from auditor.sources.base import FileResult, HashingStream, ReadJob, parse_time

NAME = "httplog"

#: `%h %l %u [%t] "%r" %>s %b` (common) plus `"%{Referer}i" "%{User-Agent}i"` (combined);
#: nginx's default `combined` log_format writes the same fields.
CLF = re.compile(
    rb"^(?P<host>\S+) \S+ (?P<user>\S+) \[(?P<time>[^\]]+)\] "
    rb'"(?P<request>(?:[^"\\]|\\.)*)" (?P<status>\d{3}|-) (?P<size>\S+)'
    rb'(?: "(?P<referer>(?:[^"\\]|\\.)*)" "(?P<agent>(?:[^"\\]|\\.)*)")?'
)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_CLF_TIME = re.compile(
    r"(\d{1,2})/(\w{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.\d+)? ([+-])(\d{2})(\d{2})"
)

# JSON access logs: the field names nginx `log_format ... escape=json` recipes, Apache
# mod_log_config JSON formats, Caddy and Traefik use, first present wins.
_J_TIME = (
    "time",
    "timestamp",
    "@timestamp",
    "time_iso8601",
    "time_local",
    "ts",
    "StartUTC",
    "date",
)
_J_METHOD = ("method", "request_method", "verb", "RequestMethod", "http_method")
_J_PATH = ("uri", "request_uri", "path", "url", "request_path", "RequestPath", "RequestURI")
_J_STATUS = ("status", "status_code", "response", "code", "DownstreamStatus", "OriginStatus")
_J_CLIENT = (
    "remote_addr",
    "client_ip",
    "clientip",
    "remote_ip",
    "client",
    "ip",
    "ClientHost",
    "ClientAddr",
    "remote_host",
)
_J_USER = ("remote_user", "user", "user_id", "username", "user_name", "auth_user", "ClientUsername")
_J_AGENT = ("http_user_agent", "user_agent", "useragent", "agent", "request_User-Agent")
#: keys whose presence marks a JSON object as an access-log record (used by `sniff`)
JSON_MARKERS = frozenset(_J_PATH + ("request",)), frozenset(_J_STATUS)


class HttpLogSource:
    """See `Source.read`."""

    name = NAME

    def read(self, job: ReadJob, stream: HashingStream, result: FileResult) -> None:
        """See `Source.read`: each line is CLF text or one JSON object; JSON in another
        layout (pretty-printed, an array, concatenated, commented) is read as records."""
        head = stream.stream.peek(1 << 16)[: 1 << 16]
        if head.lstrip()[:1] in (b"{", b"[", b"/") and jsonany.layout(head) == "documents":
            for obj, at, _ in jsonany.records(stream, result):
                found = self._object(obj, result, at)
                if found is not None:
                    self._record(job, found, result, at)
            return
        for lineno, raw in stream.lines(result):
            line = raw.strip()
            if not line:
                continue
            if line.startswith(b"["):  # a JSON array of records on one line (`jq -c -s`)
                for obj, at, _ in jsonany.records_in(line, result, lineno):
                    found = self._object(obj, result, at)
                    if found is not None:
                        self._record(job, found, result, lineno)
                continue
            if line.startswith(b"{"):
                fields = self._json(line, result, lineno)
            else:
                fields = self._clf(line, result, lineno)
            if fields is not None:
                self._record(job, fields, result, lineno)

    def read_line(
        self,
        job: ReadJob,
        raw: bytes,
        lineno: int | None,
        result: FileResult,
        state: dict[str, Any],
    ) -> None:
        """One line (CLF text or a JSON object) from a wrapper (`sources.wrapped`)."""
        line = raw.strip()
        if line:
            fields = self._json(line, result, lineno) if line[:1] == b"{" else None
            if line[:1] != b"{":
                fields = self._clf(line, result, lineno)
            if fields is not None:
                self._record(job, fields, result, lineno)

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

    def _clf(self, line: bytes, result: FileResult, lineno: int | None) -> dict[str, Any] | None:
        m = CLF.match(line)
        if m is None:
            result.issues.append(
                InputIssue(
                    result.path,
                    "not an access-log line (expected the common or combined format)",
                    line=lineno,
                )
            )
            return None
        if not may_be_face_request(m.group("request")):
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
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            result.issues.append(InputIssue(result.path, f"malformed JSON: {exc.msg}", line=lineno))
            return None
        return self._object(obj, result, lineno, "line")

    def _object(
        self, obj: Any, result: FileResult, lineno: int | None, what: str = "record"
    ) -> dict[str, Any] | None:
        if not isinstance(obj, dict):
            message = f"{what} is not a JSON object"
            result.issues.append(InputIssue(result.path, message, line=lineno))
            return None
        req = obj.get("request")
        nested = req if isinstance(req, dict) else {}  # Caddy: request.{method,uri,remote_ip}
        method = _first(nested, _J_METHOD) or _first(obj, _J_METHOD)
        target = _first(nested, _J_PATH) or _first(obj, _J_PATH)
        if isinstance(req, str) and (method is None or target is None):
            m, _, rest = req.partition(" ")
            method, target = (
                method or m,
                target or (rest.rsplit(" ", 1)[0] if " " in rest else rest),
            )
        if not target and isinstance(req, str):
            return {"no_request": True}  # `"request": "-"`: no request line to classify
        agent = _first(obj, _J_AGENT)
        headers = nested.get("headers")
        if agent is None and isinstance(headers, dict):
            ua = headers.get("User-Agent")
            agent = ua[0] if isinstance(ua, list) and ua else ua
        return {
            "time": _first(obj, _J_TIME),
            "method": method,
            "target": target,
            "status": _first(obj, _J_STATUS),
            "agent": agent,
            "client": _first(nested, _J_CLIENT) or _first(obj, _J_CLIENT),
            "user": _first(obj, _J_USER),
        }

    def _record(
        self, job: ReadJob, f: dict[str, Any], result: FileResult, lineno: int | None
    ) -> None:
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
        route = match_route(method, target)
        path = request_path(target)
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
        try:
            when = _time(f.get("time"), job.settings.timezone)
        except (ValueError, TypeError, OverflowError, OSError):  # OSError: platform time range
            result.records -= 1
            result.issues.append(
                InputIssue(result.path, f"bad time {f.get('time')!r}", line=lineno)
            )
            return
        status = str(f.get("status") or "")
        client = _text(f.get("client"))
        user = _text(f.get("user"))
        attrs = [("http_method", method.upper()), ("http_path", path)]
        attrs += [
            (k, v)
            for k, v in (
                ("http_status", status),
                ("client_address", client),
                ("user_agent", _text(f.get("agent"))),
                ("authenticated_user", user),
            )
            if v
        ]
        failed = status[:1] in ("4", "5")
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
            attributes=tuple(sorted(attrs)),
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


def _first(obj: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = obj.get(key)
        if value is not None and value != "":
            return value
    return None


def _text(value: Any) -> str | None:
    """A field as text; `-` (the log's "none") and empty values are None."""
    if value is None:
        return None
    text = str(value).strip()
    return None if text in ("", "-") else text


def _time(value: Any, tz: str) -> datetime:
    """CLF time (`10/Oct/2000:13:55:36 -0700`), ISO-8601 text or epoch seconds -> UTC."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    if isinstance(value, str):
        m = _CLF_TIME.fullmatch(value.strip())
        if m:
            day, mon, year, hh, mm, ss, sign, oh, om = m.groups()
            offset = timedelta(hours=int(oh), minutes=int(om)) * (-1 if sign == "-" else 1)
            month = _MONTHS.get(mon.lower())
            if month is None:
                raise ValueError(f"bad month {mon!r}")
            return datetime(
                int(year), month, int(day), int(hh), int(mm), int(ss), tzinfo=timezone(offset)
            ).astimezone(UTC)
    return parse_time(value, tz)


def looks_like_clf(line: bytes) -> bool:
    """True when `line` is a common/combined access-log line (used by `sniff`)."""
    return CLF.match(line.strip()) is not None


def looks_like_json_access(obj: dict[str, Any]) -> bool:
    """True when a JSON object has an access log's request path and status (used by `sniff`)."""
    req = obj.get("request")
    if isinstance(req, dict):
        obj = {**obj, **req}
    paths, statuses = JSON_MARKERS
    return any(k in obj for k in paths) and any(k in obj for k in statuses)


SOURCE = HttpLogSource()
