"""Names that are not UTF-8, escape sequences in anything printed, and pack text in SARIF."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, ROOT
from tests.hardening.helpers import AMAZON, JSONL_PRINCIPALS, jsonl_line, write

Cli = Callable[..., Any]
AuditJson = Callable[..., tuple[int, dict[str, Any]]]
ESC = "\x1b"
#: What a terminal must never receive from input: ESC, BEL, CR, bidi overrides.
RAW = re.compile("[\x1b\x07\r\u202e]")


def _bytes_name(folder: Path, name: bytes) -> Path:
    """A file whose name is `name` (bytes that are not UTF-8)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = os.path.join(os.fsencode(folder), name)
    with open(path, "wb") as fh:
        fh.write(b"x")
    return folder


@pytest.mark.parametrize("folder", ["logs", "frames", "probes/alice"])
def test_non_utf8_file_names_are_reported_escaped(
    tmp_path: Path, audit_json: AuditJson, folder: str
) -> None:
    bundle = write(
        tmp_path / "b", {"logs/p.jsonl": jsonl_line(), "principals.toml": JSONL_PRINCIPALS}
    )
    _bytes_name(bundle / folder, b"bad\xff.jpg")
    code, report = audit_json(bundle, "--policy", AMAZON, "--all-frames")
    assert code == 3
    (error,) = report["errors"]
    assert error["file"] == f"{folder}/bad\\xff.jpg"
    assert "not valid UTF-8" in error["message"]
    assert len(report["findings"]) == 1


def test_bundle_name_and_file_names_are_neutralised_in_runs_and_errors(
    tmp_path: Path, cli: Cli, db_url: str
) -> None:
    bundle = write(
        tmp_path / "b",
        {
            "logs/p.jsonl": jsonl_line(),
            f"logs/evil{ESC}[2J.docx": "x",
            "audit.toml": 'name = "\\u001b]0;pwned\\u0007 \\u202e"\n',
        },
    )
    result = cli("audit", bundle, "--db", db_url, "--no-frames", "--format", "table")
    assert result.exit_code == 3
    assert not RAW.search(result.stdout + result.stderr)
    assert "logs/evil?[2J.docx" in result.stdout  # the table's own neutralisation
    runs = cli("runs", "--db", db_url)
    assert runs.exit_code == 0 and not RAW.search(runs.stdout)
    report = json.loads(
        cli("report", runs.stdout.split()[0], "--format", "json", "--db", db_url).stdout
    )
    assert report["bundle"]["name"] == "\x1b]0;pwned\x07 \u202e"  # data keeps the value


def test_faces_command_neutralises_file_names(tmp_path: Path, cli: Cli) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    shutil.copy(FIXTURES / "faces" / "obama_small.jpg", folder / f"a{ESC}[31m.jpg")
    (folder / f"b{ESC}]0;x{chr(7)}.jpg").write_text("not an image")
    result = cli("faces", folder, "--no-cache", "--workers", "1")
    assert result.exit_code == 3
    assert not RAW.search(result.stdout + result.stderr)
    assert "a\\x1b[31m.jpg: 1 face(s)" in result.stdout
    assert "b\\x1b]0;x\\x07.jpg: ERROR" in result.stdout


def _hostile_pack(tmp_path: Path) -> Path:
    pack = (ROOT / "seeds" / f"{AMAZON}.toml").read_text()
    pack = pack.replace(
        'title = "Amazon Rekognition: moratorium on police use of face comparison"',
        'title = "Amazon \\u001b[2J<img src=x onerror=alert(1)> [x](javascript:alert(1))"',
    )
    pack = re.sub(r'url = "https://[^"]*"', 'url = "javascript:alert(1)"', pack)
    path = tmp_path / "hostile.toml"
    path.write_text(pack)
    return path


def test_policy_show_and_lint_neutralise_pack_fields(tmp_path: Path, cli: Cli) -> None:
    path = _hostile_pack(tmp_path)
    show = cli("policy", "show", path)
    assert show.exit_code == 0
    assert not RAW.search(show.stdout) and "Amazon \\x1b[2J" in show.stdout
    broken = tmp_path / "broken.toml"
    broken.write_text(path.read_text().replace('severity = "high"', 'severity = "\\u001b[2J"'))
    lint = cli("policy", "lint", broken)
    assert lint.exit_code == 2
    assert not RAW.search(lint.stdout) and "unknown severity '\\x1b[2J'" in lint.stdout


def test_sarif_help_is_plain_and_links_only_to_the_web(
    tmp_path: Path, cli: Cli, db_url: str
) -> None:
    bundle = write(
        tmp_path / "b", {"logs/p.jsonl": jsonl_line(), "principals.toml": JSONL_PRINCIPALS}
    )
    out = tmp_path / "r.sarif"
    result = cli(
        "audit",
        bundle,
        "--policy",
        _hostile_pack(tmp_path),
        "--no-frames",
        "--db",
        db_url,
        "--format",
        "sarif",
        "--output",
        out,
    )
    assert result.exit_code == 1
    sarif = json.loads(out.read_text())
    (rule,) = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert "helpUri" not in rule  # the pack's only links are javascript:
    markdown = rule["help"]["markdown"]
    assert not re.search(r"(?<!\\)[<>]", markdown)  # no raw HTML
    assert not re.search(r"(?<!\\)\]\(javascript:", markdown)  # no javascript: link
    assert "\\<img src=x onerror=alert\\(1\\)\\>" in markdown
    # plain text: the title is quoted as written, but no javascript: URL is given as a source
    sources = rule["help"]["text"].split("Sources:")[1]
    assert "javascript:" not in sources and "We are implementing" in sources


def test_bundle_folder_whose_name_is_not_utf8(tmp_path: Path, cli: Cli, db_url: str) -> None:
    folder = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"bundle\xff")))
    write(folder, {"logs/p.jsonl": jsonl_line(), "principals.toml": JSONL_PRINCIPALS})
    out = tmp_path / "r.json"
    result = cli(
        "audit",
        folder,
        "--policy",
        AMAZON,
        "--no-frames",
        "--db",
        db_url,
        "--format",
        "json",
        "--output",
        out,
    )
    assert result.exit_code == 1, result.output
    assert json.loads(out.read_text())["bundle"]["name"] == "bundle\\xff"
    runs = cli("runs", "--db", db_url)
    assert runs.exit_code == 0 and "bundle\\xff" in runs.stdout
