"""The suspected sweep: every line or record no source read is searched for catalogued face
calls; each hit is a located suspected_face_matching event and a notice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from auditor.catalogue.operations import CATALOGUE
from auditor.catalogue.terms import TERMS
from auditor.core.models import MATCHING_KINDS, NO_TIME
from auditor.sources.sweep import scan
from tests.logsamples import read_sample

ROLE = "arn:aws:sts::111122223333:assumed-role/metro-pd-search/j.doe"


def _hits(result: Any) -> list[tuple[Any, ...]]:
    return [
        (e.line, e.service, e.operation, e.outcome, e.error_code, e.attr("matched_term"))
        for e in result.events
    ]


def test_boto3_client_errors() -> None:
    result = read_sample("free-text/boto3-clienterror.log")
    assert [i.message for i in result.issues] == [
        "plain-text log but no [[text]] pattern in audit.toml matches it"
    ]
    assert _hits(result) == [
        (
            5,
            "rekognition",
            "SearchFacesByImage",
            "failed",
            "AccessDeniedException",
            "search_faces_by_image",
        ),
        (
            12,
            "rekognition",
            "SearchFacesByImage",
            "failed",
            "ResourceNotFoundException",
            "SearchFacesByImage",
        ),
    ]
    first, second = result.events
    assert first.kind.value == "suspected_face_matching" and first.source == "sweep"
    assert first.attr("catalogued_kind") == "identification_1toN"
    # the traceback takes the time of the log line before it; the denied role is the principal
    assert first.time.isoformat() == "2026-03-14T09:02:51.406000+00:00"
    assert (first.principal.id, first.principal.account) == (ROLE, "111122223333")
    assert second.time.isoformat() == "2026-03-14T09:02:53.517000+00:00"
    assert [n.line for n in result.notices] == [5, 12]
    assert "the text source could not read it" in result.notices[0].message


def test_a_face_recognition_traceback_is_one_failed_call_without_a_time() -> None:
    result = read_sample("free-text/face-recognition-traceback.txt")
    (event,) = result.events
    assert (event.line, event.service, event.operation, event.error_code) == (
        3,
        "face_recognition",
        "compare_faces",
        "ValueError",
    )
    assert event.attr("also_named") == (
        "face_recognition face_distance, face_recognition face_encodings"
    )
    assert event.time == NO_TIME and event.attr("time_known") == "false"


def test_deepface_output() -> None:
    result = read_sample("free-text/deepface.log")
    assert [(e.line, e.operation, e.outcome, e.time.isoformat()) for e in result.events] == [
        (2, "find", "succeeded", "2026-03-18T09:10:02+00:00"),
        (4, "verify", "succeeded", "2026-03-18T09:10:09+00:00"),
    ]


def test_azure_face_sdk_request_log_and_errors() -> None:
    result = read_sample("free-text/azure-face-sdk.log")
    assert _hits(result) == [
        (1, "azure_face", "Identify", "succeeded", None, "/face/v1.0/identify"),
        (12, "azure_face", "Identify", "failed", "BadArgument", "face_client.face.identify"),
    ]


def test_route_listings_documentation_and_label_detection_are_not_hits() -> None:
    result = read_sample("free-text/startup-routes.log")
    assert result.events == [] and result.notices == []
    for line in (
        "client.detect_labels(Image=img) DetectLabels ok",
        "rekognition:GetLabelDetection AccessDenied",
        "rekognition:DetectFaces ok; DetectFaces returned 3 faces",
        "user verify(token) ok; find(user) ok; Identify header missing",
        "iam CreateUser ok; mongo createCollection ok",
        "@app.post('/face/v1.0/identify')",
        "### POST /face/v1.0/identify",
    ):
        assert scan(line) == [], line


def test_terms_come_from_the_catalogue() -> None:
    """Every catalogued matching operation with `face` in its name is a term in its log
    spellings; no term names a detection-only or other kind."""
    texts = {t.text for t in TERMS}
    for (service, operation), kind in CATALOGUE.items():
        if kind in MATCHING_KINDS and "face" in operation.lower():
            assert operation.lower() in texts, (service, operation)
    assert {
        "search_faces_by_image",
        "search-faces-by-image",
        "rekognition:searchfacesbyimage",
    } <= texts
    assert "deepface.verify" in texts and "verify" not in texts and "find" not in texts
    assert all(t.kind in MATCHING_KINDS for t in TERMS)
    spellings = [h.operation for h in scan("new SearchFacesByImageCommand(input)")]
    assert spellings == ["SearchFacesByImage"]


def test_an_unknown_file_type_is_swept_and_keeps_its_error(tmp_path: Path) -> None:
    (tmp_path / "matcher.out").write_text(
        "2026-03-19T08:00:01Z worker-3 POST /api/v1/recognition/recognize?limit=1 200\n"
        "2026-03-19T08:00:02Z worker-3 GET /healthz 200\n"
    )
    result = read_sample("matcher.out", root=tmp_path)
    assert result.issues[0].message.startswith("unknown log file type")
    assert _hits(result) == [
        (1, "compreface", "recognize", "succeeded", None, "/api/v1/recognition/recognize")
    ]
    assert "no source reads this file" in result.notices[0].message


def test_json_records_of_unknown_shape_are_swept(tmp_path: Path) -> None:
    lines = [
        {"time": "2026-03-19T08:00:00Z", "principal": "a", "service": "s3", "operation": "Get"},
        {"ts": "2026-03-19T08:00:05Z", "msg": "calling rekognition:CompareFaces", "err": "timeout"},
    ]
    (tmp_path / "app.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    result = read_sample("app.jsonl", root=tmp_path)
    assert result.records == 1 and [i.line for i in result.issues] == [2]
    (event,) = result.events
    assert (event.line, event.operation, event.error_code) == (2, "CompareFaces", "Timeout")
    assert event.time.isoformat() == "2026-03-19T08:00:05+00:00"


def test_the_rest_of_a_file_a_source_gave_up_on_is_swept(tmp_path: Path) -> None:
    """A pretty-printed CloudTrail document with a broken record: the records before it are
    read, and the lines after it still go through the sweep, at their own line numbers."""
    good = {
        "eventVersion": "1.08",
        "eventTime": "2026-03-19T08:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
    }
    text = json.dumps({"Records": [good, good]}, indent=2).rstrip("\n]}")
    text += ',\n    {"eventVersion": "1.08", broken\n'
    text += '    "note": "then CompareFaces was called"\n  }\n]}\n'
    (tmp_path / "ct.json").write_text(text)
    result = read_sample("ct.json", root=tmp_path)
    assert result.source == "cloudtrail" and result.records == 2
    (event,) = result.events
    assert event.operation == "CompareFaces"
    assert event.line == text.splitlines().index('    "note": "then CompareFaces was called"') + 1


def test_listings_and_placeholders_are_not_calls() -> None:
    """`flask routes` rows, URLs whose host is a placeholder, and lines that name three or more
    different operations (documentation, an IAM policy's actions) list calls; they make none."""
    assert scan("api.search_faces      POST     /faces/search") == []
    assert scan("routes.verify     POST,GET  /api/v1/verification/verify") == []
    assert scan('curl -X POST "http://<compreface-host>:8000/api/v1/recognition/recognize"') == []
    listing = "Rekognition equivalents: SearchFacesByImage (1:N), CompareFaces (1:1), IndexFaces."
    assert scan(listing) == []
    # two operations on one line may be a call and its fallback: still hits
    two = "fallback from SearchFacesByImage to CompareFaces failed"
    assert [h.operation for h in scan(two)] == ["SearchFacesByImage", "CompareFaces"]


def test_sdk_calls_seen_in_real_tracebacks() -> None:
    """The DeepStack Python client as HASS-Deepstack-face (`self._dsface.recognize(image)`) and
    deepstack-ui call it, and Azure's .NET SDK frames (`VerifyFaceToFaceAsync`)."""
    found = [
        (h.service, h.operation, h.kind.value)
        for text in (
            "    predictions = self._dsface.recognize(image)",
            "    dsface.register(face_name, image_bytes)",
            "   at Microsoft.Azure.CognitiveServices.Vision.Face.FaceOperationsExtensions."
            "VerifyFaceToFaceAsync(IFaceOperations operations, Guid faceId1)",
        )
        for h in scan(text)
    ]
    assert found == [
        ("deepstack", "face.recognize", "identification_1toN"),
        ("deepstack", "face.register", "enrolment"),
        ("azure_face", "Verify", "verification_1to1"),
    ]
    # a name that only contains the client's variable is not a call
    assert scan("mydsface.recognize_later = True") == []
