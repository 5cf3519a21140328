"""Findings keep their full JSON (`body`) and report order (`seq`); runs keep only the head.

Release 0.1.0 kept each run's whole report in `runs.report` and a flattened copy of each finding
in `findings`. From here on `runs.report` holds the report without its findings and every finding
is one `findings` row with its JSON, so a huge run is never one giant string. Existing runs are
rewritten from their stored reports (the old `findings` rows were made from the same reports in
the same transaction, so nothing is lost by rebuilding them). Event-derived columns become
nullable: a finding without events has none of them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EVENT_TEXT = ("time", "organisation", "category", "operation", "kind", "outcome", "file")
_BATCH = 1000


def _create_findings() -> sa.Table:
    return op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.String(), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("pack", sa.String(), nullable=False),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("severity", sa.String(), nullable=False),
        *(sa.Column(name, sa.String(), nullable=True) for name in _EVENT_TEXT),
        sa.Column("record", sa.Integer(), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.String(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
    )


def _row(run_id: str, seq: int, f: dict[str, Any]) -> dict[str, Any]:
    ev = (f.get("events") or [{}])[0]
    row = {
        "run_id": run_id,
        "seq": seq,
        "fingerprint": f["id"],
        "pack": f["pack"],
        "rule": f["rule"],
        "severity": f["severity"],
        "body": json.dumps(f, sort_keys=True, ensure_ascii=False, separators=(",", ":")),
    }
    row.update((name, ev.get(name)) for name in (*_EVENT_TEXT, "record", "line", "event_id"))
    return row


def upgrade() -> None:
    """Rebuild `findings` with bodies, then strip the findings out of each stored report."""
    op.drop_index("ix_findings_run_id", table_name="findings")
    op.drop_index("ix_findings_fingerprint", table_name="findings")
    op.drop_table("findings")
    findings = _create_findings()
    op.create_index("ix_findings_fingerprint", "findings", ["fingerprint"])
    op.create_index("ix_findings_run_seq", "findings", ["run_id", "seq"], unique=True)

    bind = op.get_bind()
    runs = sa.table("runs", sa.column("id", sa.String()), sa.column("report", sa.String()))
    run_ids = [r[0] for r in bind.execute(sa.select(runs.c.id).order_by(runs.c.id))]
    for run_id in run_ids:
        text = bind.execute(sa.select(runs.c.report).where(runs.c.id == run_id)).scalar_one()
        try:
            report = json.loads(text)
        except ValueError:
            continue  # an empty or damaged report: nothing to rebuild from
        if not isinstance(report, dict) or "findings" not in report:
            continue
        rows = [_row(run_id, seq, f) for seq, f in enumerate(report.pop("findings"))]
        for start in range(0, len(rows), _BATCH):
            bind.execute(findings.insert(), rows[start : start + _BATCH])
        bind.execute(
            runs.update()
            .where(runs.c.id == run_id)
            .values(report=json.dumps(report, sort_keys=True))
        )


def downgrade() -> None:
    """Not supported: release 0.1.0 cannot read bodies back into whole reports."""
    raise NotImplementedError("the store cannot be downgraded below revision 0002")
