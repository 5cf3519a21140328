"""Output filtering: CSV cells no spreadsheet locale takes as formulas, terminal lines without
control characters, and baselines that cannot block or smuggle text that cannot be shown.

Real bundles audited through the real CLI; the terminal case runs the real `auditor` on a pty.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from auditor.policy import seeds_dir
from tests.hardening.evidence import Cli
from tests.hardening.helpers import AMAZON, jsonl_line, write

HOSTILE = 'pd-analyst;=HYPERLINK("http://203.0.113.9/x","y")'


def _bundle(tmp_path: Path, organisation: str = "Test Police") -> Path:
    principals = (
        f"[[principal]]\nname = {json.dumps(HOSTILE)}\norganisation = {json.dumps(organisation)}"
        '\ncategory = "police"\n'
    )
    return write(
        tmp_path / "b",
        {
            "logs/p.jsonl": jsonl_line(principal=HOSTILE, event_id="-2+3", request_id="a,b"),
            "principals.toml": principals,
        },
    )


def test_csv_quotes_semicolons_and_commas_and_defuses_formulas(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    res = cli("audit", _bundle(tmp_path), "--policy", AMAZON, "--no-frames", "--no-store",
              "-f", "csv", "-o", out)  # fmt: skip
    assert res.exit_code == 1, res.output
    raw = out.read_bytes().decode()
    # the `;` field is quoted: a locale that splits on `;` sees one cell, not `=HYPERLINK(...)`
    assert ',"pd-analyst;\'=HYPERLINK(""http://203.0.113.9/x"",""y"")",' in raw
    assert ",'-2+3," in raw  # a formula prefix is defused
    rows = list(csv.DictReader(io.StringIO(raw)))
    assert rows[0]["principal"] == HOSTILE.replace(";=", ";'=")
    assert rows[0]["event_id"] == "'-2+3"
    # what a spreadsheet whose locale separates on `;` reads: no cell starts a formula
    for cells in csv.reader(io.StringIO(raw), delimiter=";"):
        for cell in cells:
            assert not cell.startswith(("=", "+", "-", "@")), cells


def _pack_with_version(tmp_path: Path, version: str) -> Path:
    text = (seeds_dir() / f"{AMAZON}.toml").read_text()
    copy = tmp_path / f"{AMAZON}.toml"
    changed, n = re.subn(
        r'^version = "[^"]*"',
        lambda _: f"version = {json.dumps(version)}",
        text,
        count=1,
        flags=re.M,
    )
    assert n == 1, "the pack has no version line"
    copy.write_text(changed)
    return copy


def test_the_table_packs_line_is_filtered(cli: Cli, tmp_path: Path) -> None:
    pack = _pack_with_version(tmp_path, "1.1.0\x1b]0;owned\x07\x1b[2J")
    res = cli("audit", _bundle(tmp_path), "--policy", pack, "--no-frames", "--no-store")
    assert res.exit_code == 1, res.output
    assert "\x1b" not in res.output and "\x07" not in res.output
    assert f"packs: {AMAZON}@1.1.0?]0;owned??[2J" in res.output


def _on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run the real `auditor` with stdout on a pseudo-terminal; (exit code, what it showed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "auditor", *args],
        stdout=slave,
        stderr=subprocess.DEVNULL,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},
    )
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_every_report_on_a_terminal_is_filtered(tmp_path: Path, fmt: str) -> None:
    bundle = _bundle(tmp_path, organisation="Test\x1b[2J\x1b]0;owned\x07Police")
    code, shown = _on_a_terminal(
        ["audit", str(bundle), "--policy", AMAZON, "--no-frames", "--no-store", "-f", fmt],
        tmp_path,
    )
    assert code == 1, shown
    assert "[2J" in shown  # the text is there, made visible ...
    assert "\x1b[2J" not in shown and "\x07" not in shown  # ... but never sent as a control


def test_a_lone_surrogate_in_a_baseline_is_refused_at_load(cli: Cli, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(
        '{"schema": "auditor.baseline/v1", "entries": [{"fingerprint": "abc", '
        '"reason": "ok \\ud800", "who": "me", "expires": "2999-01-01"}]}'
    )
    out = tmp_path / "r.json"
    res = cli("audit", _bundle(tmp_path), "--policy", AMAZON, "--no-frames", "--no-store",
              "--baseline", baseline, "-f", "json", "-o", out)  # fmt: skip
    assert res.exit_code == 2, res.output
    assert "entries[0].reason: holds a lone surrogate" in res.output
    assert not out.exists()


@pytest.mark.parametrize("kind", ["fifo", "dev zero"])
def test_a_baseline_that_is_not_a_regular_file_is_refused_unread(
    cli: Cli, tmp_path: Path, kind: str
) -> None:
    baseline = tmp_path / "baseline.json"
    if kind == "fifo":
        os.mkfifo(baseline)
    else:
        baseline.symlink_to("/dev/zero")
    start = time.monotonic()
    res = cli("audit", _bundle(tmp_path), "--policy", AMAZON, "--no-frames", "--no-store",
              "--baseline", baseline)  # fmt: skip
    assert res.exit_code == 2, res.output
    assert f"{baseline}: cannot be used: baseline file is not a regular file" in res.output
    # baseline create never reads a non-regular target either
    report = tmp_path / "r.json"
    cli("audit", _bundle(tmp_path), "--policy", AMAZON, "--no-frames", "--no-store",
        "-f", "json", "-o", report)  # fmt: skip
    res = cli("baseline", "create", report, "--reason", "r", "--who", "w",
              "--expires", "2999-01-01", "-o", baseline)  # fmt: skip
    assert res.exit_code == 2, res.output
    assert "is not a regular file" in res.output
    res = cli("baseline", "create", baseline, "--reason", "r", "--who", "w",
              "--expires", "2999-01-01", "-o", tmp_path / "new.json")  # fmt: skip
    assert res.exit_code == 2, res.output
    assert "the JSON report is not a regular file" in res.output
    assert time.monotonic() - start < 30


def test_an_oversized_baseline_is_refused_unread(cli: Cli, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    with baseline.open("wb") as fh:
        fh.truncate(17 << 20)  # sparse: costs nothing
    res = cli("audit", _bundle(tmp_path), "--policy", AMAZON, "--no-frames", "--no-store",
              "--baseline", baseline)  # fmt: skip
    assert res.exit_code == 2, res.output
    assert "over the limit of 16,777,216 bytes" in res.output
