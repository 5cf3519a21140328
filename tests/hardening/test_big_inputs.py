"""Big and hostile files end in located errors and keep everything around them.

These check behaviour on inputs just over each limit; memory on the full-size inputs (1 GB
gzip bombs, a million pretty-printed records, a 200 MB line) is measured by
bench/hostile_bench.py.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from auditor.sources.base import MAX_LINE_BYTES
from auditor.sources.cap import MAX_VALUE_CHARS
from auditor.sources.cloudtrail import MAX_DELIVERY_LINE_BYTES
from auditor.sources.ctstream import MAX_RECORD_BYTES
from tests.hardening.helpers import (
    AMAZON,
    JSONL_PRINCIPALS,
    PRINCIPALS,
    ct_record,
    jsonl_line,
    write,
)

AuditJson = Callable[..., tuple[int, dict[str, Any]]]


@pytest.mark.parametrize("filler", [b"\x00", b"{"])
def test_gzip_bomb_line_is_one_error_and_the_next_line_is_read(
    tmp_path: Path, audit_json: AuditJson, filler: bytes
) -> None:
    data = filler * (MAX_LINE_BYTES + 10) + b"\n" + jsonl_line().encode()
    bundle = write(
        tmp_path / "b",
        {"logs/bomb.jsonl.gz": gzip.compress(data), "principals.toml": JSONL_PRINCIPALS},
    )
    code, report = audit_json(bundle, "--policy", AMAZON, "--no-frames")
    assert code == 3
    (error,) = report["errors"]
    assert (error["file"], error["line"]) == ("logs/bomb.jsonl.gz", 1)
    assert "line longer than the limit of 16,777,216 bytes" in error["message"]
    assert len(report["findings"]) == 1


@pytest.mark.parametrize("size", [MAX_RECORD_BYTES + 10, MAX_LINE_BYTES + 10])
def test_records_bomb_is_one_error(tmp_path: Path, audit_json: AuditJson, size: int) -> None:
    data = b'{"Records":[' + b"{" * size
    bundle = write(tmp_path / "b", {"logs/bomb.json.gz": gzip.compress(data)})
    code, report = audit_json(bundle, "--no-frames")
    assert code == 3
    (error,) = report["errors"]
    assert (error["file"], error["line"]) == ("logs/bomb.json.gz", 1)
    if size > MAX_LINE_BYTES:  # split as it streams: the first record is too long
        assert error["record"] == 0 and "record longer than the limit" in error["message"]
    else:  # one line, parsed whole
        assert "malformed JSON" in error["message"]


@pytest.mark.parametrize("gz", [False, True])
def test_pretty_printed_records_stream_with_the_right_count(
    tmp_path: Path, audit_json: AuditJson, gz: bool
) -> None:
    background = {
        **ct_record(),
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "resources": [{"ARN": "arn:aws:s3:::b/k"}, {"ARN": "arn:aws:s3:::b"}],
    }
    records = [background] * 3000 + [ct_record("2023-05-05T00:00:00Z")] + [background] * 10
    text = json.dumps({"Records": records}, indent=4).encode()
    name = "logs/ct.json.gz" if gz else "logs/ct.json"
    bundle = write(
        tmp_path / "b", {name: gzip.compress(text) if gz else text, "principals.toml": PRINCIPALS}
    )
    code, report = audit_json(bundle, "--policy", AMAZON, "--no-frames")
    assert code == 1 and report["errors"] == []
    assert report["summary"]["events"] == 3011
    (finding,) = report["findings"]
    assert finding["events"][0]["record"] == 3000


def test_malformed_record_in_a_pretty_document_keeps_the_records_before_it(
    tmp_path: Path, audit_json: AuditJson
) -> None:
    good = json.dumps(ct_record(), indent=2)
    text = '{\n  "Records": [\n' + good + ",\n" + good.replace('"eventName"', '"eventName" 1', 1)
    text += ",\n" + good + "\n  ]\n}\n"
    bundle = write(tmp_path / "b", {"logs/ct.json": text, "principals.toml": PRINCIPALS})
    code, report = audit_json(bundle, "--policy", AMAZON, "--no-frames")
    assert code == 3
    (error,) = report["errors"]
    assert error["record"] == 1 and "malformed JSON in record 1" in error["message"]
    bad_line = text.splitlines().index('  "eventName" 1: "SearchFacesByImage",') + 1
    assert error["line"] == bad_line
    assert len(report["findings"]) == 1


@pytest.mark.parametrize("limit", [MAX_LINE_BYTES, MAX_DELIVERY_LINE_BYTES])
def test_one_line_records_document_over_the_line_limit_is_split_as_it_streams(
    tmp_path: Path, audit_json: AuditJson, limit: int
) -> None:
    pad = "x" * 2000
    background = {
        **ct_record(),
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "requestParameters": {"pad": pad},
    }
    count = limit // len(json.dumps(background, separators=(",", ":"))) + 100
    records = [background] * count + [ct_record("2023-05-05T00:00:00Z")]
    text = json.dumps({"Records": records}, separators=(",", ":"))
    assert len(text) > limit and "\n" not in text
    bundle = write(tmp_path / "b", {"logs/ct.json": text, "principals.toml": PRINCIPALS})
    code, report = audit_json(bundle, "--policy", AMAZON, "--no-frames")
    assert code == 1 and report["errors"] == []
    assert report["summary"]["events"] == count + 1
    assert report["findings"][0]["events"][0]["record"] == count


def test_overlong_text_line_is_one_error(tmp_path: Path, audit_json: AuditJson) -> None:
    toml = (
        "[[text]]\nglob = '*.log'\npattern = '''^(?P<time>\\S+) (?P<principal>\\S+) "
        "(?P<service>\\S+) (?P<operation>\\S+)$'''\n"
    )
    line = "2023-01-01T00:00:00Z pd-analyst rekognition SearchFacesByImage\n"
    content = line + "y" * (MAX_LINE_BYTES + 1) + "\n" + line
    bundle = write(
        tmp_path / "b",
        {"logs/app.log": content, "audit.toml": toml, "principals.toml": JSONL_PRINCIPALS},
    )
    code, report = audit_json(bundle, "--policy", AMAZON, "--no-frames")
    assert code == 3
    (error,) = report["errors"]
    assert error["line"] == 2 and "line longer than the limit" in error["message"]
    assert report["summary"]["events"] == 2


def test_long_values_are_truncated_visibly_in_reports_and_the_store(
    tmp_path: Path, audit_json: AuditJson, cli: Callable[..., Any], db_url: str
) -> None:
    long_id = "e" * (MAX_VALUE_CHARS + 5000)
    bundle = write(
        tmp_path / "b",
        {
            "logs/p.jsonl": jsonl_line(event_id=long_id, camera="c" * 100_000),
            "principals.toml": JSONL_PRINCIPALS,
        },
    )
    code, report = audit_json(bundle, "--policy", AMAZON, "--no-frames")
    assert code == 1 and report["errors"] == []
    event = report["findings"][0]["events"][0]
    assert event["event_id"] == "e" * MAX_VALUE_CHARS + "…[truncated 5,000 chars]"
    assert event["attributes"]["camera"].endswith("…[truncated 97,952 chars]")
    (notice,) = [n for n in report["notices"] if n["file"] == "logs/p.jsonl"]
    assert "2 value(s) longer than 2,048 characters were truncated" in notice["message"]
    stored = cli("report", report["run"]["id"], "--format", "json", "--db", db_url)
    assert stored.exit_code == 0
    again = json.loads(stored.stdout)
    assert again["findings"][0]["events"][0]["event_id"] == event["event_id"]
