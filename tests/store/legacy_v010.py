"""The store as release 0.1.0 wrote it: its table definitions and its `save_run`, verbatim
(on a registry of their own, so they do not clash with today's tables). Tests build a real
old-schema database with these and let today's `Store` upgrade it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import registry
from sqlmodel import Field, Session, SQLModel, create_engine


class LegacyBase(SQLModel, registry=registry()):
    pass


class RunRow(LegacyBase, table=True):
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


class InputRow(LegacyBase, table=True):
    __tablename__ = "inputs"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(index=True, foreign_key="runs.id")
    path: str
    kind: str
    sha256: str
    records: int = 0
    errors: int = 0


class FindingRow(LegacyBase, table=True):
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


class FaceCacheRow(LegacyBase, table=True):
    __tablename__ = "face_cache"

    sha256: str = Field(primary_key=True)
    fingerprint: str = Field(primary_key=True)
    width: int
    height: int
    boxes: str
    descriptors: bytes
    created: datetime


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def create(url: str) -> None:
    """Make the tables the way release 0.1.0 did: `create_all`, no Alembic."""
    engine = create_engine(url)
    LegacyBase.metadata.create_all(engine)
    engine.dispose()


def save_run(url: str, report: dict[str, Any], bundle: str, exit_code: int) -> None:
    """Release 0.1.0's `Store.save_run`: the whole report in `runs.report`, flat findings."""
    engine = create_engine(url)
    run = report["run"]
    with Session(engine) as s:
        s.add(
            RunRow(
                id=run["id"],
                started=_dt(run["started"]),
                finished=_dt(run["finished"]),
                status=run["status"],
                bundle=bundle,
                exit_code=exit_code,
                tool_version=report["tool"]["version"],
                findings=len(report["findings"]),
                errors=len(report["errors"]),
                report=json.dumps(report, sort_keys=True),
            )
        )
        s.flush()
        s.add_all(
            InputRow(
                run_id=run["id"],
                path=i["path"],
                kind=i["kind"],
                sha256=i["sha256"],
                records=i.get("records") or 0,
                errors=i.get("errors") or 0,
            )
            for i in report["inputs"]
        )
        for f in report["findings"]:
            ev = f["events"][0]
            s.add(
                FindingRow(
                    run_id=run["id"],
                    fingerprint=f["id"],
                    pack=f["pack"],
                    rule=f["rule"],
                    severity=f["severity"],
                    time=ev["time"],
                    organisation=ev["organisation"],
                    category=ev["category"],
                    operation=ev["operation"],
                    kind=ev["kind"],
                    outcome=ev["outcome"],
                    file=ev["file"],
                    record=ev["record"],
                    line=ev["line"],
                    event_id=ev["event_id"],
                )
            )
        s.commit()
    engine.dispose()


def cache_face(url: str, row: dict[str, Any]) -> None:
    """Release 0.1.0's `Store.cache_faces` for one row (a merge)."""
    engine = create_engine(url)
    with Session(engine) as s:
        s.merge(FaceCacheRow(**row))
        s.commit()
    engine.dispose()
