"""`auditor baseline create`: accepted findings for CI gates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from auditor.cli.common import _fail, baseline_app, echo
from auditor.cli.output import _write
from auditor.core.errors import AuditorError
from auditor.evidence_pack.shape import MAX_REPORT_BYTES


@baseline_app.command("create")
def baseline_create(
    report_file: Annotated[
        Path, typer.Argument(help="A JSON report (auditor audit ... -f json -o REPORT.json).")
    ],
    reason: Annotated[str, typer.Option(help="Why these findings are accepted.")],
    who: Annotated[str, typer.Option(help="Who accepts them (name or team).")],
    expires: Annotated[str, typer.Option(help="Last day the entries apply, YYYY-MM-DD.")],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="Baseline file; an existing one keeps its entries."),
    ] = Path("auditor-baseline.json"),
    finding: Annotated[
        list[str] | None,
        typer.Option(
            "--finding", help="Only this finding id (or unique prefix). Repeatable; default: all."
        ),
    ] = None,
) -> None:
    """Write a baseline from a JSON report: each finding's fingerprint, reason, who, expiry."""
    from datetime import UTC, datetime

    from auditor.config import baseline as baseline_mod
    from auditor.core.report import ReportShapeError, load_report

    try:
        until = baseline_mod.parse_expiry(expires)
        today = datetime.now(UTC).date()
        if until < today:
            _fail(f"--expires {until.isoformat()} is already past")
        raw = baseline_mod.read_regular(
            report_file, str(report_file), "the JSON report", MAX_REPORT_BYTES
        )
        try:
            report_data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            _fail(f"{report_file}: cannot read the JSON report: {exc}")
        try:
            report = load_report(report_data)
        except ReportShapeError as exc:
            lines = "\n".join(f"  {p}" for p in exc.problems)
            _fail(f"{report_file}: not an auditor.report/v1 JSON report:\n{lines}")
        # an existing target keeps its entries; a FIFO or device there is refused, never read
        exists = output.exists() or output.is_symlink()
        existing = baseline_mod.load(output) if exists else None
        new = baseline_mod.entries_from_report(
            report,
            reason=reason,
            who=who,
            expires=until,
            created=today,
            only=list(finding or []),
        )
        entries, added = baseline_mod.merge(existing, new)
    except AuditorError as exc:
        _fail(str(exc))
    where = _write(baseline_mod.dumps(entries), str(output))
    echo(
        f"baseline written: {where} ({added} new entr{'y' if added == 1 else 'ies'}, "
        f"{len(entries)} in all, expiring {until.isoformat()})",
        err=True,
    )
