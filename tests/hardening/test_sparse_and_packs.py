"""The sparse bundle is bounded, record paths are checked as paths, archive packs are compared
with the shipped pack of their id and version, and export refuses logs changed since the audit.

Real runs exported through the real CLI, real zips rebuilt from them, the real `verify`.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from auditor.policy import seeds_dir
from tests.hardening.evidence import Cli, exported, members, replace, rezip
from tests.hardening.helpers import AMAZON, ct_record, jsonl_line


@pytest.fixture
def run(cli: Cli, tmp_path: Path) -> dict[str, Any]:
    return exported(cli, tmp_path)


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """verify's temporary folders go here, so a test can see what was (not) written."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _record(file: str, line: int | None, record: int | None, raw: str) -> bytes:
    rec = {
        "file": file,
        "line": line,
        "record": record,
        "source": "cloudtrail" if record is not None else "jsonl",
        "shape": "line" if record is None else "line-record" if line else "document-record",
        "encoding": "utf-8",
        "raw": raw,
        "sha256": hashlib.sha256(raw.encode()).hexdigest(),
    }
    return json.dumps(rec, sort_keys=True).encode() + b"\n"


def _with_records(run: dict[str, Any], dest: Path, *lines: bytes) -> Path:
    entries = members(run["archive"])
    records = dict(entries)["records.jsonl"] + b"".join(lines)
    return rezip(dest, replace(entries, "records.jsonl", records))


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


CT = json.dumps(ct_record(), sort_keys=True)


def test_one_record_at_a_huge_index_writes_nothing(
    cli: Cli, run: dict[str, Any], tmp_path: Path, scratch: Path
) -> None:
    """A 250-byte record at index 5,000,000 would be 300 MB of fillers."""
    assert 200 < len(CT) < 400
    bad = _with_records(run, tmp_path / "i.zip", _record("logs/t.json", None, 5_000_000, CT))
    start = time.monotonic()
    res = cli("verify", bad)
    assert res.exit_code == 2, res.output
    assert "records.jsonl: logs/t.json: would need 5,000,001 record slots" in res.output
    assert time.monotonic() - start < 10
    assert _size(scratch) == 0


def test_record_slots_add_up_over_the_lines_of_one_file(
    cli: Cli, run: dict[str, Any], tmp_path: Path, scratch: Path
) -> None:
    lines = [_record("logs/t.json", n, 400_000, CT) for n in (1, 2, 3)]
    res = cli("verify", _with_records(run, tmp_path / "l.zip", *lines))
    assert res.exit_code == 2, res.output
    assert "would need 1,200,003 record slots, over the limit of 1,000,000" in res.output
    assert _size(scratch) == 0


def test_the_whole_sparse_bundle_is_bounded(
    cli: Cli, run: dict[str, Any], tmp_path: Path, scratch: Path
) -> None:
    """Three files each at line 50,000,000: 150 MB of blank lines, over the 128 MiB budget."""
    raw = jsonl_line().strip()
    lines = [_record(f"logs/x{k}.jsonl", 50_000_000, None, raw) for k in range(3)]
    res = cli("verify", _with_records(run, tmp_path / "b.zip", *lines))
    assert res.exit_code == 2, res.output
    assert "the sparse bundle would be larger than 134,217,728 bytes" in res.output
    assert _size(scratch) == 0


@pytest.mark.parametrize(
    "file",
    ["logs/x/../../principals.toml", "logs/../audit.toml", "logs/./p.jsonl", "logs//p.jsonl"],
)
def test_record_paths_are_checked_as_paths(
    cli: Cli, run: dict[str, Any], tmp_path: Path, scratch: Path, file: str
) -> None:
    bad = _with_records(run, tmp_path / "p.zip", _record(file, 1, None, "x"))
    res = cli("verify", bad)
    assert res.exit_code == 2, res.output
    assert "records.jsonl:2: file must be a plain path under logs/" in res.output
    assert _size(scratch) == 0


def _forged(run: dict[str, Any], dest: Path, pack: bytes) -> Path:
    """An archive whose report has no findings and whose pack is `pack`, all sums consistent."""
    entries = members(run["archive"])
    report = json.loads(dict(entries)["report.json"])
    report["findings"] = []
    report["packs"][0]["sha256"] = hashlib.sha256(pack).hexdigest()
    entries = replace(entries, f"packs/{AMAZON}.toml", pack)
    entries = replace(entries, "records.jsonl", b"")
    return rezip(dest, replace(entries, "report.json", json.dumps(report).encode()))


def test_a_pack_that_reuses_a_shipped_id_and_version_is_compared_with_it(
    cli: Cli, run: dict[str, Any], tmp_path: Path
) -> None:
    shipped = (seeds_dir() / f"{AMAZON}.toml").read_bytes()
    exempting = shipped.replace(b'"Marinus Analytics"]', b'"Marinus Analytics", "Test Police"]')
    assert exempting != shipped
    res = cli("verify", _forged(run, tmp_path / "f.zip", exempting))
    assert res.exit_code == 1, res.output
    assert (
        f"{AMAZON} {_shipped_version()}: differs from the shipped pack of that id and version"
        in res.output
    )
    assert "verify: NOT reproduced" in res.output
    # the same pack is also compared when the archive is checked against the bundle
    res = cli("verify", _forged(run, tmp_path / "g.zip", exempting), run["bundle"])
    assert res.exit_code == 1, res.output
    assert "differs from the shipped pack" in res.output


def test_another_version_of_a_shipped_pack_is_a_note(
    cli: Cli, run: dict[str, Any], tmp_path: Path
) -> None:
    shipped = (seeds_dir() / f"{AMAZON}.toml").read_bytes()
    version = _shipped_version()
    other = shipped.replace(f'version = "{version}"'.encode(), b'version = "0.9.0"', 1)
    assert other != shipped
    res = cli("verify", _forged(run, tmp_path / "v.zip", other), "--json")
    doc = json.loads(res.output)
    point = next(p for p in doc["points"] if p["topic"] == "shipped packs")
    assert point["note"] is True
    assert f"{AMAZON}: version 0.9.0, this release ships {version}" in point["details"]


def test_an_archive_of_a_run_without_findings_verifies(cli: Cli, tmp_path: Path) -> None:
    run = exported(cli, tmp_path, {"logs/p.jsonl": jsonl_line(operation="ListCollections")})
    assert run["report"]["findings"] == []
    res = cli("verify", run["archive"])
    assert res.exit_code == 0, res.output
    assert "no published record: nothing to re-run" in res.output
    assert "verify: reproduced" in res.output


def test_export_refuses_a_log_changed_since_the_audit(
    cli: Cli, run: dict[str, Any], tmp_path: Path
) -> None:
    log = run["bundle"] / "logs/p.jsonl"
    log.write_text(log.read_text() + jsonl_line(time="2023-02-01T00:00:00Z"))
    out = tmp_path / "again.zip"
    res = cli("export", run["report"]["run"]["id"], "--db", run["db"], "--output", out)
    assert res.exit_code == 2, res.output
    assert "logs/p.jsonl: changed since the run (its SHA-256 differs" in res.output
    assert not out.exists()


def _shipped_version() -> str:
    """The version of the shipped Amazon pack (bumped by releases; read, not written here)."""
    text = (seeds_dir() / f"{AMAZON}.toml").read_text()
    found = re.search(r'^version = "([^"]+)"', text, flags=re.M)
    assert found is not None
    return found.group(1)
