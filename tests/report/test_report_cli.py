"""The command line around reports: several formats, --output-dir, re-rendering, the gate."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from report_helpers import DEMO, GOLDEN_PACKS

from auditor.report import REPORTERS

Cli = Callable[..., Any]
PACK = ("--policy", GOLDEN_PACKS[0])


def _audit(run_cli: Cli, db: str, bundle: Path, *extra: object) -> Any:
    return run_cli("audit", bundle, "--db", db, *PACK, *extra)


def test_output_dir_writes_every_format(tmp_path: Path, session_db: str, run_cli: Cli) -> None:
    args: list[object] = []
    for fmt in REPORTERS:
        args += ["-f", fmt]
    result = _audit(run_cli, session_db, DEMO, *args, "--output-dir", tmp_path / "out")
    assert result.exit_code == 1, result.stderr
    for fmt, reporter in REPORTERS.items():
        path = tmp_path / "out" / f"report.{reporter.extension}"
        assert path.stat().st_size > 0
        assert f"report written: {fmt}: {path}" in result.stderr
    assert result.stdout == ""


def test_one_output_per_format(tmp_path: Path, session_db: str, run_cli: Cli) -> None:
    a, b = tmp_path / "a.sarif", tmp_path / "b.csv"
    result = _audit(
        run_cli,
        session_db,
        DEMO,
        "-f",
        "table",
        "-f",
        "sarif",
        "-f",
        "csv",
        "-o",
        "-",
        "-o",
        a,
        "-o",
        b,
    )
    assert result.exit_code == 1
    assert "AMZ-REK-001" in result.stdout and "Gate: findings at or above" in result.stdout
    assert json.loads(a.read_text())["version"] == "2.1.0"
    assert b.read_text().startswith("time,organisation,")


@pytest.mark.parametrize(
    "args, message",
    [
        (("-f", "json", "-f", "sarif", "-o", "x.json"), "give one --output per --format"),
        (("-f", "json", "-o", "x.json", "--output-dir", "d"), "either --output or --output-dir"),
        (("-f", "json", "-f", "json", "--output-dir", "d"), "each --format may be given once"),
        (
            (
                "-f",
                "pdf",
            ),
            "unknown format 'pdf'",
        ),
    ],
)
def test_bad_output_options_exit_2_before_auditing(
    tmp_path: Path, run_cli: Cli, args: tuple[str, ...], message: str
) -> None:
    db = tmp_path / "never.db"
    result = run_cli("audit", DEMO, "--db", f"sqlite:///{db}", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert not db.exists()  # nothing was audited or recorded


def test_report_rerenders_a_stored_run(tmp_path: Path, run_cli: Cli) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    first = tmp_path / "first"
    result = _audit(
        run_cli, db, DEMO, "-f", "sarif", "-f", "html", "-f", "junit", "--output-dir", first
    )
    assert result.exit_code == 1
    runs = run_cli("runs", "--db", db, "--json")
    run_id = json.loads(runs.stdout.splitlines()[0])["id"]
    again = tmp_path / "again"
    result = run_cli(
        "report",
        run_id[:10],
        "--db",
        db,
        "-f",
        "sarif",
        "-f",
        "html",
        "-f",
        "junit",
        "--output-dir",
        again,
    )
    assert result.exit_code == 0, result.stderr
    for name in ("report.sarif", "report.html", "report.xml"):
        assert (again / name).read_bytes() == (first / name).read_bytes(), name
    assert "data:image/jpeg" in (again / "report.html").read_text()  # bundle found from the store


# ---- baselines and the gate ----------------------------------------------------------------


@pytest.fixture
def report_json(tmp_path: Path, session_db: str, run_cli: Cli) -> Path:
    out = tmp_path / "report.json"
    result = _audit(run_cli, session_db, DEMO, "-f", "json", "-o", out)
    assert result.exit_code == 1
    return out


def _create(
    run_cli: Cli, report: Path, out: Path, *extra: object, expires: str = "2099-12-31"
) -> Any:
    return run_cli(
        "baseline",
        "create",
        report,
        "-o",
        out,
        "--reason",
        "reviewed by counsel",
        "--who",
        "Compliance team",
        "--expires",
        expires,
        *extra,
    )


def test_baseline_suppresses_and_is_reported(
    tmp_path: Path, session_db: str, run_cli: Cli, report_json: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    result = _create(run_cli, report_json, baseline)
    assert result.exit_code == 0, result.stderr
    data = json.loads(baseline.read_text())
    findings = json.loads(report_json.read_text())["findings"]
    assert data["schema"] == "auditor.baseline/v1"
    assert [e["fingerprint"] for e in data["entries"]] == [f["id"] for f in findings]
    assert {(e["reason"], e["who"], e["expires"]) for e in data["entries"]} == {
        ("reviewed by counsel", "Compliance team", "2099-12-31")
    }

    out = tmp_path / "gated"
    result = _audit(
        run_cli,
        session_db,
        DEMO,
        "--baseline",
        baseline,
        "-f",
        "json",
        "-f",
        "table",
        "-f",
        "sarif",
        "--output-dir",
        out,
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    assert all(f["baselined"] for f in report["findings"])
    assert report["summary"]["baselined"] == len(findings)
    assert f"{len(findings)} baselined" in (out / "report.txt").read_text()
    sarif = json.loads((out / "report.sarif").read_text())
    assert all(r["suppressions"] for r in sarif["runs"][0]["results"])
    assert sarif["runs"][0]["invocations"][0]["exitCode"] == 0


def test_partial_baseline_and_merge(
    tmp_path: Path, session_db: str, run_cli: Cli, report_json: Path
) -> None:
    findings = json.loads(report_json.read_text())["findings"]
    baseline = tmp_path / "baseline.json"
    result = _create(run_cli, report_json, baseline, "--finding", findings[0]["id"][:8])
    assert result.exit_code == 0
    assert len(json.loads(baseline.read_text())["entries"]) == 1
    result = _audit(
        run_cli, session_db, DEMO, "--baseline", baseline, "-f", "json", "-o", tmp_path / "r.json"
    )
    assert result.exit_code == 1  # the other findings still fail the gate
    report = json.loads((tmp_path / "r.json").read_text())
    assert [f["baselined"] for f in report["findings"]] == [True] + [False] * (len(findings) - 1)
    # a second create keeps the first entry as it was and adds the rest
    result = run_cli(
        "baseline",
        "create",
        report_json,
        "-o",
        baseline,
        "--reason",
        "other",
        "--who",
        "Someone else",
        "--expires",
        "2098-01-01",
    )
    assert result.exit_code == 0
    entries = json.loads(baseline.read_text())["entries"]
    assert len(entries) == len(findings)
    assert entries[0]["who"] == "Compliance team" and entries[1]["who"] == "Someone else"
    assert _create(run_cli, report_json, baseline, "--finding", "zzzz").exit_code == 2


def test_expired_entries_warn_and_stop_suppressing(
    tmp_path: Path, session_db: str, run_cli: Cli, report_json: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    assert _create(run_cli, report_json, baseline).exit_code == 0
    data = json.loads(baseline.read_text())
    data["entries"][0]["expires"] = "2020-01-31"
    baseline.write_text(json.dumps(data))
    out = tmp_path / "r.json"
    result = _audit(run_cli, session_db, DEMO, "--baseline", baseline, "-f", "json", "-o", out)
    assert result.exit_code == 1
    fp = data["entries"][0]["fingerprint"]
    assert f"warning: baseline entry {fp}" in result.stderr
    assert "expired on 2020-01-31" in result.stderr
    report = json.loads(out.read_text())
    assert report["findings"][0]["baselined"] is False
    assert report["summary"]["baselined"] == len(report["findings"]) - 1
    assert any(fp in n["message"] and "expired" in n["message"] for n in report["notices"])


@pytest.mark.parametrize(
    "content, message",
    [
        ("not json", "not JSON"),
        ('{"schema": "other", "entries": []}', "not a baseline file"),
        (
            '{"schema": "auditor.baseline/v1", "entries": [{"fingerprint": "abc", "reason": "r", '
            '"expires": "2099-01-01"}]}',
            "entries[0].who",
        ),
        (
            '{"schema": "auditor.baseline/v1", "entries": [{"fingerprint": "abc", "reason": "r", '
            '"who": "w", "expires": "next year"}]}',
            "is not a date",
        ),
    ],
)
def test_bad_baseline_file_exits_2(
    tmp_path: Path, run_cli: Cli, content: str, message: str
) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(content)
    result = run_cli(
        "audit", DEMO, "--no-store", "--baseline", baseline, "-f", "json", "-o", tmp_path / "r.json"
    )
    assert result.exit_code == 2
    assert message in result.stderr and str(baseline) in result.stderr
    assert not (tmp_path / "r.json").exists()


def test_create_refuses_a_past_expiry(tmp_path: Path, run_cli: Cli, report_json: Path) -> None:
    result = _create(run_cli, report_json, tmp_path / "b.json", expires="2001-01-01")
    assert result.exit_code == 2 and "already past" in result.stderr
    result = _create(run_cli, report_json, tmp_path / "b.json", expires="31/12/2099")
    assert result.exit_code == 2 and "is not a date" in result.stderr


def test_exit_codes(tmp_path: Path, session_db: str, run_cli: Cli) -> None:
    assert _audit(run_cli, session_db, DEMO, "-f", "json", "-o", tmp_path / "a").exit_code == 1
    assert (
        _audit(
            run_cli, session_db, DEMO, "--exit-zero", "-f", "sarif", "-o", tmp_path / "b"
        ).exit_code
        == 0
    )
    assert (
        _audit(
            run_cli, session_db, DEMO, "--fail-on", "critical", "-f", "json", "-o", tmp_path / "c"
        ).exit_code
        == 0
    )
    assert (
        _audit(
            run_cli, session_db, DEMO, "--fail-on", "never", "-f", "json", "-o", tmp_path / "d"
        ).exit_code
        == 0
    )
    broken = tmp_path / "broken"
    shutil.copytree(DEMO, broken)
    (broken / "logs" / "bad.jsonl").write_text('{"time": \n')
    # incomplete (3) wins over findings (1), and --exit-zero does not hide it
    result = _audit(run_cli, session_db, broken, "-f", "junit", "-o", tmp_path / "e.xml")
    assert result.exit_code == 3
    assert "audit incomplete" in result.stderr
    assert "auditor.inputs" in (tmp_path / "e.xml").read_text()
    assert (
        _audit(
            run_cli, session_db, broken, "--exit-zero", "-f", "json", "-o", tmp_path / "f"
        ).exit_code
        == 3
    )


def test_baseline_create_refuses_a_malformed_report_with_its_paths(
    tmp_path: Path, run_cli: Cli, report_json: Path
) -> None:
    data = json.loads(report_json.read_text())
    del data["findings"][0]["id"]
    data["findings"][1]["severity"] = "severe"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    result = _create(run_cli, bad, tmp_path / "baseline.json")
    assert result.exit_code == 2
    assert "not an auditor.report/v1 JSON report" in result.stderr
    assert "findings[0].id: Field required" in result.stderr
    assert "findings[1].severity" in result.stderr
    assert not (tmp_path / "baseline.json").exists()
