"""Google Cloud audit logs (Cloud Logging `LogEntry` with an `AuditLog` protoPayload).

Entries come one per line (a log sink to Cloud Storage, Pub/Sub copies) or as the indented
array `gcloud logging read --format=json` prints. Fields used: `protoPayload.serviceName`,
`methodName`, `authenticationInfo.principalEmail`, `requestMetadata.callerIp` and
`callerSuppliedUserAgent`, `resourceName`, `status.code` (non-zero = failed, an attempt),
`request`, and the entry's `timestamp` (else `receiveTimestamp`) and `insertId`.

The method is classified through the operation catalogue with the service's alias
(`vision.googleapis.com` is `google_vision`) and the method's last two name parts
(`ImageAnnotator.BatchAnnotateImages`). Cloud Vision offers face detection, not recognition: an
annotate call is a face operation only when its request asks for `FACE_DETECTION` (or when the
log does not carry the request, so the call cannot be ruled out).
"""

from __future__ import annotations

from typing import Any

from auditor.catalogue.operations import canonical_service, classify
from auditor.core.errors import InputIssue
from auditor.core.models import Event, Notice, OperationKind, Principal
from auditor.core.timefmt import parse_time
from auditor.sources.base import FileResult, ReadJob
from auditor.sources.jsondoc import RecordSource, dig

NAME = "gcp_audit"


class GcpAuditSource(RecordSource):
    """See `Source.read`."""

    name = NAME

    def record(
        self, job: ReadJob, entry: Any, line: int | None, index: int | None, result: FileResult
    ) -> None:
        """See `RecordSource.record`: one `LogEntry`."""
        payload = dig(entry, "protoPayload")
        service, method = dig(payload, "serviceName"), dig(payload, "methodName")
        if not isinstance(service, str) or not isinstance(method, str):
            missing = _missing(payload, service)
            result.issues.append(
                InputIssue(result.path, f"missing field {missing}", line=line, record=index)
            )
            return
        result.records += 1
        short = ".".join(method.split(".")[-2:])
        kind = classify(service, short)
        if kind is OperationKind.FACE_DETECTION and not _asks_for_faces(payload.get("request")):
            kind = None
        if kind is None:
            return
        raw_time = entry.get("timestamp") or entry.get("receiveTimestamp")
        try:
            when = parse_time(raw_time, job.settings.timezone)
        except (ValueError, TypeError):
            result.records -= 1
            result.issues.append(
                InputIssue(
                    result.path, f"missing or bad timestamp: {raw_time!r}", line=line, record=index
                )
            )
            return
        code = dig(payload, "status", "code")
        failed = isinstance(code, int) and code != 0
        client = dig(payload, "requestMetadata", "callerIp")
        client = client if isinstance(client, str) and client else None
        email = dig(payload, "authenticationInfo", "principalEmail")
        attrs = {
            "gcp_method": method,
            "resource_name": payload.get("resourceName"),
            "client_address": client,
            "user_agent": dig(payload, "requestMetadata", "callerSuppliedUserAgent"),
            "gcp_project": dig(entry, "resource", "labels", "project_id"),
        }
        event_id = entry.get("insertId")
        event = Event(
            source=NAME,
            file=result.path,
            time=when,
            service=canonical_service(service),
            operation=short,
            kind=kind,
            principal=Principal(
                id=email if isinstance(email, str) and email else client or "unknown",
                address=client,
            ),
            record=index,
            line=line,
            event_id=event_id if isinstance(event_id, str) else None,
            outcome="failed" if failed else "succeeded",
            error_code=f"{code} {dig(payload, 'status', 'message') or ''}".strip()
            if failed
            else None,
            attributes=tuple(sorted((k, str(v)) for k, v in attrs.items() if v)),
        )
        result.events.append(event)
        if kind is OperationKind.SUSPECTED_FACE_MATCHING:
            result.notices.append(
                Notice(
                    result.path,
                    f"{service} {method} looks like face "
                    "matching but is not in the operation catalogue",
                    line=line,
                    record=index,
                    event_id=event.event_id,
                )
            )


def _missing(payload: Any, service: Any) -> str:
    """The first field an entry lacks of the three every audit entry has."""
    if not isinstance(payload, dict):
        return "protoPayload"
    return "protoPayload.serviceName" if not isinstance(service, str) else "protoPayload.methodName"


def _asks_for_faces(request: Any) -> bool:
    """False only when the logged request lists its features and none is FACE_DETECTION."""
    if not isinstance(request, dict):
        return True
    items = request.get("requests")
    if not isinstance(items, list):
        return True
    kinds = [
        dig(f, "type")
        for item in items
        if isinstance(item, dict) and isinstance(item.get("features"), list)
        for f in item["features"]
    ]
    return not kinds or "FACE_DETECTION" in kinds


SOURCE = GcpAuditSource()
