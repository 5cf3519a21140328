"""Flat memory through the real CLI: spilling to disk changes no byte of any report.

The bundle is written here: police face searches in a shuffled time order spread over several
files, authorisation records logged in a later file than the uses they cover (the engine must
wait for them), events the engine cannot decide, and prohibited searches. Each audit runs once
with the normal batch and once with `AUDITOR_SPILL_BATCH=3`, which forces every spool to disk.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.store import Store

ROOT = Path(__file__).resolve().parents[2]
PACKS = ROOT / "fixtures" / "packs"
BASE = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def _ts(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def make_bundle(root: Path, uses: int = 60, undecided: int = 30, prohibited: int = 25) -> Path:
    """A bundle whose findings arrive out of order, across files (deterministic)."""
    rng = random.Random(7)
    (root / "logs").mkdir(parents=True)
    shutil.copy(PACKS / "eu-ai-act-art5" / "principals.toml", root / "principals.toml")
    searches, auths = [], []
    for i in range(uses):
        when = BASE + timedelta(hours=rng.randrange(0, 24 * 40), minutes=i)
        searches.append(
            {
                "time": _ts(when),
                "principal": "le-officer",
                "service": "rekognition",
                "operation": "SearchFacesByImage",
                "event_id": f"s{i:04d}",
                "purpose": "missing_person",
                "case_ref": f"K-{i}",
                "country": "DE",
                "urgency": "true",
                "national_law_ref": "enabling-act-1",
                "modality": "real_time",
                "space": "publicly_accessible",
            }
        )
        if i % 2 == 0:  # authorised 3 h after the use (urgency), logged in a later file
            auths.append(
                {
                    "time": _ts(when + timedelta(hours=3)),
                    "principal": "court",
                    "service": "authority",
                    "operation": "AuthorisationGranted",
                    "event_id": f"a{i:04d}",
                    "case_ref": f"K-{i}",
                    "country": "DE",
                }
            )
    rng.shuffle(searches)
    half = len(searches) // 2
    _write(root / "logs" / "a-searches.jsonl", searches[:half])
    _write(root / "logs" / "b-searches.jsonl", searches[half:])
    _write(root / "logs" / "z-authorisations.jsonl", auths)
    wa = [
        {
            "time": _ts(BASE - timedelta(days=900, hours=rng.randrange(0, 2000))),
            "principal": "pd-analyst",
            "service": "rekognition",
            "operation": "SearchFacesByImage",
            "event_id": f"w{i:04d}",
            "country": "US",
            "region": "US-WA",
        }
        for i in range(undecided)
    ]
    _write(root / "logs" / "c-undecided.jsonl", wa)
    va = [
        {
            "time": _ts(datetime(2026, 9, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(0, 900))),
            "principal": "pd-analyst",
            "service": "rekognition",
            "operation": "SearchFacesByImage",
            "event_id": f"v{i:04d}",
            "purpose": "missing_person",
            "country": "US",
            "region": "US-VA",
        }
        for i in range(prohibited)
    ]
    _write(root / "logs" / "d-prohibited.jsonl", va)
    return root


def audit(
    bundle: Path, out: Path, db: Path, monkeypatch: pytest.MonkeyPatch, batch: int | None
) -> tuple[int, dict[str, Path]]:
    if batch is None:
        monkeypatch.delenv("AUDITOR_SPILL_BATCH", raising=False)
    else:
        monkeypatch.setenv("AUDITOR_SPILL_BATCH", str(batch))
    out.mkdir(parents=True, exist_ok=True)
    result = CliRunner().invoke(
        app,
        [
            "audit",
            str(bundle),
            "--no-frames",
            "--db",
            f"sqlite:///{db}",
            "--policy",
            "eu-ai-act-art5",
            "--policy",
            "us-wa-rcw-43-386",
            "--policy",
            "us-va-frt-2021",
            "--output-dir",
            str(out),
            "--format",
            "json",
            "--format",
            "sarif",
            "--format",
            "csv",
            "--format",
            "junit",
            "--format",
            "html",
        ],
        catch_exceptions=False,
    )
    return result.exit_code, {p.suffix: p for p in out.iterdir()}


def _without_run(path: Path) -> str:
    """The JSON report's text with its `run` block (ids, clock, spill counts) blanked."""
    report = json.loads(path.read_text())
    text = path.read_text()
    start = text.index('\n  "run": {')
    end = text.index("\n  },", start) + len("\n  },")
    assert json.loads(text[start:end].split(":", 1)[1].rstrip(",")) == report["run"]
    return text[:start] + text[end:]


