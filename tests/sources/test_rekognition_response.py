"""Amazon Rekognition responses saved as printed: each is one call of the operation its shape
names; boto3's ResponseMetadata dates it, the CLI's output is an undated event."""

from __future__ import annotations

from pathlib import Path

from auditor.core.models import NO_TIME
from auditor.sources import sniff
from tests.logsamples import issues, read_sample

REALWORLD = Path(__file__).resolve().parents[2] / "fixtures" / "realworld"


def test_boto3_dumps_dated_by_their_http_date_header() -> None:
    result = read_sample("rekognition-responses/boto3-responses.jsonl")
    assert result.source == "rekognition_response" and result.records == 5
    assert [
        (e.line, e.operation, e.kind.value, e.time.isoformat(), e.principal.id)
        for e in result.events
    ] == [
        (1, "SearchFacesByImage", "identification_1toN", "2024-05-11T10:02:52+00:00", "unknown"),
        (2, "CompareFaces", "verification_1to1", "2024-05-11T10:03:10+00:00", "unknown"),
        (3, "IndexFaces", "enrolment", "2024-05-11T10:05:41+00:00", "unknown"),
        (4, "DetectFaces", "face_detection", "2024-05-11T10:06:02+00:00", "unknown"),
    ]
    first = result.events[0]
    assert first.event_id == "5d7c3a1e-0f2b-4e6d-8c9a-1b2c3d4e5f60"
    assert (first.attr("match_count"), first.attr("best_similarity")) == ("1", "97.81")
    assert not any(e.untimed for e in result.events) and result.notices == []
    # line 5 is a DetectLabels response (counted and left), line 6 is cut off
    assert [(line, msg.split(":")[0]) for line, _, msg in issues(result)] == [(6, "malformed JSON")]


def test_cli_output_has_no_time_and_is_an_undated_event() -> None:
    result = read_sample("rekognition-responses/compare-faces-cli.json")
    (event,) = result.events
    assert (event.line, event.operation, event.time, event.untimed) == (
        1,
        "CompareFaces",
        NO_TIME,
        True,
    )
    ((note),) = result.notices
    assert note.line == 1 and "CompareFaces has no time" in note.message
    assert issues(result) == []


def test_corpus_response_and_failed_calls(tmp_path: Path) -> None:
    result = read_sample("json/rekognition-search-faces-by-image.json", root=REALWORLD)
    assert [(e.operation, e.attr("match_count")) for e in result.events] == [
        ("SearchFacesByImage", "1")
    ]
    (tmp_path / "r.json").write_text(
        '{"FaceRecords": [], "UnindexedFaces": [], "ResponseMetadata": {"RequestId": "r1",'
        ' "HTTPStatusCode": 400, "HTTPHeaders": {"date": "Sat, 11 May 2024 10:02:52 GMT"}}}\n'
    )
    (failed,) = read_sample("r.json", root=tmp_path).events
    assert (failed.outcome, failed.error_code, failed.attempted_only) == (
        "failed",
        "HTTP 400",
        True,
    )


def test_detection_leaves_cloudtrail_and_kinesis_alone() -> None:
    assert (
        sniff("a.json", b'{"SearchedFaceId": "x", "FaceMatches": []}\n') == "rekognition_response"
    )
    assert sniff("a.json", b'{"FaceDetails": []}\n') == "rekognition_response"
    # a CloudTrail record carries the response under responseElements, not at the top
    ct = (
        b'{"eventVersion": "1.08", "eventSource": "rekognition.amazonaws.com",'
        b' "responseElements": {"FaceMatches": []}}\n'
    )
    assert sniff("a.json", ct) != "rekognition_response"
    kinesis = b'{"InputInformation": {}, "FaceSearchResponse": [{"MatchedFaces": []}]}\n'
    assert sniff("a.json", kinesis) == "kinesis_rekognition"
