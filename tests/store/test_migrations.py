"""Alembic migrations on SQLite and PostgreSQL: a new store, a store made by release 0.1.0
(created here from that release's own table definitions), and stores this version must refuse."""

from __future__ import annotations

import copy
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import legacy_v010 as legacy
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

from auditor.core.errors import StoreError
from auditor.run.audit import run_audit
from auditor.run.options import AuditOptions
from auditor.store import Store, migrate, new_cache_row
from auditor.store.engine import normalise_url

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo"


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A real report of the demo bundle without frames (frames are not what changes here)."""
    bundle = tmp_path_factory.mktemp("demo") / "demo"
    shutil.copytree(DEMO, bundle)
    report = run_audit(bundle, AuditOptions(workers=1, frames="none")).report
    return {**report, "findings": list(report["findings"])}  # streamed: held here as a list


def schema_diff(url: str) -> list[Any]:
    """What differs between the database and today's table definitions (empty: nothing)."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), SQLModel.metadata))
    finally:
        engine.dispose()


def revision(url: str) -> str | None:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return migrate.current_revision(conn)
    finally:
        engine.dispose()


def test_head_constant_is_the_newest_revision() -> None:
    assert ScriptDirectory(str(migrate.MIGRATIONS)).get_current_head() == migrate.HEAD


def test_new_store_is_at_head_and_matches_the_models(store_url: str) -> None:
    Store(store_url).close()
    assert revision(store_url) == migrate.HEAD
    assert schema_diff(store_url) == []
    Store(store_url).close()  # opening again changes nothing
    assert revision(store_url) == migrate.HEAD


def test_release_0_1_0_store_upgrades(store_url: str, demo_report: dict[str, Any]) -> None:
    """Runs and cached faces written by release 0.1.0 read back unchanged after the upgrade."""
    url = normalise_url(store_url)
    legacy.create(url)
    second = copy.deepcopy(demo_report)
    second["run"]["id"] = "second-run"
    second["findings"] = second["findings"][::-1]  # order must come from the report
    legacy.save_run(url, demo_report, "/bundles/one", 1)
    legacy.save_run(url, second, "/bundles/two", 1)
    descriptors = bytes(range(256)) * 4
    legacy.cache_face(
        url,
        {
            "sha256": "ab" * 32,
            "fingerprint": "fp",
            "width": 640,
            "height": 480,
            "boxes": "[[1, 2, 3, 4]]",
            "descriptors": descriptors,
            "created": datetime(2025, 1, 1, tzinfo=UTC),
        },
    )
    engine = create_engine(url)
    assert not inspect(engine).has_table("alembic_version")
    engine.dispose()
    assert schema_diff(store_url) != []  # the old schema really is different

    with Store(store_url) as store:
        assert revision(store_url) == migrate.HEAD
        assert store.load_report(demo_report["run"]["id"]).document() == demo_report
        assert store.load_report("second-run").document() == second
        assert [r.id for r in store.runs()] != [] and len(store.runs()) == 2
        row = store.cached_faces(["ab" * 32], "fp")["ab" * 32]
        assert row.descriptors == descriptors and json.loads(row.boxes) == [[1, 2, 3, 4]]
        third = copy.deepcopy(demo_report)
        third["run"]["id"] = "third-run"
        store.save_run(third, "/bundles/three", 0)
        assert store.load_report("third-run").document() == third
    assert schema_diff(store_url) == []
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT seq, fingerprint, rule FROM findings"
                " WHERE run_id = 'second-run' ORDER BY seq"
            )
        ).all()
        head = conn.execute(text("SELECT report FROM runs WHERE id = 'second-run'")).scalar()
    engine.dispose()
    assert [tuple(r) for r in stored] == [
        (i, f["id"], f["rule"]) for i, f in enumerate(second["findings"])
    ]
    assert "findings" not in json.loads(head)  # the head only, no second copy of the findings


def test_a_newer_store_is_refused(store_url: str) -> None:
    Store(store_url).close()
    engine = create_engine(normalise_url(store_url))
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="revision 9999, newer than this auditor"):
        Store(store_url)


def test_a_database_with_some_other_tables_is_refused(store_url: str) -> None:
    engine = create_engine(normalise_url(store_url))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE runs (id VARCHAR PRIMARY KEY)"))
    engine.dispose()
    with pytest.raises(StoreError, match=r"some of the store's tables \(runs\).*not an auditor"):
        Store(store_url)


def test_an_empty_legacy_store_upgrades(store_url: str) -> None:
    legacy.create(normalise_url(store_url))
    with Store(store_url) as store:
        store.cache_faces([new_cache_row("cd" * 32, "fp", 1, 2, [], b"")])
        assert set(store.cached_faces(["cd" * 32], "fp")) == {"cd" * 32}
        assert store.runs() == []


def test_many_auditors_opening_a_new_store_at_once_all_succeed(store_url: str) -> None:
    """Six stores race to create the schema of one empty database; each one opens."""
    import threading

    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def open_store() -> None:
        try:
            start.wait()
            Store(store_url).close()
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    assert revision(store_url) == migrate.HEAD and schema_diff(store_url) == []


OPEN_ON_GO = """
import sys
from auditor.store import Store
sys.stdin.readline()
Store(sys.argv[1]).close()
"""


def test_many_processes_opening_a_new_store_at_once_all_succeed(store_url: str) -> None:
    """Six processes, released together, race to create the schema: each one opens."""
    import subprocess
    import sys

    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_ON_GO, store_url],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    for proc in procs:  # all have imported auditor.store and wait on stdin
        assert proc.stdin is not None
    for proc in procs:
        proc.stdin.write("go\n")  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
    failures = []
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        if proc.returncode != 0:
            failures.append(err[-500:])
    assert failures == []
    assert revision(store_url) == migrate.HEAD and schema_diff(store_url) == []
