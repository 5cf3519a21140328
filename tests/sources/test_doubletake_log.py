"""Double Take's own log (messages.log and container output) and the util.inspect reader."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.config.bundle import SourceSettings
from auditor.sources import nodeinspect
from auditor.sources.appdetect import app_log_kind
from auditor.sources.nodeinspect import Placeholder
from tests.logsamples import SAMPLES, issues, read_sample, rows


def test_messages_log_events_by_kind() -> None:
    result = read_sample("double-take/messages.log")
    assert result.source == "doubletake_log"
    assert result.records == 20  # prefixed lines; dump and stack-trace lines belong to them
    assert rows(result) == [
        (19, None, "compreface", "recognize", "identification_1toN", "double-take", "succeeded"),
        (54, None, "double_take", "recognize", "identification_1toN", "double-take", "no_result"),
        (58, None, "double_take", "train", "enrolment", "double-take", "succeeded"),
        (62, None, "double_take", "recognize", "identification_1toN", "double-take", "succeeded"),
        (78, None, "double_take", "recognize", "identification_1toN", "double-take", "truncated"),
    ]
    front, garage, train, empty, cut = result.events
    assert front.event_id == "1687782285.441066-37ntpv"
    assert dict(front.attributes) == {
        "attempts": "4",
        "best_confidence": "91.30",
        "camera": "front_door",
        "detector": "compreface",
        "match_confidences": "alex:91.30",
        "match_count": "1",
        "matched_names": "alex",
        "record_lines": "17,19-53",  # the `processing` line and the dump: for evidence archives
        "zones": "porch",
    }
    assert front.frames == (
        "frames/5b2f1c7e-4e7a-4a8e-9d0b-1f4b7f0c2a11.jpg",
        "frames/9d8c7b6a-1111-4c2d-8e9f-0a1b2c3d4e5f.jpg",
    )
    assert front.time.isoformat() == "2023-06-26T12:24:46+00:00"  # first seen: `processing`
    assert garage.attempted_only and dict(garage.attributes) == {"camera": "garage"}
    assert dict(train.attributes) == {"files": "3", "subject": "alex"}
    assert (empty.attr("match_count"), empty.attr("matched_names")) == ("0", None)
    # the dump cut off by the end of the file still yields what it had
    assert (cut.attr("camera"), cut.attr("matched_names"), cut.attr("best_confidence")) == (
        "back_yard",
        "robin",
        "83.51",
    )
    assert issues(result) == [
        (75, None, "bad time '23-13-26 12:28:00'"),
        (
            78,
            None,
            "result dump of 1687782570.555555-zz99yy cut off by the end of the file: read as "
            "far as it goes",
        ),
    ]


def test_container_output_takes_the_results_own_timestamp() -> None:
    result = read_sample("double-take/container-stdout.log")
    assert result.source == "doubletake_log" and result.records == 7
    event, untimed = result.events
    assert event.time.isoformat() == "2023-06-26T14:33:20.100000+00:00"
    assert (event.service, event.attr("matched_names")) == ("deepstack", "casey")
    # a `processing` line without a result and without a time cannot be placed in time: an
    # event all the same (the recognition was started), undated, with a notice at its line
    assert (untimed.line, untimed.outcome, untimed.untimed) == (29, "no_result", True)
    assert [(n.line, n.message.split(":")[0]) for n in result.notices] == [
        (29, "recognize has no time")
    ]
    assert issues(result) == []


def test_one_event_per_id_and_the_bundle_timezone(tmp_path: Path) -> None:
    dump = (
        "22-04-30 16:34:17 info: {{\n  id: 'a1',\n  timestamp: '2022-04-30T16:34:17.431Z',\n"
        "  attempts: {n},\n  camera: 'side',\n  zones: [],\n"
        "  matches: [ {{ name: 'kim', confidence: {c}, match: true, box: [Object], "
        "detector: '{d}' }} ],\n  misses: []\n}}\n"
    )
    text = (
        "22-04-30 16:34:16 info: processing side: a1\n"
        + dump.format(n=1, c=70.5, d="compreface")
        + "22-04-30 16:34:20 info: processing side: a1\n"
        + dump.format(n=2, c=75, d="deepstack")
    )
    (tmp_path / "messages.log").write_text(text)
    settings = SourceSettings(timezone="Europe/Berlin")
    result = read_sample("messages.log", settings=settings, root=tmp_path)
    (event,) = result.events  # the same Frigate event processed twice is one search
    assert event.time.isoformat() == "2022-04-30T14:34:16+00:00"
    assert dict(event.attributes) == {
        "attempts": "3",
        "best_confidence": "75.00",
        "camera": "side",
        "detector": "compreface,deepstack",
        "match_confidences": "kim:70.50,kim:75.00",
        "match_count": "2",
        "matched_names": "kim",
        "record_lines": "1-10,12-20",  # the second `processing` line (11) adds nothing
        "results": "2",
    }
    assert result.issues == []


def test_a_dump_interrupted_by_another_line_is_an_error_and_still_an_event(tmp_path: Path) -> None:
    text = (
        "23-01-02 10:00:00 info: {\n  id: 'b2',\n  camera: 'gate',\n  matches: [\n"
        "23-01-02 10:00:01 info: MQTT: connected\n"
    )
    (tmp_path / "messages.log").write_text(text)
    result = read_sample("messages.log", root=tmp_path)
    assert [(e.line, e.outcome, e.attr("camera")) for e in result.events] == [
        (1, "truncated", "gate")
    ]
    assert issues(result) == [
        (1, None, "result dump of b2 cut off by line 5: read as far as it goes")
    ]


def test_negatives_start_up_and_other_lines_are_no_events(tmp_path: Path) -> None:
    text = (
        "23-01-02 10:00:00 info: Double Take v1.13.1-8e2728d\n"
        "23-01-02 10:00:00 verbose: {\n  auth: false,\n  mqtt: { host: '192.0.2.5' },\n"
        "  frigate: { labels: [ 'person' ], attempts: { latest: 10, snapshot: 0 } }\n}\n"
        "23-01-02 10:00:01 info: MQTT: connected\n"
        "23-01-02 10:00:02 info: purged 3 file(s)\n"
        "23-01-02 10:00:03 warn: sleeping for 1 second(s)\n"
        "23-01-02 10:00:04 verbose: processing skipped for compreface: no faces found\n"
    )
    (tmp_path / "messages.log").write_text(text)
    result = read_sample("messages.log", root=tmp_path)
    assert result.source == "doubletake_log" and result.records == 6
    assert result.events == [] and result.issues == []


def test_detected_by_content_without_audit_toml() -> None:
    assert app_log_kind(b"21-08-04 13:24:44 info: processing ufficio: 1628083463.1-oi99t2\n") == (
        "doubletake_log"
    )
    assert app_log_kind(b"info: Double Take v1.13.1\ninfo: MQTT: connected\n") == "doubletake_log"
    assert app_log_kind(b"info: something else\n") is None
    assert app_log_kind(b'10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1\n') is (
        None
    )


def test_inspect_reader_values_and_placeholders() -> None:
    text = (
        "{\n  name: 'o\\'brien',\n  other: \"it's\",\n  tick: `a'b\"c`,\n  n: -1.5e2,\n"
        "  big: 12n,\n  u: undefined,\n  nan: NaN,\n  box: [Object],\n  checks: [Array],\n"
        "  'zone-a': [ 1, 2, ... 98 more items ],\n  f: [Function: cb],\n  d: null\n}"
    )
    parsed = nodeinspect.parse(text)
    assert parsed.complete
    value = parsed.value
    assert (value["name"], value["other"], value["tick"]) == ("o'brien", "it's", "a'b\"c")
    assert (value["n"], value["big"], value["u"], value["d"]) == (-150.0, 12, None, None)
    assert value["box"] == Placeholder("[Object]") and value["checks"] == Placeholder("[Array]")
    assert value["zone-a"] == [1, 2] and value["f"] == Placeholder("[Function: cb]")
    assert value["nan"] != value["nan"]


def test_inspect_reader_partial_and_refused() -> None:
    cut = nodeinspect.parse("{ id: 'x', matches: [ { name: 'a', confidence: 9")
    assert not cut.complete
    assert cut.value == {"id": "x", "matches": [{"name": "a", "confidence": 9}]}
    for bad in ("", "}", "{ a b }", "{ : 1 }", "[" * 100 + "]" * 100):
        with pytest.raises(ValueError):
            nodeinspect.parse(bad)
    with pytest.raises(ValueError):
        nodeinspect.parse("{ a: '" + "x" * (nodeinspect.MAX_CHARS + 1) + "' }")


def test_inspect_reader_every_cut_of_a_real_dump_is_partial_or_refused() -> None:
    lines = (SAMPLES / "double-take/messages.log").read_text().splitlines()
    start = lines.index("23-06-26 12:24:47 info: {")
    dump = "\n".join(["{", *lines[start + 1 : lines.index("}", start) + 1]])
    assert nodeinspect.parse(dump).complete
    for cut in range(1, len(dump)):
        try:
            parsed = nodeinspect.parse(dump[:cut])
        except ValueError:
            continue
        assert not parsed.complete and isinstance(parsed.value, dict)


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None, derandomize=True, database=None)
def test_inspect_reader_never_fails_otherwise(text: str) -> None:
    try:
        nodeinspect.parse(text)
    except ValueError:
        pass


def test_docker_compose_logs_prefix(tmp_path: Path) -> None:
    body = (SAMPLES / "double-take/container-stdout.log").read_text().splitlines()
    (tmp_path / "compose.log").write_text("".join(f"double-take    | {line}\n" for line in body))
    result = read_sample("compose.log", root=tmp_path)
    # a compose file may mix services: it is read as wrapped lines, each inner line by the
    # source that reads it, so Double Take's lines give the events they give on their own
    assert result.source == "wrapped"
    alone = read_sample("double-take/container-stdout.log")
    assert [(e.line, e.attr("matched_names")) for e in result.events] == [(6, "casey"), (29, None)]
    assert [(e.line, e.time, e.operation) for e in result.events] == [
        (e.line, e.time, e.operation) for e in alone.events
    ]
    assert sorted((i.line, i.message) for i in result.issues) == sorted(
        (i.line, i.message) for i in alone.issues
    )


def test_docker_logs_timestamps(tmp_path: Path) -> None:
    """`docker logs --timestamps`: an RFC 3339 UTC time before each console line."""
    (tmp_path / "dt.log").write_text(
        "2023-06-26T12:24:46.020123456Z info: processing gate: 7f3e-1\n"
        "2023-06-26T12:24:47Z info: {\n  id: '7f3e-1',\n  camera: 'gate',\n  attempts: 1,\n"
        "  matches: [],\n  misses: [],\n  unknowns: []\n}\n"
    )
    result = read_sample("dt.log", root=tmp_path)
    assert result.source == "doubletake_log"
    assert [(e.line, e.time.isoformat(), e.attr("match_count")) for e in result.events] == [
        (2, "2023-06-26T12:24:46.020123+00:00", "0")
    ]
    assert result.issues == []
