"""Write one run into the store as its findings stream in (see `Store.open_run`).

The run row is committed first with status `running`; inputs and findings follow in batches of
`BATCH` rows, each batch its own short transaction, so the writer holds at most one batch in
memory and never keeps the database locked while the audit works (other audits, and this audit's
own face cache, write in between). `finish` writes the report head and the final status in one
transaction: until then no reader sees the run as finished. If the writer is abandoned (an
exception, or leaving the block without `finish`) the run is marked `failed`; the batches already
written stay, under that status, for diagnosis, and `load_report` refuses the run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import SQLModel

from auditor.core import timefmt
from auditor.core.errors import StoreError
from auditor.core.report import Finding, InputEntry, ReportHead
from auditor.store.engine import describe, interruption, safe_url, writing

#: Rows per insert batch (and the most the writer holds in memory at once).
BATCH = 1000
RUNNING, FAILED = "running", "failed"
#: Statuses of a run that finished (the report's own `run.status`).
FINISHED = ("complete", "incomplete")

_EVENT_COLUMNS = (
    "time",
    "organisation",
    "category",
    "operation",
    "kind",
    "outcome",
    "file",
    "record",
    "line",
    "event_id",
)


def table(name: str) -> Table:
    """A table of the store's schema (see `tables.py`)."""
    return SQLModel.metadata.tables[name]


def dump(data: Any) -> str:
    """Compact, key-sorted JSON: reloads to an equal dict, so reports re-render byte for byte."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def as_utc(value: datetime | str) -> datetime:
    """An aware UTC datetime from a report timestamp (naive values are taken as UTC)."""
    return timefmt.parse_time(value) if isinstance(value, str) else timefmt.as_utc(value)


def finding_row(run_id: str, seq: int, finding: Finding) -> dict[str, Any]:
    """The findings-table row of one report finding: its JSON (keys as set, so a stored run
    re-renders byte for byte) plus the queryable columns of its first event."""
    row = {
        "run_id": run_id,
        "seq": seq,
        "fingerprint": finding.id,
        "pack": finding.pack,
        "rule": finding.rule,
        "severity": finding.severity,
        "body": dump(finding.model_dump(mode="json", by_alias=True, exclude_unset=True)),
    }
    first = finding.events[0] if finding.events else None
    row.update((name, getattr(first, name, None)) for name in _EVENT_COLUMNS)
    return row


def input_row(run_id: str, item: InputEntry) -> dict[str, Any]:
    """The inputs-table row of one report input."""
    return {
        "run_id": run_id,
        "path": item.path,
        "kind": item.kind,
        "sha256": item.sha256,
        "records": item.records,
        "errors": item.errors,
    }


class RunWriter:
    """Streams one run's inputs and findings into the store; `finish` makes it visible."""

    def __init__(self, engine: Engine, run_id: str) -> None:
        self._engine = engine
        self.run_id = run_id
        self._pending: list[dict[str, Any]] = []
        #: Findings and inputs written (or pending) so far.
        self.findings = 0
        self.inputs = 0
        self.finished = False

    def add_inputs(self, inputs: Iterable[InputEntry]) -> None:
        """Record input files (the report's `inputs`), in batches."""
        self._check_open()
        batch: list[dict[str, Any]] = []
        for item in inputs:
            batch.append(input_row(self.run_id, item))
            self.inputs += 1
            if len(batch) >= BATCH:
                self._insert("inputs", batch)
                batch = []
        self._insert("inputs", batch)

    def add_findings(self, findings: Iterable[Finding]) -> None:
        """Append findings (in report order); may be called many times."""
        self._check_open()
        for finding in findings:
            self._pending.append(finding_row(self.run_id, self.findings, finding))
            self.findings += 1
            if len(self._pending) >= BATCH:
                self.flush()

    def flush(self) -> None:
        """Write the pending findings now (also done every `BATCH` findings and by `finish`)."""
        pending, self._pending = self._pending, []
        self._insert("findings", pending)

    def finish(self, head: ReportHead, exit_code: int) -> None:
        """Store the report without its findings and mark the run finished (one commit).

        The findings are the ones given to `add_findings` (a `Report`, findings and all, may
        be passed: its findings are not read, nothing is stored twice).
        """
        self._check_open()
        report_head = head.model_dump(
            mode="json", by_alias=True, exclude_unset=True, exclude={"findings"}
        )
        run = head.run
        if run.id != self.run_id:
            raise StoreError(f"finish(): the report is run {run.id}, not {self.run_id}")
        if run.status not in FINISHED:
            raise StoreError(f"finish(): run status {run.status!r} is not a finished status")
        self.flush()
        runs = table("runs")
        stmt = (
            update(runs)
            .where(runs.c.id == self.run_id, runs.c.status == RUNNING)
            .values(
                finished=as_utc(run.finished),
                status=run.status,
                exit_code=exit_code,
                findings=self.findings,
                errors=len(head.errors),
                report=json.dumps(report_head, sort_keys=True),
            )
        )
        try:
            with writing(self._engine) as conn:
                if conn.execute(stmt).rowcount != 1:
                    raise StoreError(f"run {self.run_id} is no longer running in the store")
        except SQLAlchemyError as exc:
            if (stop := interruption(exc)) is not None:
                raise stop from None
            raise StoreError(
                f"cannot finish run {self.run_id} in "
                f"{safe_url(str(self._engine.url))}: {describe(exc)}"
            ) from None
        self.finished = True

    def fail(self) -> None:
        """Mark the run failed (best effort: the error that got us here matters more)."""
        self._pending = []
        runs = table("runs")
        try:
            with writing(self._engine) as conn:
                conn.execute(
                    update(runs)
                    .where(runs.c.id == self.run_id, runs.c.status == RUNNING)
                    .values(status=FAILED)
                )
        except SQLAlchemyError:
            pass  # the database is gone: the run stays `running`, never finished

    def _check_open(self) -> None:
        if self.finished:
            raise StoreError(f"run {self.run_id} is already finished")

    def _insert(self, name: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        try:
            with writing(self._engine) as conn:
                conn.execute(insert(table(name)), rows)
        except SQLAlchemyError as exc:
            if (stop := interruption(exc)) is not None:
                raise stop from None
            raise StoreError(
                f"cannot write {name} of run {self.run_id} to "
                f"{safe_url(str(self._engine.url))}: {describe(exc)}"
            ) from None