def test_spilled_report_is_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = make_bundle(tmp_path / "bundle")
    code1, plain = audit(bundle, tmp_path / "plain", tmp_path / "db1.sqlite", monkeypatch, None)
    code2, spilled = audit(bundle, tmp_path / "spilled", tmp_path / "db2.sqlite", monkeypatch, 3)
    assert code1 == code2 == 1
    one, two = json.loads(plain[".json"].read_text()), json.loads(spilled[".json"].read_text())
    assert one["run"]["spilled"] == {"findings_runs": 0, "waiting_files": 0}
    assert two["run"]["spilled"]["findings_runs"] >= 10  # really went through disk
    assert two["run"]["spilled"]["waiting_files"] >= 10
    assert _without_run(plain[".json"]) == _without_run(spilled[".json"])
    assert plain[".csv"].read_bytes() == spilled[".csv"].read_bytes()
    for suffix in (".sarif", ".xml", ".html"):
        texts = []
        for files, report in ((plain, one), (spilled, two)):
            text = files[suffix].read_text()
            for value in (report["run"]["id"], report["run"]["started"], report["run"]["finished"]):
                text = text.replace(value, "RUN")
            texts.append(text.replace(_uuid(report["run"]["id"]), "RUN"))
        if suffix == ".html":  # the run line shows the spill counts; the JSON's digest and
            # the footer's CSP hash follow the run block
            texts = [t.split('<p class="run" id="run">')[0] + t.split("</p>", 1)[-1] for t in texts]
            texts = [re.sub(r"'sha256-[A-Za-z0-9+/=]+'", "", t) for t in texts]
            texts = [re.sub(r'data-volatile="json-sha256">[0-9a-f]{64}<', "", t) for t in texts]
        assert texts[0] == texts[1], suffix


def _uuid(hex_id: str) -> str:
    import uuid

    return str(uuid.UUID(hex=hex_id))


def test_order_undecided_and_late_authorisations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = make_bundle(tmp_path / "bundle")
    code, files = audit(bundle, tmp_path / "out", tmp_path / "db.sqlite", monkeypatch, 4)
    assert code == 1
    report = json.loads(files[".json"].read_text())
    findings = report["findings"]
    keys = [
        (
            f["events"][0]["time"],
            f["events"][0]["file"],
            f["events"][0]["record"] or -1,
            f["events"][0]["line"] or -1,
            f["pack"],
            f["rule"],
        )
        for f in findings
    ]
    assert keys == sorted(keys)
    # authorisations logged 3 h after the use, in a later file, clear exactly the even cases
    auth = [
        f for f in findings if f["rule"] == "EU-AIA-5-3-001" and "authorisation" in f["message"]
    ]
    cases = sorted(int(f["events"][0]["event_id"][1:]) for f in auth)
    assert cases == list(range(1, 60, 2))
    assert sum(1 for f in findings if f["rule"] == "VA-2026-001") == 25
    # undecided: one group with its count and the five earliest events as the sample
    wa = [u for u in report["undecided"] if u["rule"] == "WA-386-001"]
    assert len(wa) == 1 and wa[0]["count"] == 30 and wa[0]["missing"] == ["modality"]
    times = sorted(
        json.loads(line)["time"]
        for line in (bundle / "logs" / "c-undecided.jsonl").read_text().splitlines()
    )
    assert [e["time"] for e in wa[0]["sample"]] == times[:5]
    assert report["summary"]["cannot_decide"] == sum(u["count"] for u in report["undecided"])
    html = files[".html"].read_text()
    assert "WA-386-001" in html and "and 25 more" in html


