"""The one record locator (`auditor.sources.locate`) that the HTML report's excerpts and
`auditor export` share: every way a source locates a record is found again, on real sample
files, and through the real CLI an event far into a file (past the 2,000,000 lines the excerpts
used to stop at) is both shown and exported."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from auditor.config.bundlefs import LocalFS
from auditor.sources import locate
from tests.conftest import ROOT
from tests.logsamples import SAMPLES

DEMO_TRAIL = (
    ROOT / "fixtures/demo/logs/cloudtrail" / "111122223333_CloudTrail_us-east-1_rekognition.json"
)
#: A real CloudTrail delivery file: one `{"Records": [...]}` document on one line.
REAL_TRAIL = (
    ROOT / "fixtures/realdata/cloudtrail"
    / "218007301253_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json"
)  # fmt: skip


def _find(path: Path, keys: set[locate.Key]) -> dict[locate.Key, locate.Hit]:
    return locate.find(LocalFS(path.parent), path.name, keys)


def test_a_record_of_a_pretty_document_by_index() -> None:
    records = json.loads(DEMO_TRAIL.read_text())["Records"]
    found = _find(DEMO_TRAIL, {(None, 0), (None, 3), (None, len(records))})
    assert found[(None, 0)].value == records[0]
    assert found[(None, 3)].value == records[3]
    assert (None, len(records)) not in found  # past the end: not found, never an error


def test_a_record_of_a_one_line_delivery_file() -> None:
    records = json.loads(REAL_TRAIL.read_text())["Records"]
    found = _find(REAL_TRAIL, {(1, 1), (1, None)})
    assert found[(1, 1)].value == records[1]
    assert found[(1, None)].raw == REAL_TRAIL.read_bytes().rstrip(b"\r\n")


def test_a_wrapper_array_other_than_records() -> None:
    azure = SAMPLES / "azure-monitor/PT1H.json"
    assert _find(azure, {(None, 1)})[(None, 1)].value == json.loads(azure.read_text())["records"][1]
    cloudwatch = SAMPLES / "cloudwatch/filter-log-events.json"
    events = json.loads(cloudwatch.read_text())["events"]
    assert _find(cloudwatch, {(None, 2)})[(None, 2)].value == events[2]


def test_one_document_of_several_by_the_line_it_starts_on() -> None:
    path = SAMPLES / "json-layouts/jq-records.json"
    starts = [n for n, text in enumerate(path.read_text().splitlines(), 1) if text == "{"]
    assert len(starts) == 3
    docs = [json.loads(chunk) for chunk in re.split(r"(?m)^(?=\{$)", path.read_text()) if chunk]
    found = _find(path, {(n, None) for n in starts})
    for n, doc in zip(starts, docs, strict=True):
        assert found[(n, None)].value == doc
        assert found[(n, None)].raw == orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


def test_a_gzipped_json_line(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl.gz"
    with gzip.open(path, "wt") as fh:
        fh.write('{"a": 1}\n\n{"b": [1, 2]}\n')
    found = _find(path, {(3, None), (9, None)})
    assert found == {(3, None): locate.Hit(raw=b'{"b": [1, 2]}')}


def test_a_line_over_the_limit_is_skipped_not_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(locate, "MAX_LINE_BYTES", 64)
    path = tmp_path / "x.log"
    path.write_bytes(b"short\n" + b"x" * 5000 + b"\nafter\n")
    found = _find(path, {(1, None), (2, None), (3, None)})
    assert found == {(1, None): locate.Hit(raw=b"short"), (3, None): locate.Hit(raw=b"after")}


def test_excerpt_and_export_reach_as_far(
    tmp_path: Path, cli: Callable[..., Any], db_url: str
) -> None:
    """Before the one locator, this finding's HTML card had no excerpt (the excerpt scan stopped
    at line 2,000,000) while `export` published its record."""
    bundle = tmp_path / "b"
    (bundle / "logs").mkdir(parents=True)
    for name in ("audit.toml", "principals.toml"):
        (bundle / name).write_text((ROOT / "fixtures/demo" / name).read_text())
    record = next(
        r for r in json.loads(DEMO_TRAIL.read_text())["Records"] if r["eventID"].endswith("0001")
    )
    late = dict(record, eventID="late-event-0001")
    with (bundle / "logs/trail.json").open("w") as fh:
        fh.write(json.dumps(record) + "\n" + "\n" * 2_100_000 + json.dumps(late) + "\n")
    pack = ("--policy", str(ROOT / "seeds/amazon-rekognition-police-2020.toml"))
    html, report = tmp_path / "r.html", tmp_path / "r.json"
    res = cli(
        "audit", bundle, "--no-frames", "--db", db_url, *pack,
        "-f", "json", "-o", report, "-f", "html", "-o", html,
    )  # fmt: skip
    assert res.exit_code == 1, res.output
    data = json.loads(report.read_text())
    assert [e["line"] for f in data["findings"] for e in f["events"]] == [1, 2_100_002]
    # the excerpt marks the matched field in the record it shows (matched fields, full record)
    assert html.read_text().count("<mark>late-event-0001</mark>") == 2, "no excerpt of the line"
    archive = tmp_path / "ev.zip"
    res = cli("export", data["run"]["id"], "--db", db_url, "--output", archive, *pack)
    assert res.exit_code == 0, res.output
    res = cli("verify", archive)
    assert res.exit_code == 0, res.output
    assert "2 of 2 finding(s) reproduced" in res.output
