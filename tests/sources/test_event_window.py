"""The bounded window of a file's events (`auditor.sources.window`): a reader hands a file's
events on in batches, so a file of 500,000 face operations no longer has to fit in memory (its
peak RSS is measured in bench/RESULTS.md, "Every reader streams"). Batches must change nothing:
the real CLI audits the demo logs and the real-world corpus with a window of one event, in
process and on two workers, and every report is the one the default window gives."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from auditor.config.bundle import SourceSettings
from auditor.sources import ReadJob, read_file
from auditor.sources.window import WINDOW_ENV, all_events
from tests.conftest import ROOT
from tests.run.test_stream import _without_run

REALWORLD = ROOT / "fixtures" / "realworld"


def _bundle(root: Path) -> Path:
    bundle = root / "b"
    shutil.copytree(ROOT / "fixtures/demo", bundle, ignore=shutil.ignore_patterns("frames"))
    shutil.copytree(
        REALWORLD, bundle / "logs/realworld", ignore=shutil.ignore_patterns("*.md", "*.toml")
    )
    return bundle


def _audit(cli: Callable[..., Any], bundle: Path, out: Path, *args: str) -> dict[str, Path]:
    out.mkdir()
    files = {s: out / f"r.{s}" for s in ("json", "csv", "sarif", "xml")}
    formats = [a for s, p in files.items() for a in ("-f", s if s != "xml" else "junit", "-o", p)]
    res = cli("audit", bundle, "--no-frames", "--no-store", *formats, *args)
    assert res.exit_code in (1, 3), res.output
    return files


def _volatile(files: dict[str, Path]) -> dict[str, str]:
    report = json.loads(files["json"].read_text())
    out = {"json": _without_run(files["json"]), "csv": files["csv"].read_text()}
    for name in ("sarif", "xml"):
        text = files[name].read_text()
        for value in (report["run"]["id"], report["run"]["started"], report["run"]["finished"]):
            text = text.replace(value, "VOLATILE")
        out[name] = re.sub(r'"guid": "[0-9a-f-]{36}"', '"guid": "VOLATILE"', text)  # the run's
    return out


def test_a_window_of_one_event_changes_no_report(
    tmp_path: Path, cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = _bundle(tmp_path)
    monkeypatch.delenv(WINDOW_ENV, raising=False)
    plain = _volatile(_audit(cli, bundle, tmp_path / "plain"))
    assert json.loads(plain["json"])["summary"]["face_operations"] > 100
    monkeypatch.setenv(WINDOW_ENV, "1")
    for workers in ("1", "2"):
        batched = _volatile(_audit(cli, bundle, tmp_path / f"w{workers}", "--workers", workers))
        for name in plain:
            assert batched[name] == plain[name], (name, workers)


def _busiest() -> str:
    """The corpus file with the most events."""
    expected = tomllib.loads((REALWORLD / "expected.toml").read_text())["file"]
    return max(expected, key=lambda e: sum(e.get("events", {}).values()))["path"]


def _rows(events: Any) -> list[tuple[Any, ...]]:
    return [(e.line, e.record, e.time, e.operation, e.principal.id, e.event_id) for e in events]


def _read(spill: Path | None) -> Any:
    return read_file(
        ReadJob(str(REALWORLD), _busiest(), "auto", SourceSettings(), str(spill) if spill else None)
    )


def test_batches_go_through_the_spill_folder_and_are_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _read(None)
    assert len(whole.events) >= 5 and not whole.batches and not whole.packed
    monkeypatch.setenv(WINDOW_ENV, "2")
    spill = tmp_path / "spill"
    spill.mkdir()
    result = _read(spill)
    assert len(result.events) <= 2 and not result.packed
    assert len(result.batches) == len(list(spill.iterdir())) >= 2
    assert _rows(all_events(result)) == _rows(whole.events)
    assert list(spill.iterdir()) == [] and result.batches == []


def test_without_a_spill_folder_batches_travel_packed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cluster worker shares no disk with the client: its batches travel in the result."""
    whole = _read(None)
    monkeypatch.setenv(WINDOW_ENV, "2")
    result = _read(None)
    assert result.packed and not result.batches and len(result.events) <= 2
    assert _rows(all_events(result)) == _rows(whole.events)
    assert (whole.records, whole.issues, whole.sha256) == (
        result.records,
        result.issues,
        result.sha256,
    )
