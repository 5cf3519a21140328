"""Database tables (sqlmodel). The only module besides the rest of `auditor.store` that knows SQL.

SQL stays portable (SQLite by default, PostgreSQL through `--db`): no SQLite-only column types,
JSON kept as text, descriptors as bytes. The schema is created and changed by the Alembic
revisions in `auditor/store/migrations/versions/`, never by `create_all`: a change here needs a
new revision (tests/store compares the two).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel


class RunRow(SQLModel, table=True):
    """One audit run.

    `report` holds the report without its findings (the "head"); the findings live in
    `findings.body`, one row each, so a huge run is never one giant string. `status` is
    `running` while a writer is open, `failed` when it was left by an error, and the report's own
    `complete`/`incomplete` once finished. `finished` equals `started` until the run finishes.
    """

    __tablename__ = "runs"

    id: str = Field(primary_key=True)
    started: datetime
    finished: datetime
    status: str
    bundle: str
    exit_code: int
    tool_version: str
    findings: int = 0
    errors: int = 0
    report: str = ""


class InputRow(SQLModel, table=True):
    """One input file of a run, with its hash and counts."""

    __tablename__ = "inputs"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(index=True, foreign_key="runs.id")
    path: str
    kind: str
    sha256: str
    records: int = 0
    errors: int = 0


class FindingRow(SQLModel, table=True):
    """One finding of a run: its full JSON (`body`) plus columns for queries across runs.

    `seq` is the finding's place in the report, so reports re-render in the same order. The
    queryable columns come from the finding and its first event.
    """

    __tablename__ = "findings"
    __table_args__ = (Index("ix_findings_run_seq", "run_id", "seq", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="runs.id")
    seq: int
    fingerprint: str = Field(index=True)
    pack: str
    rule: str
    severity: str
    time: str | None = None
    organisation: str | None = None
    category: str | None = None
    operation: str | None = None
    kind: str | None = None
    outcome: str | None = None
    file: str | None = None
    record: int | None = None
    line: int | None = None
    event_id: str | None = None
    body: str = Field(sa_column=Column(Text, nullable=False))


class FaceCacheRow(SQLModel, table=True):
    """Faces found in one frame under one model/parameter fingerprint.

    Descriptors live here and nowhere else (never in reports); `auditor cache purge` empties it.
    """

    __tablename__ = "face_cache"

    sha256: str = Field(primary_key=True)
    fingerprint: str = Field(primary_key=True)
    width: int
    height: int
    boxes: str  # JSON list of [top, right, bottom, left]
    descriptors: bytes  # float64, 128 per face, in box order
    created: datetime
