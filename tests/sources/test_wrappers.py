"""Wrapped lines: the wrapper is peeled, the inner line detected again and read by its source,
at the outer file's line numbers; what no source reads inside goes to the sweep."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from auditor.config.bundle import SourceSettings, TextPattern
from auditor.sources import sniff
from auditor.sources.peel import BY_NAME, peel
from auditor.sources.wrapped import detect_inner
from tests.logsamples import SAMPLES, read_sample

CLF = (
    '10.0.0.5 - - [14/Mar/2026:09:06:00 +0000] "POST /face/v1.0/identify HTTP/1.1" 200 186 '
    '"-" "curl/8.5.0"'
)


def _events(result: Any) -> list[tuple[Any, ...]]:
    return [(e.line, e.source, e.operation, e.attr("wrapper")) for e in result.events]


def test_compose_logs_mixing_services() -> None:
    """One `docker compose logs` file: each service's lines read by the right source."""
    result = read_sample("containers/docker-compose-logs.txt")
    assert result.source == "wrapped" and result.issues == []
    assert result.records == 4  # three access-log lines and one pipeline record
    assert _events(result) == [
        (2, "httplog", "recognize", "compose"),
        (3, "jsonl", "SearchFacesByImage", "compose"),
        (5, "sweep", "CompareFaces", None),  # the matcher's free text: suspected
        (6, "httplog", "add_face", "compose"),
    ]
    assert result.events[0].attr("wrapped_stream") == "proxy-1"
    assert result.events[1].frames == ("frames/cam-02/f0004.jpg",)
    swept = result.events[2]
    assert swept.error_code == "ResourceNotFoundException"
    assert swept.time.isoformat() == "2026-03-14T09:02:54.010000+00:00"


@pytest.mark.parametrize(
    ("rel", "wrapper", "expected"),
    [
        (
            "containers/docker-logs-timestamps.log",
            "docker_ts",
            [(2, "face.recognize"), (3, "face.register")],
        ),
        ("containers/kubectl-prefix.log", "kubectl", [(1, "Verify"), (3, "Identify")]),
        ("containers/cri-containerd.log", "cri", [(1, "search"), (2, "compare_faces")]),
        ("containers/json-file.log", "docker_json", [(1, "recognize")]),
        ("journald/journalctl-o-json.json", "journald", [(1, "FindSimilar"), (2, "find")]),
        ("syslog/rfc3164.log", "syslog3164", [(1, "Identify"), (3, "persongroups.Train")]),
        ("syslog/rfc5424.log", "syslog5424", [(1, "recognize"), (2, "SearchFacesByImage")]),
    ],
)
def test_each_wrapper(rel: str, wrapper: str, expected: list[tuple[int, str]]) -> None:
    result = read_sample(rel)
    assert result.source == "wrapped" and result.issues == [], result.issues
    assert [(e.line, e.operation) for e in result.events] == expected
    assert {e.attr("wrapper") for e in result.events if e.source != "sweep"} == {wrapper}


def test_cri_partial_lines_are_joined_at_the_first_line() -> None:
    result = read_sample("containers/cri-containerd.log")
    joined = result.events[1]
    assert (joined.source, joined.line, joined.event_id) == ("jsonl", 2, "cri-0002")
    # the stderr line is free text: not a record, swept (no face call in it)
    assert result.records == 2


def test_journald_gives_the_time_of_a_swept_line() -> None:
    result = read_sample("journald/journalctl-o-json.json")
    swept = result.events[1]
    assert (swept.source, swept.error_code) == ("sweep", "Timeout")
    assert swept.time.isoformat() == "2026-03-14T09:07:01.000001+00:00"


def test_cloudwatch_filter_log_events_of_a_lambda() -> None:
    """The Lambda runtime's lines inside CloudWatch events: START/END/REPORT are wrapper
    records; the handler's Python repr of the Kinesis event it got is read by the
    Rekognition stream-output source; its AccessDenied line is a suspected event."""
    result = read_sample("cloudwatch/filter-log-events.json")
    assert result.source == "wrapped" and result.issues == []
    search, denied = result.events
    assert (search.source, search.operation, search.attr("match_count")) == (
        "kinesis_rekognition",
        "StreamProcessorFaceSearch",
        "1",
    )
    assert search.attr("wrapper") == "cloudwatch+lambda"
    assert search.principal.id == "arn:aws:kinesis:us-east-1:111122223333:stream/face-search-output"
    assert (denied.source, denied.record, denied.error_code) == (
        "sweep",
        3,
        "AccessDeniedException",
    )
    assert denied.principal.account == "111122223333"
    assert denied.time.isoformat() == "2026-03-14T09:03:20.700000+00:00"


def test_cloudwatch_subscription_payload_gzipped_without_extension() -> None:
    result = read_sample("cloudwatch/subscription-payload.gz")
    assert result.source == "wrapped" and result.records == 2 and result.issues == []
    (identify,) = result.events
    assert (identify.operation, identify.line, identify.record) == ("Identify", 1, 0)
    assert identify.attr("wrapper") == "cloudwatch"


