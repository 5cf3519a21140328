"""Text-log patterns cannot hang an audit: a per-line time budget, a located error, exit 3."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.hardening.helpers import write

AuditJson = Callable[..., tuple[int, dict[str, Any]]]

LINE = "a" * 40 + "!"  # 41 characters
#: A hang guard, not a speed test (bench/hostile_bench.py measures the time): Python's `re`
#: needs about 2**40 steps for these lines, hours rather than seconds.
HANG = 20.0


def _toml(pattern: str) -> str:
    return f"[[text]]\nglob = '*.log'\npattern = '''{pattern}'''\n"


def test_the_issue_pattern_is_a_located_error_at_load_time(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    bundle = write(
        tmp_path / "b", {"logs/app.log": LINE + "\n", "audit.toml": _toml("(?P<operation>(a+)+)$")}
    )
    start = time.monotonic()
    result = cli("audit", bundle, "--no-store", "--no-frames")
    assert time.monotonic() - start < HANG
    assert result.exit_code == 2
    assert "audit.toml:3: text[0].pattern: pattern lacks named groups: time" in result.stderr


def test_nested_quantifier_on_a_41_char_line_finishes(
    tmp_path: Path, audit_json: AuditJson
) -> None:
    bundle = write(
        tmp_path / "b",
        {"logs/app.log": LINE + "\n", "audit.toml": _toml("(?P<time>)(?P<operation>(a+)+)$")},
    )
    start = time.monotonic()
    code, report = audit_json(bundle, "--no-frames")
    assert time.monotonic() - start < HANG
    assert code == 0 and report["errors"] == []


def test_a_pattern_over_budget_is_a_located_error_and_the_file_goes_on(
    tmp_path: Path, audit_json: AuditJson
) -> None:
    lines = [
        "2023-01-01T00:00:00Z pd-analyst rekognition SearchFacesByImage",
        LINE,
        "2023-01-02T00:00:00Z pd-analyst rekognition SearchFacesByImage",
    ]
    pattern = (
        r"^(?P<time>\S+) (?P<principal>\S+) (?P<service>\S+) (?P<operation>\S+)$"
        r"|^(?P<x>(a|a)+)$"
    )
    bundle = write(
        tmp_path / "b", {"logs/app.log": "\n".join(lines) + "\n", "audit.toml": _toml(pattern)}
    )
    start = time.monotonic()
    code, report = audit_json(bundle, "--no-frames")
    assert time.monotonic() - start < HANG
    assert code == 3
    (error,) = report["errors"]
    assert (error["file"], error["line"]) == ("logs/app.log", 2)
    assert "took over 0.25 s on this line" in error["message"]
    assert report["summary"]["events"] == 2  # the lines before and after are read


def test_many_lines_over_budget_give_up_on_the_file(tmp_path: Path, audit_json: AuditJson) -> None:
    bundle = write(
        tmp_path / "b",
        {
            "logs/app.log": (LINE + "\n") * 50,
            "audit.toml": _toml("(?P<time>)(?P<operation>(a|a)+)$"),
        },
    )
    start = time.monotonic()
    code, report = audit_json(bundle, "--no-frames")
    assert time.monotonic() - start < HANG
    assert code == 3
    assert [e["line"] for e in report["errors"]] == [1, 2, 3, 4, 5, 5]
    assert "the lines after line 5 were not read" in report["errors"][-1]["message"]
