"""The store: runs (written as a stream, read back as a stream) and the face cache.

Opening a store upgrades its schema (see `migrate`); SQL is portable between SQLite and
PostgreSQL (see `engine` for the only SQLite-specific code).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col

from auditor.core import procs
from auditor.core.errors import StoreError
from auditor.core.report import ReportShapeError
from auditor.core.reportdoc import TypedReport
from auditor.store.engine import (
    autocommit,
    describe,
    interruption,
    open_engine,
    safe_url,
    writing,
)
from auditor.store.migrate import upgrade
from auditor.store.tables import FaceCacheRow, RunRow
from auditor.store.writer import (
    BATCH,
    FINISHED,
    RUNNING,
    RunWriter,
    as_utc,
    table,
)

DEFAULT_URL = "sqlite:///.auditor/audit.db"
_CACHE_CHUNK = 500


class Store:
    """Runs, inputs, findings and the face cache in one database (SQLite or PostgreSQL)."""

    def __init__(self, url: str = DEFAULT_URL) -> None:
        self.url = safe_url(url)
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            try:
                Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot open database {self.url}: {describe(exc)}") from None
        self.engine = open_engine(url)
        try:
            upgrade(self.engine)
        except SQLAlchemyError as exc:
            if (stop := interruption(exc)) is not None:
                raise stop from None
            self.engine.dispose()
            raise StoreError(f"cannot open database {self.url}: {describe(exc)}") from None
        except StoreError:
            self.engine.dispose()
            raise

    def close(self) -> None:
        """Close the store's connections (a finished CLI process closes them anyway)."""
        self.engine.dispose()

    @contextmanager
    def _reading(self, what: str) -> Iterator[None]:
        """Any database failure while reading (a corrupted file, a dropped connection, a row
        that does not decode) becomes one StoreError naming the store, without SQL or data."""
        try:
            yield
        except (SQLAlchemyError, sqlite3.Error, ValueError) as exc:
            if (stop := interruption(exc)) is not None:
                raise stop from None
            raise StoreError(f"{self.url}: cannot read {what}: {describe(exc)}") from None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- writing runs -----------------------------------------------------------------------

    @contextmanager
    def open_run(
        self, run_id: str, bundle: str, started: datetime, tool_version: str
    ) -> Iterator[RunWriter]:
        """Write a run as it is produced: add inputs and findings, then `finish`.

        The run is listed as `running` from the start. An exception inside the block, or leaving
        it without `finish`, marks the run `failed` (never finished; see `writer`).
        """
        when = as_utc(started)
        row = {
            "id": run_id,
            "started": when,
            "finished": when,
            "status": RUNNING,
            "bundle": bundle,
            "exit_code": -1,
            "tool_version": tool_version,
            "findings": 0,
            "errors": 0,
            # until `finish` writes the report head: who is writing, so `prune_stale` can tell
            # a run whose process was killed from one still being written
            "report": json.dumps({"writer": procs.identity()}),
        }
        try:
            with writing(self.engine) as conn:
                conn.execute(insert(table("runs")), row)
        except SQLAlchemyError as exc:
            if (stop := interruption(exc)) is not None:
                raise stop from None
            raise StoreError(f"cannot start run {run_id} in {self.url}: {describe(exc)}") from None
        writer = RunWriter(self.engine, run_id)
        try:
            yield writer
        except BaseException:
            writer.fail()
            raise
        if not writer.finished:
            writer.fail()
            raise StoreError(f"run {run_id} was closed without finish(): marked failed")

    def save_run(
        self, report: TypedReport | Mapping[str, Any], bundle: str, exit_code: int
    ) -> None:
        """Record a finished run from a whole report (a thin wrapper over `open_run`); a report
        dict is read through the typed model first, so nothing that does not fit is stored."""
        typed = _typed(report, "cannot store the report")
        head = typed.head
        with self.open_run(head.run.id, bundle, as_utc(head.run.started), head.tool.version) as w:
            w.add_inputs(head.inputs)
            w.add_findings(typed.findings)
            w.finish(head, exit_code)

    def prune_stale(self) -> tuple[list[str], list[str]]:
        """Mark `failed` the runs left `running` by a process of this host that is gone (killed
        by SIGKILL, a power cut). Returns (ids marked failed, ids that cannot be checked here:
        written on another host, or by a version that did not record its writer)."""
        runs = table("runs")
        with self._reading("the runs"), Session(self.engine) as s:
            rows = list(s.execute(select(runs.c.id, runs.c.report).where(runs.c.status == RUNNING)))
        pruned: list[str] = []
        unknown: list[str] = []
        here = procs.identity()["host"]
        for run_id, report in rows:
            writer = _writer(report)
            if writer is None or writer.get("host") != here:
                unknown.append(run_id)
                continue
            pid, start = writer.get("pid"), writer.get("start")
            if not isinstance(pid, int) or procs.alive(
                pid, start if isinstance(start, int) else None
            ):
                continue
            RunWriter(self.engine, run_id).fail()
            pruned.append(run_id)
        return pruned, unknown

    # -- reading runs -----------------------------------------------------------------------

    def runs(self, limit: int = 50) -> list[RunRow]:
        """The most recent runs first (running and failed ones included)."""
        with self._reading("the runs"), Session(self.engine) as s:
            stmt = select(RunRow).order_by(col(RunRow.started).desc()).limit(limit)
            rows = list(s.scalars(stmt))
        for row in rows:
            if not _sound(row):
                raise StoreError(
                    f"{self.url}: cannot read the runs: a row is damaged (the database file may "
                    "be corrupted)"
                )
        return rows

    def find_run(self, prefix: str) -> RunRow | None:
        """The one run whose id starts with `prefix` (None when none or several do)."""
        runs = table("runs")
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with self._reading("the runs"), Session(self.engine) as s:
            stmt = select(RunRow).where(runs.c.id.like(pattern, escape="\\")).limit(2)
            rows = list(s.scalars(stmt))
        return rows[0] if len(rows) == 1 else None

    def iter_findings(self, run_id: str) -> Iterator[dict[str, Any]]:
        """The run's finding dicts in report order, streamed from the database in batches."""
        findings = table("findings")
        stmt = select(findings.c.body).where(findings.c.run_id == run_id).order_by(findings.c.seq)
        with self._reading(f"the findings of run {run_id}"), self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(stmt)
            for (body,) in result:
                yield json.loads(body)

    def load_report(self, run_id: str) -> TypedReport:
        """The report of a finished run, rebuilt from its head (validated against the typed
        model) and its findings (a sized, re-iterable stream read from the database on each
        pass, each finding validated as it is read)."""
        with self._reading(f"run {run_id}"), Session(self.engine) as s:
            row = s.get(RunRow, run_id)
        if row is None:
            raise StoreError(f"no run {run_id} in {self.url}")
        if row.status not in FINISHED:
            raise StoreError(f"run {run_id} did not finish (status {row.status}): no report")
        with self._reading(f"run {run_id}"):
            report: dict[str, Any] = json.loads(row.report)
        # read lazily, page by page, each time a renderer iterates: never all in memory
        from auditor.core.jsonstream import Lazy

        report["findings"] = Lazy(lambda: self.iter_findings(run_id), row.findings)
        return _typed(report, f"{self.url}: run {run_id} does not fit the report model")

    def report(self, run_id: str) -> TypedReport | None:
        """The report of the run a unique id prefix names (None when none or several match)."""
        row = self.find_run(run_id)
        return None if row is None else self.load_report(row.id)

    # -- face cache -------------------------------------------------------------------------

    def cached_faces(self, keys: Iterable[str], fingerprint: str) -> dict[str, FaceCacheRow]:
        """Cache rows for the given frame hashes under `fingerprint`."""
        wanted = sorted(set(keys))
        out: dict[str, FaceCacheRow] = {}
        with self._reading("the face cache"), Session(self.engine) as s:
            for start in range(0, len(wanted), _CACHE_CHUNK):
                chunk = wanted[start : start + _CACHE_CHUNK]
                stmt = select(FaceCacheRow).where(
                    col(FaceCacheRow.sha256).in_(chunk),
                    col(FaceCacheRow.fingerprint) == fingerprint,
                )
                out.update((row.sha256, row) for row in s.scalars(stmt))
        return out

    def cache_faces(self, rows: Sequence[FaceCacheRow]) -> None:
        """Add cache rows; a frame another audit cached meanwhile is left as it is.

        The same frame under the same fingerprint always gives the same faces, so a conflict
        is settled by keeping the row already there (INSERT ... ON CONFLICT DO NOTHING). Rows go
        in key order, so concurrent writers lock keys in the same order and cannot deadlock.
        """
        if not rows:
            return
        ordered = sorted(rows, key=lambda r: (r.sha256, r.fingerprint))
        stmt = self._insert_ignore_faces()
        try:
            for start in range(0, len(ordered), _CACHE_CHUNK):
                chunk = [_cache_values(r) for r in ordered[start : start + _CACHE_CHUNK]]
                with writing(self.engine) as conn:
                    conn.execute(stmt, chunk)
        except SQLAlchemyError as exc:
            if (stop := interruption(exc)) is not None:
                raise stop from None
            raise StoreError(
                f"cannot write the face cache to {self.url}: {describe(exc)}"
            ) from None

    def purge_faces(self) -> int:
        """Delete every cached face; returns how many frames were dropped."""
        with self._reading("the face cache"), writing(self.engine) as conn:
            count = conn.execute(select(func.count()).select_from(table("face_cache"))).scalar()
            conn.execute(delete(table("face_cache")))
        if self.engine.dialect.name == "sqlite":
            with self._reading("the face cache"), autocommit(self.engine) as conn:
                conn.exec_driver_sql("VACUUM")  # deleted descriptors must not linger in free pages
        return int(count or 0)

    def _insert_ignore_faces(self) -> Any:
        # Both dialects render the same SQL: INSERT ... ON CONFLICT (sha256, fingerprint) DO NOTHING
        from sqlalchemy.dialects import postgresql, sqlite

        keys = ["sha256", "fingerprint"]
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table("face_cache")).on_conflict_do_nothing(
                index_elements=keys
            )
        return sqlite.insert(table("face_cache")).on_conflict_do_nothing(index_elements=keys)


