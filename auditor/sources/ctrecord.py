"""What one CloudTrail record says, beyond its event source and name: the record itself when it
comes wrapped, its caller, the images and request parameters it names, and what kind of stream
processor it creates.

`cloudtrail` is about the many shapes a trail is stored in and a hot loop that leaves the
background traffic after two lookups; this is the other half, the few records of face
operations read closely. Kept apart so that the reading of a record can be changed (or read)
without the file layouts around it.
"""

from __future__ import annotations

from typing import Any

import orjson

from auditor.core.errors import InputIssue
from auditor.core.models import OperationKind, Principal
from auditor.sources import envelopes
from auditor.sources.base import FileResult

_IMAGE_KEYS = ("image", "sourceImage", "targetImage")
_ATTR_NAMES = {"collectionId": "collection_id", "purpose": "purpose", "caseRef": "case_ref"}


def unwrap(
    rec: Any, result: FileResult, line: int | None, index: int | None
) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    """(the CloudTrail record, its event-history wrapper or None) of what a file holds: a
    record, an EventBridge "AWS API Call via CloudTrail" event, or an event-history event whose
    record is a JSON string in `CloudTrailEvent`. None when there is none (the issue reported).
    """
    rec = envelopes.open_envelope(rec)
    if not isinstance(rec, dict):
        result.issues.append(
            InputIssue(result.path, "record is not a JSON object", line=line, record=index)
        )
        return None
    wrapper = None
    inner = rec.get("CloudTrailEvent")
    if isinstance(inner, str):
        wrapper = rec
        try:
            rec = orjson.loads(inner)
        except orjson.JSONDecodeError as exc:
            result.issues.append(
                InputIssue(
                    result.path,
                    f"malformed CloudTrailEvent: {exc.msg}",
                    line=line,
                    record=index,
                )
            )
            return None
        if not isinstance(rec, dict):
            result.issues.append(
                InputIssue(result.path, "CloudTrailEvent is not an object", line=line, record=index)
            )
            return None
    return rec, wrapper


def request_details(rec: dict[str, Any]) -> tuple[list[str], list[tuple[str, str]]]:
    """(the S3 images a call names, its attributes): the collection, purpose and case of its
    request parameters, and its region."""
    params = rec.get("requestParameters")
    refs: list[str] = []
    attrs: list[tuple[str, str]] = []
    if isinstance(params, dict):
        for key in _IMAGE_KEYS:
            img = params.get(key)
            if isinstance(img, dict):
                s3 = img.get("s3Object")
                if isinstance(s3, dict) and isinstance(s3.get("name"), str):
                    refs.append(f"s3://{s3.get('bucket', '')}/{s3['name']}")
        attrs.extend(
            (_ATTR_NAMES[key], params[key])
            for key in ("collectionId", "purpose", "caseRef")
            if isinstance(params.get(key), str)
        )
    if isinstance(rec.get("awsRegion"), str):
        attrs.append(("aws_region", rec["awsRegion"]))
    return refs, attrs


def principal(identity: Any) -> Principal:
    """Who made the call; tolerant of AwsServiceEvent records without `type` or `arn`."""
    if not isinstance(identity, dict):
        return Principal(id="unknown")
    arns = []
    arn = identity.get("arn")
    if isinstance(arn, str) and arn:
        arns.append(arn)
    ctx = identity.get("sessionContext")
    if isinstance(ctx, dict):
        issuer = ctx.get("sessionIssuer")
        if isinstance(issuer, dict) and isinstance(issuer.get("arn"), str) and issuer["arn"]:
            arns.append(issuer["arn"])
    account = identity.get("accountId")
    account = account if isinstance(account, str) and account else None
    invoked = identity.get("invokedBy")
    ident = (
        (arns[0] if arns else None)
        or (invoked if isinstance(invoked, str) else None)
        or (f"account:{account}" if account else None)
        or str(identity.get("principalId", "unknown"))
    )
    return Principal(id=ident, arns=tuple(arns), account=account)


def stream_processor_kind(params: Any, default: OperationKind) -> OperationKind:
    """A stream processor searches faces (`settings.faceSearch`) or, with `connectedHome`
    settings, only detects people, packages and pets: detection, not identification."""
    settings = params.get("settings") if isinstance(params, dict) else None
    if isinstance(settings, dict):
        keys = {k.lower() for k in settings}
        if "connectedhome" in keys and "facesearch" not in keys:
            return OperationKind.FACE_DETECTION
    return default
