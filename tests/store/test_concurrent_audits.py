"""Several real `auditor audit` processes write to one store at the same moment, on SQLite (one
fresh file that does not exist yet) and on PostgreSQL (an empty database), so they also race to
create the schema, and share the face cache: every audit succeeds, and every run, finding and
cached frame is there afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from auditor.store import Store
from auditor.store.engine import normalise_url

AUDITOR = Path(sys.executable).parent / "auditor"
PROCESSES = 4


@pytest.mark.slow
def test_concurrent_audits_share_one_store(
    store_url: str, demo_bundle: Path, tmp_path: Path
) -> None:
    url = store_url
    if url.startswith("sqlite:///"):
        assert not Path(url.removeprefix("sqlite:///")).exists()  # a fresh store
    procs = []
    for i in range(PROCESSES):
        out = tmp_path / f"report-{i}.json"
        args = [
            str(AUDITOR),
            "audit",
            str(demo_bundle),
            "--workers",
            "1",
            "-f",
            "json",
            "-o",
            str(out),
        ]
        env = {**os.environ}
        if i % 2:
            env["AUDITOR_DB"] = url  # half through the environment, half through --db
        else:
            args += ["--db", url]
        procs.append(
            (
                out,
                subprocess.Popen(
                    args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
                ),
            )
        )
    reports = []
    for out, proc in procs:
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 1, stderr  # 1: the demo's findings, nothing failed
        reports.append(json.loads(out.read_text()))

    with Store(url) as store:
        runs = {r.id: r for r in store.runs()}
        assert set(runs) == {r["run"]["id"] for r in reports}
        for report in reports:
            row = runs[report["run"]["id"]]
            assert (row.status, row.exit_code, row.findings) == (
                "complete",
                1,
                len(report["findings"]),
            )
            assert store.load_report(row.id).document() == report
    frames = {i["sha256"] for r in reports for i in r["inputs"] if i["kind"] == "frame"}
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        findings = conn.execute(text("SELECT count(*) FROM findings")).scalar()
        cached = {r[0] for r in conn.execute(text("SELECT sha256 FROM face_cache"))}
        versions = conn.execute(text("SELECT count(*) FROM alembic_version")).scalar()
    engine.dispose()
    assert all(r["findings"] for r in reports)
    assert findings == sum(len(r["findings"]) for r in reports)
    assert frames and frames <= cached
    assert versions == 1