def _typed(report: TypedReport | Mapping[str, Any], what: str) -> TypedReport:
    try:
        return TypedReport.of(report)
    except ReportShapeError as exc:
        raise StoreError(f"{what}: {exc}") from None


def _writer(report: str | None) -> dict[str, Any] | None:
    """The `writer` a running run's row recorded, or None."""
    try:
        data = json.loads(report or "")
    except ValueError:
        return None
    writer = data.get("writer") if isinstance(data, dict) else None
    return writer if isinstance(writer, dict) else None


def _sound(row: RunRow | None) -> bool:
    """A runs row as the store writes them (a torn page can give NULLs or None rows)."""
    return (
        row is not None
        and isinstance(row.id, str)
        and isinstance(row.status, str)
        and isinstance(row.exit_code, int)
        and isinstance(row.started, datetime)
        and isinstance(row.findings, int)
        and isinstance(row.errors, int)
        and isinstance(row.bundle, str)
    )


def new_cache_row(
    sha256: str,
    fingerprint: str,
    width: int,
    height: int,
    boxes: list[list[int]],
    descriptors: bytes,
) -> FaceCacheRow:
    """Build a cache row (keeps sqlmodel out of the callers)."""
    return FaceCacheRow(
        sha256=sha256,
        fingerprint=fingerprint,
        width=width,
        height=height,
        boxes=json.dumps(boxes),
        descriptors=descriptors,
        created=as_utc(datetime.now(UTC)),
    )


def _cache_values(row: FaceCacheRow) -> dict[str, Any]:
    return {
        "sha256": row.sha256,
        "fingerprint": row.fingerprint,
        "width": row.width,
        "height": row.height,
        "boxes": row.boxes,
        "descriptors": row.descriptors,
        "created": row.created,
    }
