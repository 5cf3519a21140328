"""CloudTrail in every real shape, and every way a CloudTrail file can be broken."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from auditor.config.bundle import SourceSettings
from auditor.sources import FileResult, ReadJob, read_file
from tests.conftest import REAL_COUNTS, REALDATA


def read(root: Path, rel: str, settings: SourceSettings | None = None):  # type: ignore[no-untyped-def]
    return read_file(ReadJob(str(root), rel, "auto", settings or SourceSettings()))


@pytest.mark.parametrize("name", sorted(REAL_COUNTS))
def test_every_real_file_parses_with_its_documented_count(name: str) -> None:
    result = read(REALDATA, name)
    assert result.source == "cloudtrail"
    assert result.issues == []
    assert result.records == REAL_COUNTS[name]


def test_sha256_matches_the_provenance_file() -> None:
    sources = (REALDATA / "SOURCES.md").read_text()
    for name in REAL_COUNTS:
        assert f"{read(REALDATA, name).sha256}  {name}" in sources


@pytest.mark.parametrize("name", sorted(REAL_COUNTS))
def test_gzipped_copy_gives_the_same_count(tmp_path: Path, name: str) -> None:
    with gzip.open(tmp_path / (name + ".gz"), "wb") as out:
        out.write((REALDATA / name).read_bytes())
    result = read(tmp_path, name + ".gz")
    assert (result.records, result.issues) == (REAL_COUNTS[name], [])


def test_records_without_type_or_arn_are_attributed_without_error() -> None:
    name = "218007301253_CloudTrail_us-east-1_20230710T1215Z_YMDRJwtmC82bUwAo.json"
    doc = json.loads((REALDATA / name).read_text())
    service_events = [r for r in doc["Records"] if "arn" not in r["userIdentity"]]
    assert len(service_events) == 22  # the AwsServiceEvent records of SOURCES.md
    assert read(REALDATA, name).issues == []


def rekognition(**over: object) -> dict[str, object]:
    rec: dict[str, object] = {
        "eventVersion": "1.08",
        "eventTime": "2021-03-04T10:15:02Z",
        "eventSource": "rekognition.amazonaws.com",
        "eventName": "SearchFacesByImage",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": "arn:aws:sts::111122223333:assumed-role/pd-x/s",
            "accountId": "111122223333",
            "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::111122223333:role/pd-x"}},
        },
        "requestParameters": {
            "collectionId": "wl",
            "image": {"s3Object": {"bucket": "b", "name": "cam/1.jpg"}},
        },
        "eventID": "e-1",
    }
    rec.update(over)
    return rec


def test_face_event_fields(tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text(json.dumps({"Records": [rekognition()]}))
    result = read(tmp_path, "t.json")
    (event,) = result.events
    assert event.kind.value == "identification_1toN"
    assert event.service == "rekognition"
    assert event.event_id == "e-1"
    assert event.record == 0
    assert event.frames == ("frames/cam/1.jpg",)
    assert event.principal.arns == (
        "arn:aws:sts::111122223333:assumed-role/pd-x/s",
        "arn:aws:iam::111122223333:role/pd-x",
    )
    assert event.attr("collection_id") == "wl"


def test_frame_prefix_mapping_and_source_target_images(tmp_path: Path) -> None:
    rec = rekognition(
        eventName="CompareFaces",
        requestParameters={
            "sourceImage": {"s3Object": {"bucket": "b", "name": "pre/a.jpg"}},
            "targetImage": {"s3Object": {"bucket": "b", "name": "pre/b.jpg"}},
        },
    )
    (tmp_path / "t.json").write_text(json.dumps({"Records": [rec]}))
    settings = SourceSettings(frame_prefixes=(("s3://b/pre/", "frames/cam9/"),))
    (event,) = read(tmp_path, "t.json", settings).events
    assert event.frames == ("frames/cam9/a.jpg", "frames/cam9/b.jpg")
    assert event.kind.value == "verification_1to1"


def test_image_bytes_request_has_no_frame(tmp_path: Path) -> None:
    rec = rekognition(requestParameters={"collectionId": "wl", "image": {"bytes": "..."}})
    (tmp_path / "t.json").write_text(json.dumps({"Records": [rec]}))
    assert read(tmp_path, "t.json").events[0].frames == ()


def test_frame_key_escaping_the_bundle_is_an_error_not_a_read(tmp_path: Path) -> None:
    rec = rekognition(
        requestParameters={"image": {"s3Object": {"bucket": "b", "name": "../../../etc/passwd"}}}
    )
    (tmp_path / "t.json").write_text(json.dumps({"Records": [rec]}))
    result = read(tmp_path, "t.json")
    assert result.events[0].frames == ()
    (issue,) = result.issues
    assert "refused" in issue.message and issue.record == 0


def test_failed_call_is_kept_as_attempt(tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text(
        json.dumps({"Records": [rekognition(errorCode="AccessDenied")]})
    )
    (event,) = read(tmp_path, "t.json").events
    assert event.outcome == "failed" and event.error_code == "AccessDenied"


def test_timestamp_field_and_event_history_wrapper(tmp_path: Path) -> None:
    rec = rekognition()
    del rec["eventTime"]
    rec["@timestamp"] = "2021-03-04T10:15:02.000Z"
    wrapper = {
        "EventId": "w",
        "EventName": "SearchFacesByImage",
        "CloudTrailEvent": json.dumps(rekognition(eventID="inner")),
    }
    (tmp_path / "t.jsonl").write_text(json.dumps(rec) + "\n" + json.dumps(wrapper) + "\n")
    result = read(tmp_path, "t.jsonl")
    assert result.issues == []
    assert [e.event_id for e in result.events] == ["e-1", "inner"]
    assert [e.line for e in result.events] == [1, 2]


def test_malformed_line_missing_fields_and_non_object_are_located(tmp_path: Path) -> None:
    lines = [
        json.dumps(rekognition()),
        "{not json",
        json.dumps({"eventName": "X"}),
        "[1, 2]",
        json.dumps(rekognition(eventTime="yesterday")),
    ]
    (tmp_path / "t.jsonl").write_text("\n".join(lines) + "\n")
    result = read(tmp_path, "t.jsonl")
    assert result.records == 1
    got = [(i.line, i.message.split(":")[0]) for i in result.issues]
    assert got == [
        (2, "malformed JSON"),
        (3, "missing field eventSource"),
        (4, "record is not a JSON object"),
        (5, "bad eventTime"),
    ]


def test_malformed_records_file_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text('{"Records": [\n{"eventName": "A",\n')
    result = read(tmp_path, "t.json")
    (issue,) = result.issues
    assert "ends inside a record" in issue.message
    assert (issue.line, issue.record) == (2, 0)


def test_bad_record_inside_records_array_is_one_error(tmp_path: Path) -> None:
    doc = {"Records": [rekognition(), "oops", rekognition(eventID="e-3")]}
    (tmp_path / "t.json").write_text(json.dumps(doc))
    result = read(tmp_path, "t.json")
    assert result.records == 2
    assert [(i.record, i.message) for i in result.issues] == [(1, "record is not a JSON object")]


def test_pretty_printed_records_file(tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text(
        json.dumps({"Records": [rekognition(), rekognition()]}, indent=2)
    )
    result = read(tmp_path, "t.json")
    assert (result.records, result.issues) == (2, [])


def test_truncated_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    lines = "".join(json.dumps(rekognition(eventID=f"e{i}")) + "\n" for i in range(2000))
    data = gzip.compress(lines.encode())
    (tmp_path / "t.jsonl.gz").write_bytes(data[: len(data) // 2])
    result = read(tmp_path, "t.jsonl.gz")
    assert 0 < result.records < 2000
    (issue,) = result.issues
    assert "truncated gzip" in issue.message and issue.line == result.records + 1


def test_truncated_gzip_records_file(tmp_path: Path) -> None:
    src = REALDATA / "218007301253_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json"
    data = gzip.compress(src.read_bytes())
    (tmp_path / "t.json.gz").write_bytes(data[:-100])
    result = read(tmp_path, "t.json.gz")
    assert len(result.issues) == 1 and "gzip" in result.issues[0].message


def test_not_gzip_at_all(tmp_path: Path) -> None:
    (tmp_path / "t.json.gz").write_bytes(b"plain text, not gzip")
    result = read(tmp_path, "t.json.gz")
    assert len(result.issues) == 1 and "gzip" in result.issues[0].message


def test_non_utf8_bytes_in_a_line(tmp_path: Path) -> None:
    good = json.dumps(rekognition()).encode()
    (tmp_path / "t.jsonl").write_bytes(good + b"\n" + good[:-2] + b'\xff\xfe"}\n' + good + b"\n")
    result = read(tmp_path, "t.jsonl")
    assert result.records == 2
    assert [i.line for i in result.issues] == [2]


def test_unknown_file_type(tmp_path: Path) -> None:
    shutil.copyfile(REALDATA / "aws_cloudtrail.jsonl", tmp_path / "trail.csv")
    result = read(tmp_path, "trail.csv")
    assert result.records == 0 and "unknown log file type" in result.issues[0].message


def test_broken_first_line_of_json_lines_keeps_the_rest(tmp_path: Path) -> None:
    (tmp_path / "t.jsonl").write_text(
        "{broken\n"
        + json.dumps(rekognition())
        + "\n"
        + json.dumps(rekognition(eventID="e-2"))
        + "\n"
    )
    result = read(tmp_path, "t.jsonl")
    assert result.records == 2
    assert [(i.line, i.message.split(":")[0]) for i in result.issues] == [(1, "malformed JSON")]


# The one-line delivery file is cut at record boundaries (fast path); these shapes must give
# exactly what a whole-document parse gives.


def _one_line(tmp_path: Path, text: str) -> FileResult:
    (tmp_path / "d.json").write_text(text)
    return read(tmp_path, "d.json")


def test_split_path_nested_arrays_and_key_order(tmp_path: Path) -> None:
    nested = rekognition(
        eventID="n1",
        requestParameters={
            "image": {"s3Object": {"bucket": "b", "name": "x.jpg"}},
            "tags": [{"k": [{"a": 1}, {"b": [2, 3]}]}, {"k": "},{"}],
        },
    )
    reordered = {
        "eventName": "CompareFaces",
        "eventSource": "rekognition.amazonaws.com",
        "eventTime": "2021-01-01T00:00:00Z",
        "eventID": "r1",
        "userIdentity": {},
    }
    background = {
        "eventVersion": "1.08",
        "eventSource": "ec2.amazonaws.com",
        "eventName": "DescribeInstances",
        "eventTime": "2021-01-01T00:00:00Z",
    }
    doc = {"Records": [background, nested, reordered, background]}
    result = _one_line(tmp_path, json.dumps(doc, separators=(",", ":")))
    assert result.issues == [] and result.records == 4
    assert [(e.event_id, e.record) for e in result.events] == [("n1", 1), ("r1", 2)]
    assert result.events[0].frames == ("frames/x.jpg",)


def test_split_path_empty_records(tmp_path: Path) -> None:
    result = _one_line(tmp_path, '{"Records":[]}')
    assert (result.records, result.issues, result.events) == (0, [], [])


def test_split_path_trailing_junk_is_an_error(tmp_path: Path) -> None:
    good = json.dumps({"Records": [rekognition()]}, separators=(",", ":"))
    result = _one_line(tmp_path, good + "garbage")
    assert len(result.issues) == 1 and result.issues[0].message.startswith("malformed JSON")


def test_split_path_duplicate_records_key_matches_a_json_parser(tmp_path: Path) -> None:
    text = (
        '{"Records":['
        + json.dumps(rekognition(eventID="first"))
        + '],"Records":['
        + json.dumps(rekognition(eventID="second"))
        + "]}"
    )
    result = _one_line(tmp_path, text)
    expected = json.loads(text)["Records"]  # JSON parsers keep the last duplicate key
    assert result.issues == []
    assert [e.event_id for e in result.events] == [r["eventID"] for r in expected]
