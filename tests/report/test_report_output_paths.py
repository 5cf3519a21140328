"""Output paths are checked before the audit: a typo is exit 2 at once, nothing written/stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from report_helpers import DEMO, GOLDEN_PACKS

Cli = Callable[..., Any]


def _bad_outputs(tmp: Path) -> list[tuple[list[object], str]]:
    afile = tmp / "afile.txt"
    afile.write_text("not a directory\n")
    (tmp / "taken" / "report.json").mkdir(parents=True)
    return [
        (["-f", "json", "-o", tmp / "typo" / "r.json"], "directory does not exist"),
        (["-f", "json", "-o", tmp], "is a directory"),
        (["-f", "json", "-o", afile / "r.json"], "not a directory"),
        (
            ["-f", "table", "-f", "json", "-o", "-", "-o", tmp / "typo" / "r.json"],
            "directory does not exist",
        ),
        (["-f", "json", "--output-dir", tmp / "typo" / "out"], "cannot be created"),
        (["-f", "json", "--output-dir", afile], "not a directory"),
        (["-f", "json", "--output-dir", tmp / "taken"], "is a directory"),
    ]


CASES = range(7)


def _snapshot(tmp: Path) -> set[Path]:
    return set(tmp.rglob("*"))


@pytest.mark.parametrize("case", CASES)
def test_audit_with_a_bad_output_path_exits_2_before_auditing(
    tmp_path: Path, run_cli: Cli, case: int
) -> None:
    args, message = _bad_outputs(tmp_path)[case]
    before = _snapshot(tmp_path)
    db = tmp_path / "never.db"
    result = run_cli("audit", DEMO, "--db", f"sqlite:///{db}", "--policy", GOLDEN_PACKS[0], *args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert message in result.stderr and "auditor: error: --output" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # not even the table that would go to stdout
    assert not db.exists()  # no run was recorded: the store was never opened
    assert _snapshot(tmp_path) == before  # nothing was written or created


@pytest.mark.parametrize("case", CASES)
def test_report_with_a_bad_output_path_exits_2_before_reading_the_store(
    tmp_path: Path, run_cli: Cli, case: int
) -> None:
    args, message = _bad_outputs(tmp_path)[case]
    before = _snapshot(tmp_path)
    db = tmp_path / "never.db"
    result = run_cli("report", "0123abcd", "--db", f"sqlite:///{db}", *args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert not db.exists()
    assert _snapshot(tmp_path) == before


def test_output_dir_that_does_not_exist_yet_is_made(
    tmp_path: Path, session_db: str, run_cli: Cli
) -> None:
    out = tmp_path / "reports"
    result = run_cli(
        "audit",
        DEMO,
        "--db",
        session_db,
        "--policy",
        GOLDEN_PACKS[0],
        "-f",
        "json",
        "--output-dir",
        out,
    )
    assert result.exit_code == 1, result.stderr
    assert (out / "report.json").stat().st_size > 0
