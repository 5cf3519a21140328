"""Azure Monitor resource logs of Azure AI Face and Google Cloud audit logs of Cloud Vision."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.sources import sniff
from tests.logsamples import SAMPLES, issues, read_sample, rows

APP = "3f1c9a2e-7b44-4d0e-8b51-2c6d9e0f1a7b"
RUNNER = "vision-runner@cctv-analytics.iam.gserviceaccount.com"


def test_azure_request_response_lines() -> None:
    result = read_sample("azure-monitor/requestresponse.jsonl")
    assert result.source == "azure_monitor" and result.records == 4  # the Audit record counts
    assert rows(result) == [
        (1, None, "azure_face", "Identify", "identification_1toN", APP, "succeeded"),
        (2, None, "azure_face", "Detect", "face_detection", APP, "succeeded"),
        (3, None, "azure_face", "Face_Verify", "verification_1to1", "203.0.113.9", "failed"),
    ]
    identify, _, verify = result.events
    assert identify.principal.address == "10.50.2.11"
    assert identify.event_id == "5b0c2f1e-8a6d-4c3b-9f21-7d4e0a1b2c3d"
    assert identify.time.isoformat() == "2026-03-14T10:00:01.123000+00:00"
    assert identify.attr(
        "azure_resource_id",
    ).endswith("/ACCOUNTS/FACE-PROD")  # type: ignore[union-attr]
    assert identify.attr("http_path") == "/face/v1.0/identify"
    assert verify.error_code == "401"
    assert issues(result) == [(5, None, "missing field operationName")]


def test_azure_records_document() -> None:
    result = read_sample("azure-monitor/PT1H.json")
    assert result.source == "azure_monitor" and result.issues == []
    assert rows(result) == [
        (None, 0, "azure_face", "largepersongroups.Person.AddFace", "enrolment", APP, "succeeded"),
        (
            None,
            1,
            "azure_face",
            "Face_FindSimilar",
            "identification_1toN",
            "10.50.2.12",
            "succeeded",
        ),
    ]


def test_azure_one_line_records_document_and_bad_records(tmp_path: Path) -> None:
    doc = json.loads((SAMPLES / "azure-monitor/PT1H.json").read_text())
    doc["records"].append(
        {"operationName": "Face_Identify", "category": "RequestResponse", "time": "soon"}
    )
    doc["records"].append(7)
    (tmp_path / "PT1H.json").write_text(json.dumps(doc) + "\n")
    result = read_sample("PT1H.json", root=tmp_path)
    assert result.source == "azure_monitor" and len(result.events) == 2
    assert issues(result) == [
        (1, 2, "missing or bad time: 'soon'"),
        (1, 3, "record is not a JSON object"),
    ]


def test_gcp_vision_array_from_gcloud() -> None:
    result = read_sample("gcp-audit/vision-annotate.json")
    assert result.source == "gcp_audit" and result.records == 3 and result.issues == []
    # the LABEL/TEXT-only request (record 1) is not a face operation
    assert rows(result) == [
        (
            None,
            0,
            "google_vision",
            "ImageAnnotator.BatchAnnotateImages",
            "face_detection",
            RUNNER,
            "succeeded",
        ),
        (
            None,
            2,
            "google_vision",
            "ImageAnnotator.BatchAnnotateImages",
            "face_detection",
            "analyst@example.org",
            "failed",
        ),
    ]
    denied = result.events[1]
    assert denied.error_code == "7 The caller does not have permission"
    assert denied.principal.address == "198.51.100.23" and denied.event_id == "1x2y3z3"
    assert denied.attr("gcp_project") == "cctv-analytics"


def test_gcp_sink_lines() -> None:
    result = read_sample("gcp-audit/vision-sink.jsonl")
    assert result.source == "gcp_audit" and result.records == 3
    assert [e.line for e in result.events] == [1, 3]
    assert issues(result) == [(4, None, "missing field protoPayload")]


@pytest.mark.parametrize(
    ("name", "obj", "source"),
    [
        ("a.jsonl", {"protoPayload": {}}, "gcp_audit"),
        ("a.jsonl", {"time": "t", "resourceId": "/x", "operationName": "o"}, "azure_monitor"),
        ("a.json", {"records": []}, "azure_monitor"),
        ("a.jsonl", {"eventSource": "s", "eventName": "n"}, "cloudtrail"),
    ],
)
def test_cloud_logs_are_sniffed_by_content(name: str, obj: dict[str, object], source: str) -> None:
    assert sniff(name, json.dumps(obj).encode() + b"\n") == source
    assert sniff(name, json.dumps(obj, indent=2).encode() + b"\n") == source


def test_one_line_gcp_array_is_not_cloudtrail(tmp_path: Path) -> None:
    entries = json.loads((SAMPLES / "gcp-audit/vision-annotate.json").read_text())
    (tmp_path / "gcp.json").write_text(json.dumps(entries) + "\n")
    result = read_sample("gcp.json", root=tmp_path)
    assert result.source == "gcp_audit" and [e.record for e in result.events] == [0, 2]
    assert sniff("ct.json", b'[{"eventSource": "s3.amazonaws.com"}]') == "cloudtrail"
