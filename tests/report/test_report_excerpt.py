"""Log excerpts of the HTML report, through the real command line on real bundles on disk.

A one-line CloudTrail delivery file (`{"Records":[...]}` on one line) gives events with both a
line and a record index: each finding shows its own record, not the whole line. A record nested
1,000 levels deep (the sources accept up to orjson's 1,024) renders as a bounded excerpt.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from auditor.report.excerpt import MAX_CHARS, MAX_DEPTH

PACK = "amazon-rekognition-police-2020"
DEEP = 1000
_PRE = re.compile(r"<pre>(.*?)</pre>", re.S)


def _record(n: int, deep: bool = False) -> str:
    rec = {
        "eventVersion": "1.08",
        "eventID": f"event-{n}-id",
        "userIdentity": {
            "type": "AssumedRole",
            "accountId": "111122223333",
            "arn": f"arn:aws:sts::111122223333:assumed-role/metro-pd/u{n}",
        },
        "eventTime": f"2021-05-01T14:0{n}:11Z",
        "eventSource": "rekognition.amazonaws.com",
        "eventName": "SearchFacesByImage",
        "awsRegion": "us-east-1",
        "requestParameters": {"collectionId": f"watch-{n}", "extra": "DEEP"},
    }
    text = json.dumps(rec)
    # json.dumps itself cannot write 1,000 levels: splice the nesting in as text
    return text.replace('"DEEP"', "[" * DEEP + "]" * DEEP if deep else '"flat"')


def _bundle(root: Path, records: list[str], one_line: bool) -> Path:
    logs = root / "logs" / "cloudtrail"
    logs.mkdir(parents=True)
    body = ",".join(records) if one_line else ",\n  ".join(records)
    doc = '{"Records":[' + body + "]}" if one_line else '{\n "Records": [\n  ' + body + "\n ]\n}"
    (logs / "111122223333_CloudTrail_us-east-1_20210501T1400Z_x.json").write_text(
        doc + "\n", encoding="utf-8"
    )
    (root / "principals.toml").write_text(
        '[[principal]]\naccount = "111122223333"\norganisation = "Metro PD"\ncategory = "police"\n',
        encoding="utf-8",
    )
    return root


def _excerpts(run_cli: Callable[..., Any], session_db: str, bundle: Path, out: Path) -> list[str]:
    result = run_cli("audit", bundle, "--db", session_db, "--policy", PACK, "-f", "html", "-o", out)
    assert result.exit_code == 1, result.stderr  # findings, and the audit is complete
    page = out.read_text(encoding="utf-8")
    assert "Log excerpt: not available" not in page
    # the whole record is in the plain <pre>; the matched values are marked in it
    return [html.unescape(re.sub(r"</?mark>", "", text)) for text in _PRE.findall(page)]


def test_one_line_delivery_file_shows_each_findings_own_record(
    tmp_path: Path, session_db: str, run_cli: Callable[..., Any]
) -> None:
    bundle = _bundle(tmp_path / "b", [_record(n) for n in (1, 2, 3)], one_line=True)
    shown = _excerpts(run_cli, session_db, bundle, tmp_path / "report.html")
    assert len(shown) == 3
    for text in shown:
        record = json.loads(text)  # one whole record, indented, not the delivery line
        assert text.startswith('{\n  "awsRegion"')
        assert sum(f"event-{n}-id" in text for n in (1, 2, 3)) == 1
        assert record["eventName"] == "SearchFacesByImage"
    assert sorted(json.loads(t)["eventID"] for t in shown) == [
        "event-1-id",
        "event-2-id",
        "event-3-id",
    ]


@pytest.mark.parametrize("one_line", [True, False], ids=["one-line", "pretty-printed"])
def test_a_record_nested_1000_levels_renders_a_bounded_excerpt(
    tmp_path: Path, session_db: str, run_cli: Callable[..., Any], one_line: bool
) -> None:
    bundle = _bundle(tmp_path / "b", [_record(1), _record(2, deep=True)], one_line)
    shown = _excerpts(run_cli, session_db, bundle, tmp_path / "report.html")
    assert len(shown) == 2
    flat, deep = sorted(shown, key=lambda t: "event-2-id" in t)
    assert json.loads(flat)["eventID"] == "event-1-id"
    assert "event-2-id" in deep and "event-1-id" not in deep
    assert len(deep) <= MAX_CHARS + len(" … [9,999,999 chars, cut]")
    assert f"nested deeper than {MAX_DEPTH} levels: not shown" in deep
