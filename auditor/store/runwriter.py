"""Record a run streaming: inputs and findings arrive in batches, the report head at the end.

`Store.open_run(...)` gives a `RunWriter` (a context manager): `add_inputs` and `add_findings`
may be called many times and write in batches of `BATCH` rows; `finish(head, exit_code)` stores
the report without its findings (they are in `finding_docs`, one row each, in report order) and
the run's final status. A run whose writer is left without `finish` is marked `failed`.
`iter_findings` and `load_report` read them back, the findings page by page.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from auditor.errors import StoreError
from auditor.store.tables import FindingDocRow, FindingRow, InputRow, RunRow

if TYPE_CHECKING:
    from auditor.store.repo import Store

#: Rows written per transaction, and findings read per page.
BATCH = 1000


class RunWriter:
    """Writes one run; see the module docstring."""

    def __init__(self, store: Store, run_id: str, bundle: str, started: datetime,
                 tool_version: str) -> None:
        self.store, self.run_id = store, run_id
        self.count = 0
        self.finished = False
        try:
            with Session(store.engine) as s:
                s.add(RunRow(id=run_id, started=started, finished=started, status="running",
                             bundle=bundle, exit_code=-1, tool_version=tool_version))
                s.commit()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot save run to {store.url}: {exc}") from None

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self.finished:
            self._update(status="failed")

    def _commit(self, rows: list[Any]) -> None:
        try:
            with Session(self.store.engine) as s:
                s.add_all(rows)
                s.commit()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot save run to {self.store.url}: {exc}") from None

    def add_inputs(self, inputs: Iterable[dict[str, Any]]) -> None:
        """Record input files (`inputs[]` dicts)."""
        rows: list[Any] = []
        for i in inputs:
            rows.append(InputRow(run_id=self.run_id, path=i["path"], kind=i["kind"],
                                 sha256=i["sha256"], records=i.get("records") or 0,
                                 errors=i.get("errors") or 0))
            if len(rows) >= BATCH:
                self._commit(rows)
                rows = []
        self._commit(rows)

    def add_findings(self, findings: Iterable[dict[str, Any]]) -> None:
        """Record findings (`findings[]` dicts, in report order), a batch per transaction."""
        rows: list[Any] = []
        for f in findings:
            ev = f["events"][0]
            rows.append(FindingRow(
                run_id=self.run_id, fingerprint=f["id"], pack=f["pack"], rule=f["rule"],
                severity=f["severity"], time=ev["time"], organisation=ev["organisation"],
                category=ev["category"], operation=ev["operation"], kind=ev["kind"],
                outcome=ev["outcome"], file=ev["file"], record=ev["record"], line=ev["line"],
                event_id=ev["event_id"]))
            rows.append(FindingDocRow(run_id=self.run_id, seq=self.count,
                                      data=json.dumps(f, sort_keys=True)))
            self.count += 1
            if len(rows) >= 2 * BATCH:
                self._commit(rows)
                rows = []
        self._commit(rows)

    def finish(self, head: dict[str, Any], exit_code: int) -> None:
        """Store the report without findings, the counts and the final status."""
        run = head["run"]
        body = {k: v for k, v in head.items() if k != "findings"}
        self._update(status=run["status"], finished=_dt(run["finished"]), exit_code=exit_code,
                     findings=self.count, errors=len(head.get("errors") or ()),
                     report=json.dumps(body, sort_keys=True))
        self.finished = True

    def _update(self, **values: Any) -> None:
        try:
            with Session(self.store.engine) as s:
                row = s.get(RunRow, self.run_id)
                if row is None:
                    return
                for key, value in values.items():
                    setattr(row, key, value)
                s.add(row)
                s.commit()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot save run to {self.store.url}: {exc}") from None


def iter_findings(store: Store, run_id: str) -> Iterator[dict[str, Any]]:
    """The findings of a run in report order, read page by page."""
    seq = 0
    while True:
        with Session(store.engine) as s:
            stmt = (select(FindingDocRow.data)
                    .where(FindingDocRow.run_id == run_id, col(FindingDocRow.seq) >= seq)
                    .order_by(col(FindingDocRow.seq)).limit(BATCH))
            page = list(s.exec(stmt))
        if not page:
            return
        for data in page:
            yield json.loads(data)
        seq += len(page)


def load_report(store: Store, run_id: str) -> dict[str, Any] | None:
    """A stored report (a unique prefix of the id is enough), its findings read lazily.

    Runs recorded before the streaming writer kept their findings inside the report: those are
    returned as stored.
    """
    from auditor.report.stream import Lazy

    with Session(store.engine) as s:
        rows = list(s.exec(select(RunRow).where(col(RunRow.id).startswith(run_id)).limit(2)))
    if len(rows) != 1 or not rows[0].report:
        return None
    row = rows[0]
    data: dict[str, Any] = json.loads(row.report)
    if "findings" not in data:
        full_id = row.id
        data["findings"] = Lazy(lambda: iter_findings(store, full_id), row.findings)
    return data


def save_report(store: Store, report: dict[str, Any], bundle: str, exit_code: int) -> None:
    """Record a whole report through the streaming writer (its findings may be lazy)."""
    run = report["run"]
    with store.open_run(run["id"], bundle, _dt(run["started"]),
                        report["tool"]["version"]) as writer:
        writer.add_inputs(report["inputs"])
        writer.add_findings(report["findings"])
        writer.finish(report, exit_code)


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
