"""`--fail-on-undecided`: "cannot decide" entries fail the gate; summary counts them per pack."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.core.reportdoc import TypedReport
from auditor.report.sarif import to_sarif

PACKS = Path(__file__).resolve().parents[2] / "fixtures" / "packs"
WA = PACKS / "us-wa-rcw-43-386"


def bundle(tmp_path: Path, *files: str, broken: bool = False) -> Path:
    root = tmp_path / "bundle"
    (root / "logs").mkdir(parents=True)
    shutil.copy(WA / "principals.toml", root / "principals.toml")
    for i, rel in enumerate(files):
        shutil.copy(WA / rel, root / "logs" / f"{i}.jsonl")
    if broken:
        (root / "logs" / "bad.jsonl").write_text("{not json\n")
    return root


def audit(root: Path, *flags: str) -> tuple[int, dict[str, Any], str]:
    out = root.parent / "report.json"
    table = root.parent / "report.txt"
    args = [
        "audit",
        str(root),
        "--no-frames",
        "--no-store",
        "--policy",
        "us-wa-rcw-43-386",
        "--format",
        "json",
        "--output",
        str(out),
        "--format",
        "table",
        "--output",
        str(table),
        *flags,
    ]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    return result.exit_code, json.loads(out.read_text()), table.read_text()


UNDECIDED = "WA-386-003/undecided-significant-effect.jsonl"


def test_undecided_entries_pass_the_gate_by_default_and_are_counted_per_pack(
    tmp_path: Path,
) -> None:
    code, report, table = audit(bundle(tmp_path, UNDECIDED))
    assert code == 0
    assert report["summary"]["cannot_decide"] == 1
    assert report["summary"]["cannot_decide_by_pack"] == {"us-wa-rcw-43-386": 1}
    assert report["settings"]["fail_on_undecided"] is False
    assert "Cannot decide by pack: us-wa-rcw-43-386 1." in table
    assert "Gate: no finding at or above --fail-on low" in table


def test_fail_on_undecided_makes_them_fail(tmp_path: Path) -> None:
    code, report, table = audit(bundle(tmp_path, UNDECIDED), "--fail-on-undecided")
    assert code == 1
    assert not report["findings"]
    assert report["settings"]["fail_on_undecided"] is True
    assert "cannot-decide entr(ies) with --fail-on-undecided (exit 1)" in table
    invocation = to_sarif(TypedReport.of(report))["runs"][0]["invocations"][0]
    assert (invocation["exitCode"], invocation["exitCodeDescription"]) == (
        1,
        "cannot-decide entries with --fail-on-undecided",
    )
    # whatever --fail-on says; --exit-zero still turns the 1 into 0
    code, _, _ = audit(
        bundle(tmp_path / "n", UNDECIDED), "--fail-on-undecided", "--fail-on", "never"
    )
    assert code == 1
    code, _, _ = audit(bundle(tmp_path / "z", UNDECIDED), "--fail-on-undecided", "--exit-zero")
    assert code == 0


@pytest.mark.parametrize("flags", [(), ("--fail-on-undecided",)])
def test_nothing_undecided_passes(tmp_path: Path, flags: tuple[str, ...]) -> None:
    code, report, table = audit(bundle(tmp_path, "WA-386-003/compliant.jsonl"), *flags)
    assert code == 0
    assert report["summary"]["cannot_decide_by_pack"] == {"us-wa-rcw-43-386": 0}
    assert "Cannot decide by pack" not in table


def test_incomplete_audit_still_exits_3(tmp_path: Path) -> None:
    code, report, _ = audit(bundle(tmp_path, UNDECIDED, broken=True), "--fail-on-undecided")
    assert code == 3
    assert report["summary"]["cannot_decide"] == 1


def test_verify_reproduces_a_report_made_with_the_flag(tmp_path: Path) -> None:
    root = bundle(tmp_path, UNDECIDED)
    code, _, _ = audit(root, "--fail-on-undecided")
    assert code == 1
    res = CliRunner().invoke(
        app,
        ["verify", str(root.parent / "report.json"), str(root), "--json"],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["reproduced"] is True
