"""Open a database by URL and save or load runs and cached faces.

SQLite gets WAL mode and a busy timeout (pragmas are the only SQLite-specific code); any other
SQLAlchemy URL (PostgreSQL) works unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, SQLModel, col, create_engine, delete, select

from auditor.errors import StoreError
from auditor.store.tables import FaceCacheRow, FindingRow, InputRow, RunRow

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
        """Record a finished run with its inputs and findings."""
        run = report["run"]
        try:
            with Session(self.engine) as s:
                s.add(RunRow(
                    id=run["id"], started=_dt(run["started"]), finished=_dt(run["finished"]),
                    status=run["status"], bundle=bundle, exit_code=exit_code,
                    tool_version=report["tool"]["version"], findings=len(report["findings"]),
                    errors=len(report["errors"]), report=json.dumps(report, sort_keys=True),
                ))
                s.flush()
                s.add_all(InputRow(run_id=run["id"], path=i["path"], kind=i["kind"],
                                   sha256=i["sha256"], records=i.get("records") or 0,
                                   errors=i.get("errors") or 0) for i in report["inputs"])
                for f in report["findings"]:
                    ev = f["events"][0]
                    s.add(FindingRow(
                        run_id=run["id"], fingerprint=f["id"], pack=f["pack"], rule=f["rule"],
                        severity=f["severity"], time=ev["time"], organisation=ev["organisation"],
                        category=ev["category"], operation=ev["operation"], kind=ev["kind"],
                        outcome=ev["outcome"], file=ev["file"], record=ev["record"],
                        line=ev["line"], event_id=ev["event_id"]))
                s.commit()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot save run to {self.url}: {exc}") from None

    def runs(self, limit: int = 50) -> list[RunRow]:
        """The most recent runs first."""
        with Session(self.engine) as s:
            stmt = select(RunRow).order_by(col(RunRow.started).desc()).limit(limit)
            return list(s.exec(stmt))

    def report(self, run_id: str) -> dict[str, Any] | None:
        """The stored JSON report of a run (a unique prefix of the id is enough)."""
        with Session(self.engine) as s:
            rows = list(s.exec(select(RunRow).where(col(RunRow.id).startswith(run_id)).limit(2)))
            if len(rows) != 1:
                return None
            data: dict[str, Any] = json.loads(rows[0].report)
            return data

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


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