def test_peelers_on_single_lines() -> None:
    line = f"[pod/gw-1/nginx] {CLF}".encode()
    assert BY_NAME["kubectl"].peel(line).inner == CLF.encode()  # type: ignore[union-attr]
    p, names = peel(f"web-1  | 2026-03-14T09:02:51.123456789Z {CLF}".encode(), "compose")
    assert p is not None and p.inner == CLF.encode() and p.time == "2026-03-14T09:02:51.123456789Z"
    assert names == ["compose"]
    lam = BY_NAME["lambda"].peel(b"[INFO]\t2026-03-14T09:02:51.123Z\tabc-123-def\tmessage\n")
    assert lam is not None and lam.inner == b"message" and lam.time == "2026-03-14T09:02:51.123Z"
    start = BY_NAME["lambda"].peel(b"START RequestId: 3f9c2a1e Version: $LATEST")
    assert start is not None and start.empty
    split = BY_NAME["docker_json"].peel(b'{"log":"part one","stream":"stdout","time":"t"}')
    assert split is not None and split.partial
    assert BY_NAME["compose"].peel(b"2026-03-14 09:00:00 | INFO | started") is None


def test_inner_lines_detected_by_content() -> None:
    assert detect_inner(CLF.encode())[0] == "httplog"
    assert detect_inner(b"Received event: {'camera': 'door', 'attempts': 3, 'matches': []}")[0] == (
        "doubletake"
    )
    assert detect_inner(b'{"eventVersion": "1.08", "eventSource": "s3.amazonaws.com"}')[0] == (
        "cloudtrail"
    )
    assert detect_inner(b"plain text, nothing to read") == (None, None)


def test_plain_logs_that_start_with_a_time_are_not_wrapped(tmp_path: Path) -> None:
    """An ordinary log whose lines begin with an RFC 3339 time is not `docker logs
    --timestamps` unless what follows the time is a format a source reads."""
    demo = (SAMPLES.parent / "demo" / "logs" / "edge" / "gateway.log").read_bytes()
    assert sniff("logs/edge/gateway.log", demo) == "text"
    nginx = (SAMPLES / "nginx" / "access.log").read_bytes()
    assert sniff("access.log", nginx) == "httplog"
    # a bare `docker logs --timestamps` prefix before access lines is read by httplog itself
    # (it takes the time from the prefix); before lines only another source reads, it is wrapped
    stamped = b"".join(b"2026-03-14T09:03:00.1Z " + CLF.encode() + b"\n" for _ in range(3))
    assert sniff("x.log", stamped) == "httplog"
    record = (
        b'{"time":"2026-03-14T09:03:00Z","principal":"a",'
        b'"service":"rekognition","operation":"SearchFaces"}'
    )
    wrapped = b"".join(b"2026-03-14T09:03:00.1Z " + record + b"\n" for _ in range(3))
    assert sniff("x.log", wrapped) == "wrapped"


def test_audit_toml_text_pattern_keeps_a_wrapped_looking_file_as_text(tmp_path: Path) -> None:
    body = b"".join(f"web-1  | 2026-03-14T09:03:0{i}Z {CLF}\n".encode() for i in range(3))
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "c.log").write_bytes(body)
    settings = SourceSettings(
        text_patterns=(
            TextPattern(glob="logs/c.log", pattern=r"^(?P<operation>\S+) \| (?P<time>\S+)"),
        )
    )
    assert read_sample("logs/c.log", settings, root=tmp_path).source == "text"
    assert read_sample("logs/c.log", root=tmp_path).source == "wrapped"


def test_an_unread_wrapped_line_is_swept_with_the_wrapper_time(tmp_path: Path) -> None:
    lines = [
        {
            "log": "worker: calling rekognition:IndexFaces for booking-0417\n",
            "stream": "stdout",
            "time": "2026-03-14T10:00:00.123456789Z",
        },
        {"log": CLF + "\n", "stream": "stdout", "time": "2026-03-14T10:00:01.5Z"},
    ]
    (tmp_path / "abc-json.log").write_text("".join(json.dumps(x) + "\n" for x in lines))
    result = read_sample("abc-json.log", root=tmp_path)
    assert result.source == "wrapped"
    swept, identify = result.events
    assert (swept.source, swept.line, swept.operation) == ("sweep", 1, "IndexFaces")
    assert swept.time.isoformat() == "2026-03-14T10:00:00.123456+00:00"
    assert (identify.source, identify.line) == ("httplog", 2)


def test_every_peeler_has_a_sample_and_every_source_an_entry_point() -> None:
    """The two registries of this part, walked: each peeler reads a sample in
    fixtures/logs-samples, and each source but `wrapped` reads single lines or records."""
    from auditor.sources import SOURCES
    from auditor.sources.peel import PEELERS

    seen: set[str] = set()
    for path in SAMPLES.rglob("*"):
        if path.is_file() and path.name != "SOURCES.md":
            result = read_sample(path.relative_to(SAMPLES).as_posix())
            for e in result.events:
                seen.update((e.attr("wrapper") or "").split("+"))
    assert {p.name for p in PEELERS} - seen == set()
    for name, source in SOURCES.items():
        if name != "wrapped":
            assert hasattr(source, "read_line") or hasattr(source, "read_record"), name
