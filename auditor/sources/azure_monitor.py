"""Azure Monitor resource logs of Cognitive Services / AI Services accounts (Azure AI Face).

Records follow the top-level resource-log schema (`time`, `resourceId`, `operationName`,
`category`, `resultType`, `resultSignature`, `callerIpAddress`, `identity`, `properties`), as a
diagnostic setting writes them to a storage account or event hub: one JSON record per line, or
`{"records": [...]}` documents. Only `RequestResponse` records describe API calls; `Audit` and
`Trace` records are counted and left.

A call is classified by its request path when `properties` carries one (the route catalogue,
`auditor.catalogue.routes`), else by `operationName` through the operation catalogue
(`azure_face`; the part after the last `_`, `.` or `/` is tried too, so `Face_Identify` is
`Identify`).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import orjson

from auditor.catalogue.operations import classify
from auditor.catalogue.routes import match_route, request_path
from auditor.core.errors import InputIssue
from auditor.core.models import Event, Notice, OperationKind, Principal
from auditor.core.timefmt import parse_time
from auditor.sources.base import FileResult, ReadJob
from auditor.sources.jsondoc import RecordSource

NAME = "azure_monitor"
_SPLIT = re.compile(r"[_./]")
_PATH_KEYS = ("path", "requestUri", "requestPath", "url", "uri")
_METHOD_KEYS = ("method", "httpMethod", "requestMethod")
_STATUS_KEYS = ("statusCode", "httpStatusCode", "responseCode")


class AzureMonitorSource(RecordSource):
    """See `Source.read`."""

    name = NAME

    def record(
        self, job: ReadJob, rec: Any, line: int | None, index: int | None, result: FileResult
    ) -> None:
        """See `RecordSource.record`: one resource-log record."""
        if not isinstance(rec, dict):
            result.issues.append(
                InputIssue(result.path, "record is not a JSON object", line=line, record=index)
            )
            return
        op = rec.get("operationName")
        if not isinstance(op, str) or not op:
            result.issues.append(
                InputIssue(result.path, "missing field operationName", line=line, record=index)
            )
            return
        result.records += 1
        category = rec.get("category")
        if isinstance(category, str) and category.lower() != "requestresponse":
            return
        props = _properties(rec.get("properties"))
        path = _first(props, _PATH_KEYS)
        method = _first(props, _METHOD_KEYS)
        kind, operation = _operation(op, path, method)
        if kind is None:
            return
        raw_time = rec.get("time")
        try:
            when = parse_time(raw_time, job.settings.timezone)
        except (ValueError, TypeError):
            result.records -= 1
            result.issues.append(
                InputIssue(
                    result.path, f"missing or bad time: {raw_time!r}", line=line, record=index
                )
            )
            return
        event = _event(
            rec,
            props,
            result.path,
            op=op,
            operation=operation,
            kind=kind,
            when=when,
            path=path,
            method=method,
            line=line,
            index=index,
        )
        result.events.append(event)
        if kind is OperationKind.SUSPECTED_FACE_MATCHING:
            result.notices.append(
                Notice(
                    result.path,
                    f"Azure {op} looks like face matching but is not in the operation catalogue",
                    line=line,
                    record=index,
                    event_id=event.event_id,
                )
            )


def _operation(op: str, path: Any, method: Any) -> tuple[OperationKind | None, str]:
    """The kind and name of a call: the route catalogue's, when `properties` carries a request
    path it knows (the path says more than the operation name), else `operationName`'s."""
    kind: OperationKind | None = None
    operation = op
    if isinstance(path, str) and path:
        route = match_route(method if isinstance(method, str) else "POST", path)
        if route is not None:
            kind, operation = route.kind, route.operation
    if kind is None:
        kind = _classify(op)
    return kind, operation


def _event(
    rec: dict[str, Any],
    props: dict[str, Any],
    file: str,
    *,
    op: str,
    operation: str,
    kind: OperationKind,
    when: datetime,
    path: Any,
    method: Any,
    line: int | None,
    index: int | None,
) -> Event:
    """The `Event` of a face call: its outcome from the HTTP status or `resultType`, its caller
    from `identity` (else the client address), the request's details as attributes."""
    status = str(_first(props, _STATUS_KEYS) or rec.get("resultSignature") or "")
    result_type = str(rec.get("resultType") or "")
    failed = status[:1] in ("4", "5") or result_type.lower() in ("failed", "failure", "error")
    client = rec.get("callerIpAddress") if isinstance(rec.get("callerIpAddress"), str) else None
    who = _identity(rec.get("identity"), props)
    attrs = {
        "azure_resource_id": rec.get("resourceId"),
        "azure_api_name": props.get("apiName"),
        "http_method": method,
        "http_path": request_path(path) if isinstance(path, str) else None,
        "http_status": status,
        "client_address": client,
        "location": rec.get("location"),
        "operation_name": op,
    }
    return Event(
        source=NAME,
        file=file,
        time=when,
        service="azure_face",
        operation=operation,
        kind=kind,
        principal=Principal(id=who or client or "unknown", address=client),
        record=index,
        line=line,
        event_id=rec.get("correlationId") if isinstance(rec.get("correlationId"), str) else None,
        outcome="failed" if failed else "succeeded",
        error_code=(status or result_type) if failed else None,
        attributes=tuple(
            sorted((k, str(v)) for k, v in attrs.items() if v is not None and v != "")
        ),
    )


def _classify(op: str) -> OperationKind | None:
    kind = classify("azure_face", op)
    if kind is not None and kind is not OperationKind.SUSPECTED_FACE_MATCHING:
        return kind
    last = _SPLIT.split(op)[-1]
    if last != op:
        inner = classify("azure_face", last)
        if inner is not None and inner is not OperationKind.SUSPECTED_FACE_MATCHING:
            return inner
    return kind


def _properties(value: Any) -> dict[str, Any]:
    """`properties` as an object (some exports carry it as a JSON string)."""
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return {}
    return value if isinstance(value, dict) else {}


def _first(obj: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if obj.get(key) not in (None, ""):
            return obj[key]
    return None


def _identity(identity: Any, props: dict[str, Any]) -> str | None:
    """The caller: a UPN, app id or object id from `identity`, else `properties.objectId`."""
    if isinstance(identity, str) and identity:
        return identity
    if isinstance(identity, dict):
        nested = identity.get("claim")
        claim: dict[str, Any] = nested if isinstance(nested, dict) else identity
        for key in (
            "upn",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
            "appid",
            "oid",
            "objectId",
            "http://schemas.microsoft.com/identity/claims/objectidentifier",
        ):
            if isinstance(claim.get(key), str) and claim[key]:
                return str(claim[key])
    oid = props.get("objectId")
    return oid if isinstance(oid, str) and oid else None


SOURCE = AzureMonitorSource()
