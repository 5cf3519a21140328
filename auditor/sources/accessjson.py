"""JSON access-log records: the field names of nginx `escape=json` recipes, Apache JSON
formats, Caddy and Traefik, read into the fields `httplog` classifies.

Kept apart from `httplog` so the text formats and the JSON shapes each stay one screenful; the
field tables here are also what `sniff` uses to tell a JSON access log from other JSON.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from auditor.core.errors import InputIssue
from auditor.sources.base import FileResult

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


def from_line(line: bytes, result: FileResult, lineno: int | None) -> dict[str, Any] | None:
    """The access fields of one JSON line, or None (with an issue) when it is no object."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        result.issues.append(InputIssue(result.path, f"malformed JSON: {exc.msg}", line=lineno))
        return None
    return fields(obj, result, lineno, "line")


def fields(
    obj: Any, result: FileResult, lineno: int | None, what: str = "record"
) -> dict[str, Any] | None:
    """The access fields (time, method, target, status, agent, client, user) of one JSON
    record; `{"no_request": True}` for a record without a request line to classify."""
    if not isinstance(obj, dict):
        message = f"{what} is not a JSON object"
        result.issues.append(InputIssue(result.path, message, line=lineno))
        return None
    if is_compreface_core(obj):
        return _compreface_core(obj)
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


def _first(obj: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = obj.get(key)
        if value is not None and value != "":
            return value
    return None


def is_compreface_core(obj: dict[str, Any]) -> bool:
    """CompreFace's embedding calculator (compreface-core) logs JSON through its `JSONFormatter`
    (`embedding-calculator/src/_logging.py`): `severity`, `message`, `request` (method, path,
    filename, remote_addr), `logger`, `module`, `traceback`, `build_version`, and no time."""
    return (
        isinstance(obj.get("request"), dict)
        and "severity" in obj
        and "logger" in obj
        and "build_version" in obj
    )


_STATUS_TEXT = re.compile(r"^(\d{3}) ")


def _compreface_core(obj: dict[str, Any]) -> dict[str, Any]:
    """One request is the record its `log_response` logger writes (`200 OK`, the status as
    text); the other records of the request (`Found: BoundingBoxDTO(...)`) are about it."""
    req = obj["request"]
    status = (
        _STATUS_TEXT.match(obj.get("message") or "")
        if isinstance(obj.get("message"), str)
        else None
    )
    logger = obj.get("logger")
    if status is None or not (isinstance(logger, str) and logger.endswith("log_response")):
        return {"no_request": True}
    return {
        "time": None,
        "untimed": "compreface-core",
        "method": req.get("method"),
        "target": req.get("path"),
        "status": status.group(1),
        "agent": None,
        "client": req.get("remote_addr"),
        "user": None,
    }


def looks_like_json_access(obj: dict[str, Any]) -> bool:
    """True when a JSON object has an access log's request path and status (used by `sniff`)."""
    if is_compreface_core(obj):
        return True
    req = obj.get("request")
    if isinstance(req, dict):
        obj = {**obj, **req}
    paths, statuses = JSON_MARKERS
    return any(k in obj for k in paths) and any(k in obj for k in statuses)
