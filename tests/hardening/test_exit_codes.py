"""The exit code never lies: unusable config is exit 2 (located), nothing to read is exit 3."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from auditor.sources import SOURCES
from tests.hardening.helpers import AMAZON, JSONL_PRINCIPALS, jsonl_line, write

Cli = Callable[..., Any]
AuditJson = Callable[..., tuple[int, dict[str, Any]]]


def _bundle(tmp_path: Path) -> Path:
    return write(tmp_path / "b", {"logs/p.jsonl": jsonl_line()})


@pytest.mark.parametrize("kind", ["broken symlink", "folder", "fifo", "dev null", "outside"])
@pytest.mark.parametrize("name", ["principals.toml", "audit.toml"])
def test_unusable_config_file_is_exit_2_naming_it(
    tmp_path: Path, cli: Cli, kind: str, name: str
) -> None:
    bundle = _bundle(tmp_path)
    target = bundle / name
    if kind == "broken symlink":
        target.symlink_to(bundle / "nowhere.toml")
    elif kind == "folder":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "dev null":
        target.symlink_to("/dev/null")
    else:
        (tmp_path / "elsewhere.toml").write_text(JSONL_PRINCIPALS)
        target.symlink_to(tmp_path / "elsewhere.toml")
    result = cli("audit", bundle, "--no-store", "--no-frames")
    assert result.exit_code == 2, result.output
    assert f"auditor: error: {name}: cannot be used:" in result.stderr
    expected = {
        "broken symlink": "broken symbolic link",
        "folder": "is a directory, not a regular file",
        "fifo": "is a FIFO (named pipe), not a regular file",
        "dev null": "leads outside the bundle",
        "outside": "leads outside the bundle",
    }[kind]
    assert expected in result.stderr


def test_oversized_config_file_is_refused_unread(tmp_path: Path, cli: Cli) -> None:
    bundle = _bundle(tmp_path)
    with open(bundle / "principals.toml", "wb") as fh:
        fh.truncate(2 << 20)  # sparse: 2 MiB that cost nothing
    result = cli("audit", bundle, "--no-store", "--no-frames")
    assert result.exit_code == 2
    assert "principals.toml: cannot be used:" in result.stderr
    assert "over the limit of 1,048,576 bytes" in result.stderr


def test_empty_logs_folder_is_nothing_to_audit(tmp_path: Path, cli: Cli) -> None:
    """Nothing to audit is exit 2 (nothing was audited), with no report and no run stored."""
    bundle = tmp_path / "b"
    (bundle / "logs").mkdir(parents=True)
    out, db = tmp_path / "r.json", tmp_path / "audit.db"
    result = cli("audit", bundle, "--no-frames", "-f", "json", "-o", out, "--db", f"sqlite:///{db}")
    assert result.exit_code == 2, result.output
    assert f"auditor: error: {bundle}: the logs/ folder is empty: nothing to audit" in result.stderr
    assert not out.exists()
    assert "no runs recorded" in cli("runs", "--db", f"sqlite:///{db}").stdout


def test_a_bundle_without_logs_is_nothing_to_audit(tmp_path: Path, cli: Cli) -> None:
    bundle = write(tmp_path / "b", {"frames/x.txt": "not a log"})
    result = cli("audit", bundle, "--no-store")
    assert result.exit_code == 2, result.output
    assert "the bundle has no logs/ folder: nothing to audit" in result.stderr
    assert "a bundle keeps its log files under logs/" in result.stderr
    assert "did you mean" not in result.stderr


@pytest.mark.parametrize("relative", [True, False])
def test_a_logs_folder_given_as_the_bundle_names_its_parent(
    tmp_path: Path, cli: Cli, relative: bool
) -> None:
    bundle = write(
        tmp_path / "b", {"logs/p.jsonl": jsonl_line(), "principals.toml": JSONL_PRINCIPALS}
    )
    given = "b/logs" if relative else str(bundle / "logs")
    result = cli("audit", given, "--no-store", "--no-frames", cwd=tmp_path)
    assert result.exit_code == 2, result.output
    parent = "b" if relative else str(bundle)
    assert result.stderr.strip() == (
        f"auditor: error: {given}: the bundle has no logs/ folder: nothing to audit; this looks "
        f"like a bundle's logs/ folder: did you mean `auditor audit {parent}`?"
    )


def test_a_folder_inside_a_bundle_suggests_its_parent(tmp_path: Path, cli: Cli) -> None:
    """A bundle's frames/ given as the bundle: its parent holds logs/ and principals.toml, so the
    parent is what was meant."""
    bundle = write(
        tmp_path / "b", {"logs/p.jsonl": jsonl_line(), "principals.toml": JSONL_PRINCIPALS}
    )
    (bundle / "frames").mkdir()
    result = cli("audit", bundle / "frames", "--no-store", "--no-frames")
    assert result.exit_code == 2
    assert f"did you mean `auditor audit {bundle}`?" in result.stderr


def test_fifo_under_logs_is_an_input_error_and_never_waited_on(tmp_path: Path) -> None:
    bundle = write(
        tmp_path / "b", {"logs/p.jsonl": jsonl_line(), "principals.toml": JSONL_PRINCIPALS}
    )
    os.mkfifo(bundle / "logs" / "pipe.jsonl")
    out = tmp_path / "r.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "auditor",
            "audit",
            str(bundle),
            "--policy",
            AMAZON,
            "--no-store",
            "--no-frames",
            "--format",
            "json",
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 3, proc.stderr
    import json

    report = json.loads(out.read_text())
    (error,) = report["errors"]
    assert error["file"] == "logs/pipe.jsonl"
    assert "FIFO" in error["message"]
    assert len(report["findings"]) == 1  # the regular log is still audited


AUDIT_TOML_ERRORS = """\
name = 42
timezone = "UTC"

