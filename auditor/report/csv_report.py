"""`--format csv`: one row per finding, the columns a compliance officer filters on.

RFC 4180 (CRLF line ends, fields quoted when needed), UTF-8 with no byte order mark unless
`--csv-bom` asks for one (spreadsheet programs that guess the encoding need it). Log content
is untrusted: a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is
prefixed with `'` so a spreadsheet shows it as text instead of running it as a formula (OWASP CSV
injection). Spreadsheets in many locales split cells on `;`: a field that holds a `,` or a `;`
is quoted, and every part after a `;` that starts like a formula gets the same `'`, so no locale
sees a formula. The columns are documented in docs/reports.md.
"""

from __future__ import annotations

import io
from typing import TextIO

from auditor.core.report import Finding
from auditor.core.reportdoc import TypedReport
from auditor.report.base import RenderOptions
from auditor.report.common import finding_faces, finding_persons, first_event

COLUMNS = (
    "time",
    "organisation",
    "category",
    "principal",
    "service",
    "operation",
    "kind",
    "outcome",
    "attempt",
    "pack",
    "rule",
    "severity",
    "confidence",
    "baselined",
    "file",
    "record",
    "line",
    "event_id",
    "frames",
    "faces",
    "persons",
    "probes",
    "frame_paths",
    "finding_id",
    "title",
    "message",
)
#: U+FEFF, written first with `--csv-bom` (EF BB BF in the UTF-8 file).
BOM = "\ufeff"
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: A field with any of these is quoted (RFC 4180's `,`, `"`, CR, LF, and the `;` of locales
#: whose spreadsheets take it as the separator).
_QUOTE = frozenset(',;"\r\n')


def neutralise(value: object) -> str:
    """The cell text, with formula triggers defused (`=1+1` -> `'=1+1`).

    Also after every `;`: a spreadsheet in a locale that separates cells with `;` starts a new
    cell there (quotes around the whole field do not help, they open mid-cell for it), so
    `x;=HYPERLINK(...)` becomes `x;'=HYPERLINK(...)`.
    """
    text = "" if value is None else str(value)
    if text.startswith(_TRIGGERS):
        text = "'" + text
    if ";" not in text:
        return text
    head, *rest = text.split(";")
    return ";".join([head, *("'" + s if s.lstrip(" ").startswith(_TRIGGERS) else s for s in rest)])


def quote(cell: str) -> str:
    """One RFC 4180 field: quoted (inner quotes doubled) when it holds a `_QUOTE` character."""
    if _QUOTE.isdisjoint(cell):
        return cell
    return '"' + cell.replace('"', '""') + '"'


def line(cells: list[str]) -> str:
    """One CSV line, CRLF-terminated."""
    return ",".join(quote(c) for c in cells) + "\r\n"


def _bool(value: object) -> str:
    return "yes" if value else "no"


def row(finding: Finding) -> dict[str, object]:
    """The CSV row of one finding (its first event: duties spanning events name the first)."""
    ev = first_event(finding)
    faces = finding_faces(finding)
    return {
        "time": ev.time,
        "organisation": ev.organisation,
        "category": ev.category,
        "principal": ev.principal,
        "service": ev.service,
        "operation": ev.operation,
        "kind": ev.kind,
        "outcome": ev.outcome,
        "attempt": _bool(finding.attempt),
        "pack": finding.pack,
        "rule": finding.rule,
        "severity": finding.severity,
        "confidence": finding.confidence,
        "baselined": _bool(finding.baselined),
        "file": ev.file,
        "record": ev.record,
        "line": ev.line,
        "event_id": ev.event_id,
        "frames": len(finding.frames),
        "faces": "" if faces is None else faces,
        "persons": len(finding_persons(finding)),
        "probes": ";".join(p.name for p in finding.probes),
        "frame_paths": ";".join(fr.path for fr in finding.frames),
        "finding_id": finding.id,
        "title": finding.title,
        "message": finding.message,
    }


class CsvReporter:
    """See `Reporter.render`."""

    name = "csv"
    extension = "csv"

    def write(self, report: TypedReport, options: RenderOptions, out: TextIO) -> None:
        """See `StreamingReporter.write`: one row per finding, as they come."""
        if options.csv_bom:
            out.write(BOM)
        out.write(line(list(COLUMNS)))
        for f in report.findings:
            values = row(f)
            out.write(line([neutralise(values[c]) for c in COLUMNS]))

    def render(self, report: TypedReport, options: RenderOptions) -> str:
        """See `Reporter.render`."""
        buf = io.StringIO()
        self.write(report, options, buf)
        return buf.getvalue()
