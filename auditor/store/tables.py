"""Database tables (sqlmodel). The only module besides `store.repo` that knows about SQL.

SQL stays portable (SQLite by default, PostgreSQL through `--db`): no SQLite-only column types,
JSON kept as text, descriptors as bytes.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class RunRow(SQLModel, table=True):
    """One audit run. `report` holds the whole JSON report so any run can be re-rendered."""

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
    """One finding of a run, flattened for queries across runs."""

    __tablename__ = "findings"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(index=True, foreign_key="runs.id")
    fingerprint: str = Field(index=True)
    pack: str
    rule: str
    severity: str
    time: str
    organisation: str
    category: str
    operation: str
    kind: str
    outcome: str
    file: str
    record: int | None = None
    line: int | None = None
    event_id: str | None = None


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


class FindingDocRow(SQLModel, table=True):
    """One finding of a run as its full `findings[]` JSON, in report order (`seq` from 0).

    Runs recorded by the streaming writer keep their findings here and only the rest of the
    report (the head) in `runs.report`, so neither writing nor re-rendering a run holds all its
    findings at once.
    """

    __tablename__ = "finding_docs"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(index=True, foreign_key="runs.id")
    seq: int = Field(index=True)
    data: str
