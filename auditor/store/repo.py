"""Open a database by URL and save or load runs and cached faces.

SQLite gets WAL mode and a busy timeout (pragmas are the only SQLite-specific code); any other
SQLAlchemy URL (PostgreSQL) works unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, SQLModel, col, create_engine, delete, select

from auditor.errors import StoreError
from auditor.store.tables import FaceCacheRow, RunRow

if TYPE_CHECKING:
    from auditor.store.runwriter import RunWriter

DEFAULT_URL = "sqlite:///.auditor/audit.db"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class Store:
    """Runs, inputs, findings and the face cache in one database."""

    def __init__(self, url: str = DEFAULT_URL) -> None:
        self.url = url
        try:
            if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
                Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(url)
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "connect", _sqlite_pragmas)
            SQLModel.metadata.create_all(self.engine)
        except (SQLAlchemyError, OSError, ValueError) as exc:
            raise StoreError(f"cannot open database {url}: {exc}") from None

    # -- runs -------------------------------------------------------------------------------

    def save_run(self, report: dict[str, Any], bundle: str, exit_code: int) -> None:
        """Record a finished run with its inputs and findings (streamed: see `open_run`)."""
        from auditor.store.runwriter import save_report

        save_report(self, report, bundle, exit_code)

    def open_run(self, run_id: str, bundle: str, started: datetime,
                 tool_version: str) -> RunWriter:
        """A writer that records one run piece by piece (`auditor.store.runwriter`)."""
        from auditor.store.runwriter import RunWriter

        return RunWriter(self, run_id, bundle, started, tool_version)

    def iter_findings(self, run_id: str) -> Iterator[dict[str, Any]]:
        """The findings of a run (full id) in report order, read page by page."""
        from auditor.store.runwriter import iter_findings

        return iter_findings(self, run_id)

    def load_report(self, run_id: str) -> dict[str, Any] | None:
        """The stored JSON report of a run (a unique prefix of the id is enough); its
        `findings` are read lazily from the store."""
        from auditor.store.runwriter import load_report

        return load_report(self, run_id)

    def runs(self, limit: int = 50) -> list[RunRow]:
        """The most recent runs first."""
        with Session(self.engine) as s:
            stmt = select(RunRow).order_by(col(RunRow.started).desc()).limit(limit)
            return list(s.exec(stmt))

    def report(self, run_id: str) -> dict[str, Any] | None:
        """Same as `load_report`."""
        return self.load_report(run_id)

    # -- face cache -------------------------------------------------------------------------

    def cached_faces(self, keys: Iterable[str], fingerprint: str) -> dict[str, FaceCacheRow]:
        """Cache rows for the given frame hashes under `fingerprint`."""
        wanted = sorted(set(keys))
        out: dict[str, FaceCacheRow] = {}
        with Session(self.engine) as s:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                stmt = select(FaceCacheRow).where(col(FaceCacheRow.sha256).in_(chunk),
                                                  FaceCacheRow.fingerprint == fingerprint)
                out.update((row.sha256, row) for row in s.exec(stmt))
        return out

    def cache_faces(self, rows: Sequence[FaceCacheRow]) -> None:
        """Insert or replace cache rows."""
        if not rows:
            return
        with Session(self.engine) as s:
            for row in rows:
                s.merge(row)
            s.commit()

    def purge_faces(self) -> int:
        """Delete every cached face; returns how many frames were dropped."""
        with Session(self.engine) as s:
            count = len(list(s.exec(select(FaceCacheRow.sha256))))
            s.exec(delete(FaceCacheRow))  # type: ignore[call-overload]
            s.commit()
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as conn:
                conn.exec_driver_sql("VACUUM")
        return count


def new_cache_row(sha256: str, fingerprint: str, width: int, height: int,
                  boxes: list[list[int]], descriptors: bytes) -> FaceCacheRow:
    """Build a cache row (keeps sqlmodel out of the callers)."""
    return FaceCacheRow(sha256=sha256, fingerprint=fingerprint, width=width, height=height,
                        boxes=json.dumps(boxes), descriptors=descriptors,
                        created=datetime.now(UTC))