[[sources]]
glob = "logs/*.log"
source = "unknown"

[[text]]
glob = "*.log"
pattern = "(?P<time>\\\\S+) (?P<operation>\\\\S+)"
colour = "blue"

[[jsonl]]
glob = 7
fields = { time = "ts" }
extra = true

[[sources]]
glob = "x"
source = "jsonl"
typo = 1
"""


def test_audit_toml_reports_every_problem_with_its_line(tmp_path: Path, cli: Cli) -> None:
    bundle = write(tmp_path / "b", {"logs/p.jsonl": jsonl_line(), "audit.toml": AUDIT_TOML_ERRORS})
    result = cli("audit", bundle, "--no-store", "--no-frames")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("auditor: error: audit.toml:1: name: must be a string")
    for expected in [
        f"audit.toml:6: sources[0].source: unknown source 'unknown' (known: {', '.join(SOURCES)})",
        "audit.toml:11: text[0].colour: unknown key 'colour'",
        "audit.toml:14: jsonl[0].glob: must be a string, not int",
        "audit.toml:16: jsonl[0].extra: unknown key 'extra'",
        "audit.toml:21: sources[1].typo: unknown key 'typo'",
    ]:
        assert any(line.startswith(expected) for line in lines), (expected, lines)
    assert len(lines) == 6


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("timezone = 3\n", "audit.toml:1: timezone: must be a string, not int"),
        ("[frames]\n'x/' = 1\n", "audit.toml:2: frames.x/: frame folder must be a string"),
        ("[[text]]\npattern = 5\n", "audit.toml:2: text[0].pattern: must be a non-empty string"),
        ("text = 5\n", "audit.toml:1: text: [[text]] must be an array of tables"),
    ],
)
def test_wrong_value_types_in_audit_toml(
    tmp_path: Path, cli: Cli, toml: str, expected: str
) -> None:
    bundle = write(tmp_path / "b", {"logs/p.jsonl": jsonl_line(), "audit.toml": toml})
    result = cli("audit", bundle, "--no-store", "--no-frames")
    assert result.exit_code == 2
    assert expected in result.stderr
