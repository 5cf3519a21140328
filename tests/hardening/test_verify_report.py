"""verify trusts nothing in report.json: shape, depth and re-run settings are checked first.

Each report is a real file (or a real archive member) handed to the real `auditor verify`; the
answer is a located exit 2, never an internal error, a RecursionError or minutes of work.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.hardening.evidence import Cli, exported, members, replace, rezip

#: A face_engine block of the right shape (the audits here run without frames, so have none).
ENGINE: dict[str, Any] = {"fingerprint": "0" * 64, "build": {}, "params": {}}
#: An error entry of the right shape.
ERROR: dict[str, Any] = {"file": "logs/p.jsonl", "line": 1, "record": None, "message": "m"}


@pytest.fixture
def run(cli: Cli, tmp_path: Path) -> dict[str, Any]:
    return exported(cli, tmp_path)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change that sets the dotted/indexed `path` of a report to `value`."""

    def change(report: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = report
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


#: Each refusal comes from the typed model (`core.report.load_untrusted`, strict), the one owner
#: of the report's shape.
SHAPES = [
    ("findings", {}, "findings: Input should be a valid array"),
    ("findings.0.id", ["x"], "findings[0].id: Input should be a valid string"),
    ("findings.0.events", "e", "findings[0].events: Input should be a valid array"),
    (
        "findings.0.events.0.line",
        "7",
        "findings[0].events[0].line: Input should be a valid integer",
    ),
    ("findings.0.events.0", 3, "findings[0].events[0]: Input should be an object"),
    ("inputs.0", "logs/p.jsonl", "inputs[0]: Input should be an object"),
    ("inputs.0.sha256", 12, "inputs[0].sha256: Input should be a valid string"),
    (
        "inputs.0.sha256",
        "../x",
        "inputs[0].sha256: String should match pattern '^(?:[0-9a-f]{64})?$'",
    ),
    ("packs.0.sha256", None, "packs[0].sha256: Input should be a valid string"),
    (
        "packs.0.id",
        "../../etc/passwd",
        "packs[0].id: Value error, '../../etc/passwd' is not a pack id",
    ),
    ("run", [], "run: Input should be an object"),
    ("settings", "x", "settings: Input should be an object"),
    ("face_engine", {"params": [1]}, "face_engine.fingerprint: Field required"),
    ("face_engine", ENGINE | {"params": [1]}, "face_engine.params: Input should be an object"),
    ("errors", [ERROR | {"line": "x"}], "errors[0].line: Input should be a valid integer"),
    ("settings.probe_tolerance", "0.6", "settings.probe_tolerance: Input should be a valid number"),
    (
        "settings.frames",
        "everything",
        "settings.frames: Input should be 'referenced', 'all' or 'none'",
    ),
    (
        "settings.fail_on_undecided",
        "yes",
        "settings.fail_on_undecided: Input should be a valid boolean",
    ),
]


@pytest.mark.parametrize(("path", "value", "expected"), SHAPES)
def test_a_malformed_report_is_a_located_exit_2(
    cli: Cli, run: dict[str, Any], tmp_path: Path, path: str, value: Any, expected: str
) -> None:
    report = json.loads(run["report_path"].read_text())
    _set(path, value)(report)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(report))
    res = cli("verify", bad, run["bundle"])
    assert res.exit_code == 2, res.output
    assert f"auditor: error: {bad}: {expected}" in res.output
    # the same report inside an archive
    entries = replace(members(run["archive"]), "report.json", json.dumps(report).encode())
    archive = rezip(tmp_path / "bad.zip", entries)
    res = cli("verify", archive)
    assert res.exit_code == 2, res.output
    assert f"{archive}: report.json: {expected}" in res.output


@pytest.mark.parametrize("depth", [1_000, 5_000])
def test_a_deep_report_is_refused_before_anything_recurses(
    cli: Cli, run: dict[str, Any], tmp_path: Path, depth: int
) -> None:
    report = json.loads(run["report_path"].read_text())
    text = json.dumps(report)
    deep = "[" * depth + "]" * depth
    bad = tmp_path / "deep.json"
    bad.write_text(text[:-1] + f', "extra": {deep}}}')
    res = cli("verify", bad, run["bundle"])
    assert res.exit_code == 2, res.output
    assert "nested deeper than 32 levels" in res.output or "depth limit exceeded" in res.output


#: Values of the right type that the re-run refuses as `auditor audit` refuses its options.
SETTINGS = [
    (
        "face_engine",
        ENGINE | {"params": {"upsample": 4}},
        "upsample: must be a whole number from 0 to 3",
    ),
    ("face_engine", ENGINE | {"params": {"upsample": "1"}}, "upsample: must be a whole number"),
    ("face_engine", ENGINE | {"params": {"upsample": True}}, "upsample: must be a whole number"),
    ("face_engine", ENGINE | {"params": {"kernel": "cuda"}}, "kernel: must be one of onnx, dlib"),
    ("settings.probe_tolerance", 5, "probe_tolerance: must be from 0.0 to 1.0, not 5"),
    ("settings.fail_on", "info", "fail_on: must be one of low, medium, high, critical, never"),
]


@pytest.mark.parametrize(("path", "value", "expected"), SETTINGS)
def test_rerun_settings_are_checked_as_audit_checks_its_options(
    cli: Cli, run: dict[str, Any], tmp_path: Path, path: str, value: Any, expected: str
) -> None:
    report = json.loads(run["report_path"].read_text())
    _set(path, value)(report)
    bad = tmp_path / "s.json"
    bad.write_text(json.dumps(report))
    start = time.monotonic()
    res = cli("verify", bad, run["bundle"])
    assert res.exit_code == 2, res.output
    assert "the report's settings cannot be re-run: " in res.output
    assert expected in res.output
    entries = replace(members(run["archive"]), "report.json", json.dumps(report).encode())
    res = cli("verify", rezip(tmp_path / "s.zip", entries))
    assert res.exit_code == 2, res.output
    assert expected in res.output
    assert time.monotonic() - start < 20


def test_the_command_line_refuses_the_same_upsample(cli: Cli, run: dict[str, Any]) -> None:
    res = cli("audit", run["bundle"], "--upsample", "4", "--no-store")
    assert res.exit_code == 2, res.output


@pytest.mark.parametrize("kind", ["fifo", "dev zero", "folder"])
def test_a_report_that_is_not_a_regular_file_is_refused_unread(
    cli: Cli, run: dict[str, Any], tmp_path: Path, kind: str
) -> None:
    target = tmp_path / "report-x.json"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "dev zero":
        target.symlink_to("/dev/zero")
    else:
        target.mkdir()
    start = time.monotonic()
    res = cli("verify", target, run["bundle"])
    assert res.exit_code == 2, res.output
    assert f"{target}: not a regular file" in res.output
    assert time.monotonic() - start < 10
