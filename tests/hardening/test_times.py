"""One bad time loses only its own record; years below 1000 print with four digits."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.hardening.helpers import AMAZON, PRINCIPALS, ct_record, write

AuditJson = Callable[..., tuple[int, dict[str, Any]]]


@pytest.mark.parametrize("bad", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+01:00"])
@pytest.mark.parametrize("shape", ["records", "lines"])
def test_overflowing_time_is_an_error_for_that_record_only(
    tmp_path: Path, audit_json: AuditJson, bad: str, shape: str
) -> None:
    records = [ct_record(bad), ct_record("2023-02-02T00:00:00Z")]
    text = (
        json.dumps({"Records": records})
        if shape == "records"
        else "".join(json.dumps(r) + "\n" for r in records)
    )
    bundle = write(tmp_path / "b", {"logs/ct.json": text, "principals.toml": PRINCIPALS})
    code, report = audit_json(bundle, "--policy", AMAZON, "--no-frames")
    assert code == 3
    (error,) = report["errors"]
    assert error["file"] == "logs/ct.json" and "out of range" in error["message"]
    if shape == "records":
        assert error["record"] == 0
    else:
        assert error["line"] == 1
    # the record after the bad one is still read and judged
    assert [f["events"][0]["time"] for f in report["findings"]] == ["2023-02-02T00:00:00Z"]


def test_years_below_1000_have_four_digits_in_json_and_html(
    tmp_path: Path, cli: Callable[..., Any], db_url: str
) -> None:
    bundle = write(
        tmp_path / "b",
        {
            "logs/ct.json": json.dumps({"Records": [ct_record("0999-03-04T05:06:07Z")]}),
            "principals.toml": PRINCIPALS,
        },
    )
    # the Amazon pack, moved back in time so that a year-999 operation falls inside it
    pack = (
        (ROOT / "seeds" / f"{AMAZON}.toml")
        .read_text()
        .replace("from = 2020-06-10", "from = 0900-01-01")
    )
    (tmp_path / "old.toml").write_text(pack)
    out = tmp_path / "out"
    result = cli(
        "audit",
        bundle,
        "--policy",
        tmp_path / "old.toml",
        "--no-frames",
        "--db",
        db_url,
        "--format",
        "json",
        "--format",
        "html",
        "--output-dir",
        out,
    )
    assert result.exit_code == 1, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["errors"] == []
    times = {e["time"] for f in report["findings"] for e in f["events"]}
    assert times == {"0999-03-04T05:06:07Z"}
    assert "0999-03-04T05:06:07Z" in report["findings"][0]["message"]
    assert "0999-03-04T05:06:07Z" in (out / "report.html").read_text()
