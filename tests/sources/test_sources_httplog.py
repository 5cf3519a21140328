"""HTTP access logs (combined, common, JSON, Caddy) through the route catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.config.bundle import JsonlMapping, SourceSettings, TextPattern
from auditor.sources import sniff
from tests.logsamples import issues, read_sample, rows


def test_nginx_combined() -> None:
    result = read_sample("nginx/access.log")
    assert result.source == "httplog" and result.records == 9
    assert rows(result) == [
        (2, None, "compreface", "recognize", "identification_1toN", "10.20.0.15", "succeeded"),
        (3, None, "compreface", "add_face", "enrolment", "10.20.0.15", "succeeded"),
        (
            4,
            None,
            "deepstack",
            "face.recognize",
            "identification_1toN",
            "192.168.7.40",
            "succeeded",
        ),
        (5, None, "deepstack", "face", "face_detection", "192.168.7.40", "succeeded"),
        (6, None, "azure_face", "Identify", "identification_1toN", "analyst7", "failed"),
        (7, None, "compreface", "manage", "other", "10.20.0.16", "succeeded"),
        (9, None, "faceplusplus", "search", "identification_1toN", "2001:db8::17", "succeeded"),
        (
            10,
            None,
            "http",
            "POST /api/face-search/v2",
            "suspected_face_matching",
            "10.20.0.15",
            "succeeded",
        ),
    ]
    assert issues(result) == [
        (8, None, "not an access-log line (expected the common or combined format)")
    ]
    assert [n.line for n in result.notices] == [10]
    recognize, *_ = result.events
    assert recognize.time.isoformat() == "2026-03-14T09:12:03+00:00"
    assert dict(recognize.attributes) == {
        "client_address": "10.20.0.15",
        "http_method": "POST",
        "http_status": "200",
        "http_path": "/api/v1/recognition/recognize",
        "user_agent": "axios/0.27.2",
    }
    identify = result.events[4]
    assert identify.principal.address == "10.20.0.16" and identify.error_code == "HTTP 403"
    assert identify.attr("authenticated_user") == "analyst7"
    assert result.events[2].time.isoformat() == "2026-03-14T08:13:10+00:00"  # +0100 -> UTC


def test_apache_common_without_referer_and_agent() -> None:
    result = read_sample("apache/access_common.log")
    assert result.source == "httplog" and result.records == 5 and result.issues == []
    assert [(e.line, e.operation, e.kind.value, e.outcome) for e in result.events] == [
        (2, "Verify", "verification_1to1", "succeeded"),
        (3, "largepersongroups.Create", "enrolment", "succeeded"),
        (4, "largepersongroups.Person.AddFace", "enrolment", "succeeded"),
        (5, "CreateLivenessWithVerifySession", "verification_1to1", "failed"),
    ]
    assert result.events[0].time.isoformat() == "2025-10-10T20:56:02+00:00"
    assert result.events[0].attr("user_agent") is None


def test_json_access_log() -> None:
    result = read_sample("json-access/access.jsonl")
    assert result.source == "httplog" and result.records == 4
    assert rows(result) == [
        (1, None, "azure_face", "FindSimilar", "identification_1toN", "10.30.1.5", "succeeded"),
        (2, None, "azure_face", "largefacelists.AddFace", "enrolment", "svc-matcher", "succeeded"),
        (4, None, "deepstack", "face.match", "verification_1to1", "10.30.1.6", "failed"),
    ]
    assert result.events[1].principal.address == "10.30.1.5"
    assert issues(result) == [(5, None, "malformed JSON: unexpected end of data")]


def test_caddy_json_access_log() -> None:
    result = read_sample("caddy/access.json")
    assert result.source == "httplog" and result.records == 2 and result.issues == []
    (event,) = result.events
    assert (event.operation, event.kind.value, event.principal.id) == (
        "face.register",
        "enrolment",
        "10.40.0.8",
    )
    assert event.time.isoformat() == "2026-03-14T09:20:00.524102+00:00"
    assert event.attr("user_agent") == "Blue Iris"


def test_gzip_access_log(tmp_path: Path) -> None:
    import gzip

    raw = (Path(__file__).parents[2] / "fixtures/logs-samples/nginx/access.log").read_bytes()
    (tmp_path / "access.log.gz").write_bytes(gzip.compress(raw))
    result = read_sample("access.log.gz", root=tmp_path)
    assert result.source == "httplog" and len(result.events) == 8


@pytest.mark.parametrize(
    ("name", "head", "source"),
    [
        ("a.log", b'1.2.3.4 - - [10/Oct/2025:13:55:36 -0700] "GET / HTTP/1.0" 200 1\n', "httplog"),
        (
            "a.txt",
            b'1.2.3.4 - u [10/Oct/2025:13:55:36 -0700] "GET / HTTP/1.0" 200 - "-" "x"\n',
            "httplog",
        ),
        ("a.log", b"2023-05-02T08:00:00Z user=pd svc=rekognition op=Search\n", "text"),
        (
            "a.log",
            b'{"remote_addr":"1.2.3.4","request":"GET / HTTP/1.1","status":200}\n',
            "httplog",
        ),
        ("a.jsonl", b'{"remote_addr":"1.2.3.4","uri":"/","status":200,"time":"x"}\n', "httplog"),
        (
            "a.jsonl",
            b'{"time":"x","principal":"p","service":"s","operation":"o","status":1,"path":"/"}\n',
            "jsonl",
        ),
    ],
)
def test_access_logs_are_sniffed_by_content(name: str, head: bytes, source: str) -> None:
    assert sniff(name, head) == source


def test_explicit_text_pattern_or_jsonl_mapping_keeps_the_generic_source(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "a.log").write_bytes(
        b'1.2.3.4 - - [10/Oct/2025:13:55:36 -0700] "POST /facepp/v3/search HTTP/1.0" 200 1\n'
    )
    (logs / "b.jsonl").write_bytes(b'{"uri":"/facepp/v3/search","status":200}\n')
    settings = SourceSettings(
        text_patterns=(
            TextPattern(
                "logs/a.log",
                r"^(?P<principal>\S+) .*\[(?P<time>[^\]]+)\]"
                r' "POST /facepp/v3/(?P<operation>\w+)',
                "%d/%b/%Y:%H:%M:%S %z",
            ),
        ),
        jsonl_mappings=(JsonlMapping("logs/b.jsonl", (("operation", "uri"),)),),
    )
    assert read_sample("logs/a.log", settings, root=tmp_path).source == "text"
    assert read_sample("logs/b.jsonl", settings, root=tmp_path).source == "jsonl"
    assert read_sample("logs/a.log", root=tmp_path).source == "httplog"
    # a JSON-lines mapping never turns a text access log into JSON lines
    broad = SourceSettings(jsonl_mappings=(JsonlMapping("logs/*", (("operation", "uri"),)),))
    assert read_sample("logs/a.log", broad, root=tmp_path).source == "httplog"


def test_bad_time_and_missing_request_are_located(tmp_path: Path) -> None:
    (tmp_path / "x.log").write_bytes(
        b'1.2.3.4 - - [10/Oct/2025:13:55:36 -0700] "POST /facepp/v3/search HTTP/1.0" 200 1\n'
        b'1.2.3.4 - - [99/Zzz/2025:13:55:36 -0700] "POST /facepp/v3/search HTTP/1.0" 200 1\n'
        b'{"status": 200, "uri": null}\n'
    )
    result = read_sample("x.log", root=tmp_path)
    assert result.records == 1 and len(result.events) == 2
    # the line with the bad time is not read, so the sweep reports the search it names
    swept = result.events[1]
    assert (swept.source, swept.line, swept.kind.value) == (
        "sweep",
        2,
        "suspected_face_matching",
    )
    assert [(line, msg.split(" ")[0]) for line, _, msg in issues(result)] == [
        (2, "bad"),
        (3, "access-log"),
    ]


def test_lines_without_a_request_are_records_not_errors(tmp_path: Path) -> None:
    (tmp_path / "x.log").write_bytes(
        b'203.0.113.5 - - [14/Mar/2026:09:12:01 +0000] "-" 400 0 "-" "-"\n'
        b'203.0.113.5 - - [14/Mar/2026:09:12:02 +0000] "\\x16\\x03\\x01\\x02\\x00" 400 157'
        b' "-" "-"\n'
        b'203.0.113.5 - - [14/Mar/2026:09:12:03 +0000] "POST /facepp/v3/compare" 200 9 "-" "-"\n'
    )
    result = read_sample("x.log", root=tmp_path)
    assert result.source == "httplog" and result.records == 3 and result.issues == []
    assert [(e.line, e.operation) for e in result.events] == [(3, "compare")]  # HTTP/0.9 form
