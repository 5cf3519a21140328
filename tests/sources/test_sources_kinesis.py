"""Rekognition Video stream-processor output (raw, Lambda Kinesis event, get-records) and the
CloudTrail CreateStreamProcessor settings that tell face search from ConnectedHome detection."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from auditor.sources import sniff
from tests.logsamples import SAMPLES, issues, read_sample

OUTPUT_ARN = "arn:aws:kinesis:us-east-1:111122223333:stream/AmazonRekognition-lobby-output"
VIDEO_ARN = "arn:aws:kinesisvideo:us-east-1:111122223333:stream/lobby-cam/1510552593456"


def searches(result):  # type: ignore[no-untyped-def]
    return [
        (e.line, e.record, e.attr("match_count"), e.attr("best_similarity"), e.time.isoformat())
        for e in result.events
    ]


def test_raw_frame_records() -> None:
    result = read_sample("rekognition-video/frame-records.jsonl")
    assert result.source == "kinesis_rekognition" and result.records == 3
    assert searches(result) == [
        (1, None, "2", "88.86", "2026-03-16T09:00:00.455000+00:00"),
        (2, None, "0", None, "2026-03-16T09:00:01.455000+00:00"),
        (2, None, "1", "99.10", "2026-03-16T09:00:01.455000+00:00"),
    ]
    first = result.events[0]
    assert (first.service, first.operation, first.kind.value) == (
        "rekognition",
        "StreamProcessorFaceSearch",
        "identification_1toN",
    )
    assert first.principal.id == VIDEO_ARN and first.principal.account == "111122223333"
    assert first.attr("matched_face_ids") == (
        "a4b1c2d3-0000-4000-8000-000000000001,a4b1c2d3-0000-4000-8000-000000000002"
    )
    assert first.attr("external_image_ids") == "person-17,person-17b"
    assert first.attr("stream_processor_status") == "RUNNING"
    assert issues(result) == [
        (4, None, "not a Rekognition Video frame record (no FaceSearchResponse)")
    ]


def test_lambda_kinesis_event_is_not_cloudtrail() -> None:
    head = (SAMPLES / "rekognition-video/lambda-kinesis-event.json").read_bytes()[:65536]
    assert sniff("event.json", head) == "kinesis_rekognition"
    result = read_sample("rekognition-video/lambda-kinesis-event.json")
    assert result.source == "kinesis_rekognition" and result.records == 2
    assert [(e.record, e.attr("match_count")) for e in result.events] == [
        (0, "2"),
        (1, "0"),
        (1, "1"),
    ]
    event = result.events[0]
    assert event.principal.id == OUTPUT_ARN
    assert event.principal.arns == (OUTPUT_ARN, VIDEO_ARN)
    assert event.event_id == (
        "shardId-000000000000:49590330118934629980768267133068934345645198376590/0"
    )
    assert issues(result) == [(None, 2, "Kinesis data is not a JSON frame record: not base64")]


def test_get_records_output() -> None:
    result = read_sample("rekognition-video/get-records.json")
    assert result.source == "kinesis_rekognition" and result.issues == []
    assert [(e.record, e.attr("best_similarity")) for e in result.events] == [(0, "88.86")]


def test_one_line_lambda_event_and_explicit_processor_arn(tmp_path: Path) -> None:
    frame = json.loads(
        (SAMPLES / "rekognition-video/frame-records.jsonl").read_text().splitlines()[0]
    )
    frame["StreamProcessorArn"] = "arn:aws:rekognition:us-east-1:111122223333:streamprocessor/lobby"
    data = base64.b64encode(json.dumps(frame).encode()).decode()
    event = {
        "Records": [
            {"kinesis": {"data": data}, "eventSource": "aws:kinesis", "eventSourceARN": OUTPUT_ARN},
            {"kinesis": {"data": base64.b64encode(b"[1]").decode()}},
            "nonsense",
        ]
    }
    (tmp_path / "e.json").write_text(json.dumps(event) + "\n{broken\n")
    result = read_sample("e.json", root=tmp_path)
    assert result.source == "kinesis_rekognition"
    (search,) = result.events
    assert search.principal.id.endswith(":streamprocessor/lobby")
    assert search.principal.arns[1:] == (OUTPUT_ARN, VIDEO_ARN)
    assert issues(result) == [
        (1, 1, "Kinesis data is not a JSON object"),
        (1, 2, "record is not a JSON object"),
        (2, None, "malformed JSON: unexpected character, expected a string key"),
    ]


def trail(settings: dict[str, object]) -> str:
    return json.dumps(
        {
            "Records": [
                {
                    "eventVersion": "1.08",
                    "eventTime": "2026-03-16T08:00:00Z",
                    "eventSource": "rekognition.amazonaws.com",
                    "eventName": "CreateStreamProcessor",
                    "awsRegion": "us-east-1",
                    "userIdentity": {"arn": "arn:aws:iam::111122223333:role/x"},
                    "requestParameters": {"name": "p", "settings": settings},
                }
            ]
        }
    )


def test_cloudtrail_create_stream_processor_face_search_vs_connected_home(tmp_path: Path) -> None:
    (tmp_path / "fs.json").write_text(trail({"faceSearch": {"collectionId": "watchlist"}}))
    (tmp_path / "ch.json").write_text(trail({"connectedHome": {"labels": ["PERSON"]}}))
    assert [e.kind.value for e in read_sample("fs.json", root=tmp_path).events] == [
        "identification_1toN"
    ]
    connected = read_sample("ch.json", root=tmp_path)
    assert connected.source == "cloudtrail"
    assert [e.kind.value for e in connected.events] == ["face_detection"]


def test_a_frame_with_more_faces_than_rekognition_reports_is_cut_and_said(
    tmp_path: Path, cli: Callable[..., Any], db_url: str
) -> None:
    """150,000 face searches in one record were 150,000 events (minutes of work).
    Rekognition reports at most 100 faces per frame: the first 100 are read and the rest is one
    located error, through the real CLI (exit 3: the audit is incomplete)."""
    import gzip

    frame = json.loads(
        (SAMPLES / "rekognition-video/frame-records.jsonl").read_text().splitlines()[0]
    )
    frame["FaceSearchResponse"] = [{"MatchedFaces": []}] * 150_000  # 6 MB of base64
    data = base64.b64encode(json.dumps(frame).encode()).decode()
    event = {"Records": [{"kinesis": {"data": data}, "eventSourceARN": OUTPUT_ARN}]}
    logs = tmp_path / "b" / "logs"
    logs.mkdir(parents=True)
    with gzip.open(logs / "lambda-event.json.gz", "wt") as fh:
        fh.write(json.dumps(event) + "\n")
    out = tmp_path / "r.json"
    res = cli("audit", tmp_path / "b", "--no-frames", "--db", db_url, "-f", "json", "-o", out)
    assert res.exit_code == 3, res.output
    report = json.loads(out.read_text())
    assert report["summary"]["face_operations"] == 100
    assert [(e["file"], e["line"], e["record"], e["message"]) for e in report["errors"]] == [
        (
            "logs/lambda-event.json.gz",
            None,  # the file is one document: its Kinesis record by index
            0,
            "FaceSearchResponse has 150,000 entries; Rekognition reports at most 100 faces per "
            "frame: only the first 100 are read",
        )
    ]
