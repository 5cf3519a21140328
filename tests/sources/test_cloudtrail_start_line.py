"""The line each CloudTrail record starts on (`Event.start_line`), in every layout the source
splits itself: what SARIF's `region.startLine` and the JSON report's `start_line` show."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import orjson

from auditor.config.bundle import SourceSettings
from auditor.core.models import Event
from auditor.sources import ReadJob, read_file
from tests.sources.test_sources_cloudtrail import rekognition


def read(root: Path, rel: str):  # type: ignore[no-untyped-def]
    return read_file(ReadJob(str(root), rel, "auto", SourceSettings()))


def background(i: int) -> dict[str, object]:
    """A record no catalogue entry knows, with nested arrays of objects (`},{` inside it)."""
    return {
        "eventVersion": "1.08",
        "eventTime": "2021-03-04T10:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "resources": [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::b/{i}"}, {"a": {"b": []}}],
    }


def record_at(text: str, line: int) -> object:
    """The JSON value that starts on `line` (1-based) of `text`, as a parser reads it."""
    rest = "\n".join(text.split("\n")[line - 1 :]).lstrip()
    assert rest.startswith("{"), f"line {line} does not start a record: {rest[:40]!r}"
    value, _ = json.JSONDecoder().raw_decode(rest)
    return value


def check_starts(text: str, events: list[Event]) -> None:
    assert events
    for ev in events:
        assert ev.line is None and ev.start_line is not None
        rec = record_at(text, ev.start_line)
        assert isinstance(rec, dict) and rec["eventID"] == ev.event_id


def test_pretty_printed_records_document(tmp_path: Path) -> None:
    records = []
    for i in range(30):
        records.append(background(i))
        if i % 7 == 3:
            records.append(rekognition(eventID=f"face-{i}"))
    text = json.dumps({"Records": records}, indent=2)
    (tmp_path / "t.json").write_text(text)
    result = read(tmp_path, "t.json")
    assert result.issues == [] and len(result.events) == 4
    check_starts(text, result.events)
    # the record index (the locator finding ids and evidence archives use) is unchanged
    faces = [i for i, r in enumerate(records) if r["eventSource"] != "s3.amazonaws.com"]
    assert [e.record for e in result.events] == faces


def test_pretty_printed_gzip_and_four_space_indent(tmp_path: Path) -> None:
    records = [background(0), rekognition(eventID="a"), background(1), rekognition(eventID="b")]
    text = json.dumps({"Records": records}, indent=4)
    with gzip.open(tmp_path / "t.json.gz", "wt") as out:
        out.write(text)
    result = read(tmp_path, "t.json.gz")
    assert result.issues == []
    check_starts(text, result.events)


def test_top_level_array_document(tmp_path: Path) -> None:
    text = json.dumps([background(0), rekognition(eventID="x"), rekognition(eventID="y")], indent=1)
    (tmp_path / "t.json").write_text("\n\n" + text)
    result = read(tmp_path, "t.json")
    check_starts("\n\n" + text, result.events)
    assert [e.start_line for e in result.events] == sorted({e.start_line for e in result.events})


def test_one_pretty_printed_record(tmp_path: Path) -> None:
    text = "\n\n" + json.dumps(rekognition(eventID="solo"), indent=2) + "\n"
    (tmp_path / "t.json").write_text(text)
    (event,) = read(tmp_path, "t.json").events
    assert event.start_line == 3
    assert record_at(text, 3) == rekognition(eventID="solo")


def test_line_located_records_keep_their_line(tmp_path: Path) -> None:
    """A delivery file (one line) and JSON lines: `line` already says where the record is."""
    delivery = orjson.dumps({"Records": [background(0), rekognition(), rekognition()]}).decode()
    (tmp_path / "d.json").write_text(delivery)
    events = read(tmp_path, "d.json").events
    assert [(e.line, e.record, e.start_line) for e in events] == [(1, 1, None), (1, 2, None)]
    lines = "".join(orjson.dumps(r).decode() + "\n" for r in [background(0), rekognition()])
    (tmp_path / "l.json").write_text(lines)
    (event,) = read(tmp_path, "l.json").events
    assert (event.line, event.record, event.start_line) == (2, None, None)