def test_store_receives_every_finding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = make_bundle(tmp_path / "bundle")
    db = tmp_path / "db.sqlite"
    code, files = audit(bundle, tmp_path / "out", db, monkeypatch, 3)
    assert code == 1
    report = json.loads(files[".json"].read_text())
    store = Store(f"sqlite:///{db}")
    assert list(store.iter_findings(report["run"]["id"])) == report["findings"]
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT count(*), count(DISTINCT fingerprint) FROM findings WHERE run_id = ?",
            (report["run"]["id"],),
        ).fetchone()
        status = conn.execute("SELECT status, findings FROM runs").fetchone()
    assert rows == (len(report["findings"]), len({f["id"] for f in report["findings"]}))
    assert status == ("complete", len(report["findings"]))
    # re-rendering the stored run streams its findings back: the same JSON outside `run`
    again = tmp_path / "again.json"
    result = CliRunner().invoke(
        app,
        [
            "report",
            report["run"]["id"][:12],
            "--db",
            f"sqlite:///{db}",
            "--format",
            "json",
            "--output",
            str(again),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert again.read_text() == files[".json"].read_text()


def test_sorted_spool_equals_one_stable_sort_with_cascades(tmp_path: Path) -> None:
    """Batches of 2 (250 runs, so the 64-run cascade happens): same order as `sorted`."""
    from auditor.run import spool

    rng = random.Random(5)
    items = [(rng.randrange(40), i) for i in range(500)]  # many equal keys: stability counts
    scratch = spool.Scratch()
    try:
        sorter: spool.SortedSpool[tuple[int, int]] = spool.SortedSpool(
            scratch, "t", key=lambda item: item[0], batch=2
        )
        for item in items:
            sorter.add(item)
        assert sorter.merged >= 3 and len(sorter.runs) < spool.MAX_RUNS
        assert list(sorter) == sorted(items, key=lambda item: item[0])
        assert list(sorter) == list(sorter)  # re-iterable: every reporter takes a pass
        fifo: spool.Spill[int] = spool.Spill(scratch, "f", batch=7)
        for i in range(100):
            fifo.add(i)
        assert list(fifo) == list(range(100)) and len(fifo.files) == 14
    finally:
        scratch.close()
    assert not scratch.path.exists()


def test_html_and_table_cap_the_detail_and_say_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With small caps, both human formats list the first findings and count the rest."""
    from auditor.report import html, table

    monkeypatch.setattr(html, "MAX_DETAILED", 10)
    monkeypatch.setattr(table, "MAX_ROWS", 4)
    bundle = make_bundle(tmp_path / "bundle")
    code, files = audit(bundle, tmp_path / "out", tmp_path / "db.sqlite", monkeypatch, 3)
    assert code == 1
    total = len(json.loads(files[".json"].read_text())["findings"])
    page = files[".html"].read_text()
    assert f"{total - 10} more findings, see the JSON report" in page
    # one card per event, its rules grouped: the first 10 findings' distinct events
    first = json.loads(files[".json"].read_text())["findings"][:10]
    events = {(e["file"], e["record"], e["line"]) for f in first for e in f["events"][:1]}
    assert page.count('<article class="event"') == len(events)
    result = CliRunner().invoke(
        app,
        ["audit", str(bundle), "--no-frames", "--no-store", "--policy", "us-va-frt-2021"],
        catch_exceptions=False,
    )
    assert "VA-2026-001" in result.stdout
    assert "... 21 more finding(s), see the JSON report" in result.stdout  # 25 - 4
