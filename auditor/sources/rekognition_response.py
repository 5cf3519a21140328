"""Amazon Rekognition API responses saved as they are printed: `aws rekognition ...` output,
`print(client.search_faces_by_image(...))` dumps, documentation examples.

A response names no operation, but its shape does (the API reference's response syntax):
`SearchedFaceBoundingBox` + `FaceMatches` is SearchFacesByImage, `SearchedFaceId` + `FaceMatches`
SearchFaces, `UserMatches` SearchUsers / SearchUsersByImage, `SourceImageFace` + `FaceMatches`
CompareFaces, `FaceRecords` IndexFaces, `FaceDetails` alone DetectFaces, `CollectionArn` with a
`StatusCode` CreateCollection. Each response is one call of that operation, classified by the
catalogue like a CloudTrail record of it; the number of matches and the best similarity are
attributes, the face ids are not copied.

The CLI prints neither a time nor a caller. boto3's dumps carry `ResponseMetadata` (the request
id and the HTTP `date` header): then the event has that time and id. Otherwise it is an event
with no time (`time_known = false`), which every rule that covers it reports as "cannot decide",
and a notice says so; the caller is `unknown` until principals.toml or the CloudTrail record of
the same request id says more. A document of none of these shapes is an error at its line.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from auditor.catalogue.operations import classify
from auditor.core.errors import InputIssue
from auditor.core.models import OperationKind
from auditor.sources import applog
from auditor.sources.base import FileResult, ReadJob
from auditor.sources.jsondoc import RecordSource

NAME = "rekognition_response"
PRINCIPAL = "unknown"
#: (operation, keys that must all be present), most specific first
_SHAPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("SearchFacesByImage", ("SearchedFaceBoundingBox", "FaceMatches")),
    ("SearchFaces", ("SearchedFaceId", "FaceMatches")),
    ("CompareFaces", ("SourceImageFace", "FaceMatches")),
    ("SearchUsersByImage", ("SearchedFace", "UserMatches")),
    ("SearchUsers", ("UserMatches",)),
    ("IndexFaces", ("FaceRecords",)),
    ("DetectFaces", ("FaceDetails",)),
    ("CreateCollection", ("CollectionArn", "StatusCode")),
    ("RecognizeCelebrities", ("CelebrityFaces",)),
)
#: responses of Rekognition's other (not face) operations: counted and left
_OTHER_KEYS = ("Labels", "TextDetections", "ModerationLabels", "CustomLabels", "PersonDetections")


def operation_of(obj: dict[str, Any]) -> str | None:
    """The Rekognition operation whose response `obj` is, or None."""
    for operation, keys in _SHAPES:
        if all(k in obj for k in keys):
            return operation
    return None


class RekognitionResponseSource(RecordSource):
    """See `Source.read`."""

    name = NAME

    def record(
        self, job: ReadJob, obj: Any, line: int | None, index: int | None, result: FileResult
    ) -> None:
        """See `RecordSource.record`: one response."""
        operation = operation_of(obj) if isinstance(obj, dict) else None
        if operation is None and isinstance(obj, dict) and any(k in obj for k in _OTHER_KEYS):
            result.records += 1
            return  # DetectLabels, DetectText, ...: not a face operation
        if operation is None:
            result.issues.append(
                InputIssue(
                    result.path,
                    "not a Rekognition response of a known shape",
                    line=line,
                    record=index,
                )
            )
            return
        result.records += 1
        meta = obj.get("ResponseMetadata")
        meta = meta if isinstance(meta, dict) else {}
        status = meta.get("HTTPStatusCode")
        failed = isinstance(status, int) and status >= 400
        applog.face_event(
            result,
            source=NAME,
            when=_date(meta),
            service="rekognition",
            operation=operation,
            kind=classify("rekognition", operation) or OperationKind.OTHER,
            principal=PRINCIPAL,
            line=line if line is not None or index is not None else 1,  # one document: its start
            event_id=meta.get("RequestId") if isinstance(meta.get("RequestId"), str) else None,
            outcome="failed" if failed else "succeeded",
            error_code=f"HTTP {status}" if failed else None,
            attrs=_attrs(obj, index),
            untimed_hint="the CLI prints none; the CloudTrail record of the call has it",
        )


def _attrs(obj: dict[str, Any], index: int | None) -> dict[str, object]:
    matches = obj.get("FaceMatches", obj.get("UserMatches"))
    matches = matches if isinstance(matches, list) else None
    scores = [
        m["Similarity"]
        for m in matches or []
        if isinstance(m, dict) and isinstance(m.get("Similarity"), int | float)
    ]
    faces = obj.get("FaceRecords", obj.get("FaceDetails"))
    return {
        "match_count": len(matches) if isinstance(matches, list) else None,
        "best_similarity": applog.best([float(s) for s in scores if not isinstance(s, bool)]),
        "faces": len(faces) if isinstance(faces, list) else None,
        "face_model_version": _text(obj.get("FaceModelVersion")),
        "record_index": index,
    }


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _date(meta: dict[str, Any]) -> datetime | None:
    """The time of a boto3 dump: its HTTP `date` header (RFC 7231); None without one."""
    headers = meta.get("HTTPHeaders")
    value = headers.get("date") if isinstance(headers, dict) else None
    if not isinstance(value, str):
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else None


SOURCE = RekognitionResponseSource()
