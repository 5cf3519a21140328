"""The policy commands and the audit's policy options through the real CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from auditor.cli import app
from auditor.policy import seed_files

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo"
PACKS = ROOT / "fixtures" / "packs"
SIGMA = Path(sys.executable).parent / "sigma"


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_list_shows_every_pack() -> None:
    result = run("policy", "list")
    assert result.exit_code == 0
    for path in seed_files():
        assert path.stem in result.output
    assert "INVALID" not in result.output


def test_show_displays_unverified_marks() -> None:
    result = run("policy", "show", "us-va-frt-2021")
    assert result.exit_code == 0
    out = result.output
    assert "VA-2026-001 prohibit high [U]" in out
    assert "effective: 2026-07-01 .. open-ended [U]" in out
    assert "[U] After 2026-07-01" in out  # a caveat
    assert "exception virginia-state-police [S]" in out
    eu = run("policy", "show", "eu-ai-act-art5").output
    assert "duty authorisation [S]: deadline PT24H; deadline only if urgency is true" in eu
    assert "duty human_review: min_reviewers 2" in eu
    ring = run("policy", "show", "ring-neighbors-community-requests-2025").output
    assert "effective: 2025-04-01 .. until_further_notice [U] (precision: month)" in ring
    assert "    effective: 2025-09-30 .. open-ended [S]" in ring  # the investigation-code rules


def test_show_unknown_pack_is_exit_2() -> None:
    result = CliRunner().invoke(app, ["policy", "show", "no-such-pack"])
    assert result.exit_code == 2


def test_export_sigma_passes_sigma_check(tmp_path: Path) -> None:
    out = tmp_path / "sigma"
    result = run(
        "policy",
        "export",
        "--format",
        "sigma",
        "amazon-rekognition-police-2020",
        "--principals",
        str(DEMO / "principals.toml"),
        "--output",
        str(out),
    )
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("*.yml"))
    assert len(files) == 1
    text = files[0].read_text()
    assert "arn:aws:iam::111122223333:role/metro-pd-" in text  # the police allowlist, inlined
    assert '":444455556666:"' in text
    assert "tags:" not in text
    check = subprocess.run(
        [str(SIGMA), "check", "--fail-on-issues", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No validation issues found" in check.stdout


def test_export_to_stdout_and_without_principals() -> None:
    result = CliRunner().invoke(app, ["policy", "export", "amazon-rekognition-police-2020"])
    assert result.exit_code == 2
    assert "--principals" in result.output
    ok = run(
        "policy",
        "export",
        "amazon-rekognition-police-2020",
        "--principals",
        str(DEMO / "principals.toml"),
    )
    assert ok.stdout.startswith("title: ")
    no_rule = CliRunner().invoke(
        app, ["policy", "export", "us-il-bipa", "--principals", str(DEMO / "principals.toml")]
    )
    assert no_rule.exit_code == 2
    assert "BIPA-15B-001: not exported" in no_rule.output


def _bundle(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "b"
    (root / "logs").mkdir(parents=True)
    shutil.copy(PACKS / "eu-ai-act-art5" / "principals.toml", root / "principals.toml")
    for name, src in files.items():
        shutil.copy(PACKS / src, root / "logs" / name)
    return root


def _audit(root: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    out = root.parent / "r.json"
    result = CliRunner().invoke(
        app,
        [
            "audit",
            str(root),
            "--no-frames",
            "--no-store",
            "--format",
            "json",
            "--output",
            str(out),
            "--format",
            "table",
            "--output",
            "-",
            *extra,
        ],
        catch_exceptions=False,
    )
    return result.exit_code, json.loads(out.read_text()), result.stdout


def test_repeated_policy_and_cannot_decide_in_reports(tmp_path: Path) -> None:
    root = _bundle(
        tmp_path,
        {
            "a.jsonl": "us-va-frt-2021/VA-2026-001/violating.jsonl",
            "b.jsonl": "us-wa-rcw-43-386/WA-386-001/undecided.jsonl",
        },
    )
    code, report, table = _audit(root, "--policy", "us-va-frt-2021", "--policy", "us-wa-rcw-43-386")
    assert code == 1
    assert {p["id"] for p in report["packs"]} == {"us-va-frt-2021", "us-wa-rcw-43-386"}
    va = [f for f in report["findings"] if f["rule"] == "VA-2026-001"]
    assert va and va[0]["pack"] == "us-va-frt-2021" and va[0]["confidence"] == "U"
    assert "VA-2026-001 [U]" in table
    assert report["summary"]["cannot_decide"] == sum(u["count"] for u in report["undecided"]) >= 1
    entry = next(u for u in report["undecided"] if u["rule"] == "WA-386-001")
    assert entry["pack"] == "us-wa-rcw-43-386" and entry["missing"] == ["modality"]
    assert entry["count"] == len(entry["sample"]) >= 1
    assert entry["sample"][0]["file"] == "logs/b.jsonl" and entry["sample"][0]["line"] == 1
    assert f"{report['summary']['cannot_decide']} cannot decide" in table


def test_policy_all_and_one_event_in_several_packs(tmp_path: Path) -> None:
    root = tmp_path / "b"
    (root / "logs").mkdir(parents=True)
    shutil.copy(PACKS / "us-ca-penal-code-832-19" / "principals.toml", root / "principals.toml")
    (root / "logs" / "x.jsonl").write_text(
        json.dumps(
            {
                "time": "2021-05-01T10:00:00Z",
                "principal": "pd-analyst",
                "service": "rekognition",
                "operation": "SearchFacesByImage",
                "country": "US",
                "region": "US-CA",
                "camera": "body_worn",
                "event_id": "x1",
            }
        )
        + "\n"
    )
    code, report, _ = _audit(root, "--policy", "all")
    assert code == 1
    packs = {f["pack"] for f in report["findings"] if f["events"][0]["event_id"] == "x1"}
    assert {"amazon-rekognition-police-2020", "us-ca-penal-code-832-19"} <= packs
    assert len(report["packs"]) == len(seed_files())


def test_demo_keeps_its_seven_amazon_findings_with_every_pack(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        app,
        ["audit", str(DEMO), "--no-frames", "--no-store", "--format", "json", "--output", str(out)],
    )
    assert result.exit_code == 1
    report = json.loads(out.read_text())
    # the other packs' findings on the located logs: tests/policy/test_demo_all_packs.py
    assert [f["rule"] for f in report["findings"]].count("AMZ-REK-001") == 7
    assert report["summary"]["cannot_decide"] > 0
