"""`--format table`: what a person reads in a terminal.

Findings first (grouped by pack, then by severity, most severe first), laid out by
`rich.table` to the width given (`RenderOptions.width`: the terminal's on stdout, else
`DEFAULT_WIDTH`), then the counts that qualify the verdict (baselined, attempted, cannot decide,
excused), the gate, and what limits it: unreadable inputs, unknown principals, operations that
only look like face matching. Below `COMPACT_BELOW` columns each finding is one line (id, date,
operation, organisation, rule). The command line adds the path of every report file it wrote
(on stderr). The same report and width give the same bytes: rich reads no environment here.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from rich.box import Box
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from auditor.core.report import Finding, PackEntry, ProbeSummary
from auditor.core.reportdoc import TypedReport
from auditor.report.base import RenderOptions
from auditor.report.common import (
    Located,
    finding_faces,
    first_event,
    gate_text,
    location_text,
    severity_rank,
    undecided_by_pack,
)

#: Columns for a table that is not on a terminal (report files, pipes without COLUMNS).
DEFAULT_WIDTH = 160
#: Narrower than this, findings are one line each (the full table needs about this much).
COMPACT_BELOW = 150
_STYLES = {"critical": "bold magenta", "high": "bold red", "medium": "yellow", "low": "cyan"}
_FULL: tuple[str, ...] = ("ID", "TIME (UTC)", "ORGANISATION", "OPERATION", "OUTCOME", "FACES")
_FULL += ("PROBES", "RULE", "WHERE")
_COMPACT = ("ID", "DATE", "OPERATION", "ORGANISATION", "RULE")
#: Columns that give up room when the table is too wide, with the least each keeps; the last
#: one takes what the others leave (see `_widths`).
_FLEX = {"ORGANISATION": 16, "PROBES": 8, "WHERE": 24}
_COMPACT_FLEX = {"OPERATION": 10, "ORGANISATION": 10}
_INDENT = 2
#: Only a rule under the header, in ASCII (report files are plain text).
_HEAD_RULE = Box("    \n    \n -  \n    \n    \n    \n    \n    \n", ascii=True)

#: Rows listed per pack and severity (in report order); the count above them is always complete.
MAX_ROWS = 1000


def _clean(value: object) -> str:
    """Strip control characters so log content cannot drive the terminal."""
    text = "" if value is None else str(value)
    return "".join(ch if ch.isprintable() else "?" for ch in text)


class _Out:
    """Lines of the report: plain lines as they are (never wrapped, so they stay greppable),
    tables and coloured labels through one rich console of a fixed width."""

    def __init__(self, options: RenderOptions) -> None:
        self.width = max(40, options.width or DEFAULT_WIDTH)
        self.color = options.color
        self.buffer = io.StringIO()
        self.console = Console(
            file=self.buffer,
            width=self.width,
            color_system="standard" if self.color else None,
            force_terminal=self.color,
            no_color=not self.color,
            highlight=False,
            emoji=False,
            markup=False,
            legacy_windows=False,
            _environ={},  # neither COLUMNS nor NO_COLOR nor TERM changes a report
        )
        self.lines: list[str] = []

    def line(self, text: str = "") -> None:
        self.lines.append(_clean(text))

    def styled(self, text: Text) -> None:
        self.lines.extend(self._render(text))

    def table(self, table: Padding) -> None:
        self.lines.extend(self._render(table))

    def _render(self, item: Any) -> list[str]:
        self.buffer.seek(0)
        self.buffer.truncate()
        self.console.print(item, crop=True, overflow="ellipsis")
        lines = self.buffer.getvalue().rstrip("\n").split("\n")
        return [_strip_end(line) for line in lines]

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _strip_end(line: str) -> str:
    """Trailing blanks off a rendered line (rich pads every cell); a coloured line keeps its
    codes (the padding, if any, is inside them)."""
    return line if "\x1b" in line else line.rstrip()


class TableReporter:
    """See `Reporter.render`."""

    name = "table"
    extension = "txt"

    def render(self, report: TypedReport, options: RenderOptions) -> str:
        """See `Reporter.render`."""
        out = _Out(options)
        head = report.head
        out.line(
            f"auditor {head.tool.version}  bundle {head.bundle.name}"
            f"  run {head.run.id[:12]}  ({head.run.status})"
        )
        out.line(_packs_line(head.packs, out.width))
        out.line()
        groups, probe_findings = _group(report, options, out.width < COMPACT_BELOW)
        for pack in sorted(groups):
            _pack_section(out, pack, groups[pack], out.width < COMPACT_BELOW)
        if not groups:
            out.line("No findings.")
            out.line()
        elif out.width < COMPACT_BELOW:
            out.line("(narrow: one line per finding; the JSON and HTML reports have every field)")
            out.line()
        _summary(out, report, probe_findings)
        return out.text()


def _packs_line(packs: Sequence[PackEntry], width: int) -> str:
    """Every pack with its version when that fits on one line; else their count."""
    listed = "packs: " + ", ".join(f"{p.id}@{p.version}" for p in packs)
    if len(listed) <= width:
        return listed
    return f"packs: {len(packs)} (their ids and versions are in the JSON and HTML reports)"


Groups = dict[str, dict[str, tuple[int, list[list[str]]]]]


def _group(
    report: TypedReport, options: RenderOptions, compact: bool
) -> tuple[Groups, dict[str, int]]:
    """One pass over the (possibly streamed) findings: counts and rows (up to a cap) per pack
    and severity, and how many findings each probe person is in."""
    groups: Groups = {}
    probe_findings: dict[str, int] = {}
    for f in report.findings:
        count, rows = groups.setdefault(f.pack, {}).get(f.severity, (0, []))
        if len(rows) < MAX_ROWS:
            rows.append(_compact_row(f) if compact else _row(f, options))
        groups[f.pack][f.severity] = (count + 1, rows)
        for name in {p.name for p in f.probes}:
            probe_findings[name] = probe_findings.get(name, 0) + 1
    return groups, probe_findings


def _pack_section(
    out: _Out, pack: str, by_sev: dict[str, tuple[int, list[list[str]]]], compact: bool
) -> None:
    out.line(f"{pack}: {sum(c for c, _ in by_sev.values())} finding(s)")
    for sev in sorted(by_sev, key=severity_rank):
        count, rows = by_sev[sev]
        out.styled(Text.assemble("  ", (sev.upper(), _STYLES.get(sev, "")), f": {count}"))
        out.table(_findings_table(rows, compact, out.width))
        if count > len(rows):
            out.line(f"  ... {count - len(rows)} more finding(s), see the JSON report")
    out.line()


def _findings_table(rows: list[list[str]], compact: bool, width: int) -> Padding:
    """The rows of one pack and severity in `width` columns (see `_widths`)."""
    headers = _COMPACT if compact else _FULL
    table = Table(box=_HEAD_RULE, pad_edge=False, padding=(0, 1, 0, 0), show_edge=False)
    cells = [[_clean(c) for c in row] for row in rows]
    for header, size in zip(headers, _widths(headers, cells, width, compact), strict=True):
        fold = not compact and header in _FLEX
        table.add_column(
            header, width=size, no_wrap=not fold, overflow="fold" if fold else "ellipsis"
        )
    for row in cells:
        table.add_row(*(Text(cell) for cell in row))
    return Padding(table, (0, 0, 0, _INDENT))


def _widths(headers: Sequence[str], cells: list[list[str]], width: int, compact: bool) -> list[int]:
    """Column widths that fit `width`: every column its longest cell when that fits; else the
    short columns keep theirs and the flexible ones share the rest, the last one (WHERE, or
    ORGANISATION when compact) taking what the others leave, so ids, dates and rules are
    never cut. A full-table cell folds onto more lines; a compact one ends in an ellipsis."""
    natural = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    room = width - _INDENT - 2 * len(headers) + 1  # one pad and one divider per column
    flex = _COMPACT_FLEX if compact else _FLEX
    if sum(natural) <= room:
        return natural
    sizes = list(natural)
    flexible = [i for i, h in enumerate(headers) if h in flex]
    left = room - sum(n for i, n in enumerate(natural) if i not in flexible)
    *firsts, last = flexible
    # shortest need first, each an equal share of what is left (at most its need, at least its
    # floor), so a short column is whole and the rest goes to the longer ones
    for n, i in enumerate(sorted(firsts, key=lambda i: natural[i])):
        share = left // (len(flexible) - n)
        sizes[i] = max(flex[headers[i]], min(natural[i], share))
        left -= sizes[i]
    sizes[last] = max(flex[headers[last]], left)
    return sizes


def _summary(out: _Out, report: TypedReport, probe_findings: dict[str, int]) -> None:
    """The counts, the gate, frames, probes, notices and input errors."""
    head = report.head
    s = head.summary
    f = s.findings
    out.line(
        f"Summary: {s.events} records read, {s.face_operations} face-matching "
        f"operations, findings: {f.critical} critical, {f.high} high, "
        f"{f.medium} medium, {f.low} low."
    )
    out.line(
        f"         {s.baselined} baselined, {s.attempts} attempted "
        f"(failed calls), {s.cannot_decide} cannot decide; "
        f"{s.excused} excused by exceptions; "
        f"{s.unknown_principals} unknown principal(s)."
    )
    per_pack = {k: v for k, v in undecided_by_pack(report).items() if v}
    if per_pack:
        out.line(
            "Cannot decide by pack: " + ", ".join(f"{k} {v}" for k, v in per_pack.items()) + "."
        )
    out.line(f"Gate: {gate_text(report)}")
    if s.frames_analysed:
        out.line(
            f"Frames: {s.frames_analysed} analysed ({head.run.frames_from_cache or 0} from "
            f"cache), {s.faces_detected} faces, {s.persons} distinct person(s)."
        )
    for probe in head.probes:
        out.line(f"Probe {probe.name}: {_probe_text(probe, probe_findings)}")
    if head.notices:
        out.line()
        out.line(f"Notices ({len(head.notices)}):")
        for n in head.notices:
            out.line(f"  {_loc(n)}: {n.message}")
    if head.errors:
        out.line()
        out.line(f"AUDIT INCOMPLETE: {len(head.errors)} input error(s):")
        for e in head.errors:
            out.line(f"  {_loc(e)}: {e.message}")


def _probe_text(probe: ProbeSummary, probe_findings: dict[str, int]) -> str:
    """Operations whose frames show the person, and the findings among them (not the same
    count: an excused or compliant operation has no finding, one finding may span several)."""
    operations = len(probe.event_ids)
    if not operations:
        return "not found"
    findings = probe_findings.get(probe.name, 0)
    return f"in the frames of {operations} operation(s); in {findings} finding(s)"


def _compact_row(g: Finding) -> list[str]:
    ev = first_event(g)
    return [g.id[:12], ev.time[:10], ev.operation, ev.organisation, _rule_cell(g)]


def _row(g: Finding, options: RenderOptions) -> list[str]:
    ev = first_event(g)
    faces = finding_faces(g)
    outcome = "attempt" if g.attempt else ev.outcome
    if g.baselined:
        outcome += " [baselined]"
    return [
        g.id[:12],
        ev.time,
        f"{ev.organisation} ({ev.category})",
        ev.operation,
        outcome,
        "-" if faces is None else str(faces),
        ", ".join(p.name for p in g.probes) or "-",
        _rule_cell(g),
        location_text(ev),
    ]


def _rule_cell(g: Finding) -> str:
    """The rule id, with its confidence mark when below P: `VA-2026-001 [U]`."""
    return g.rule if g.confidence == "P" else f"{g.rule} [{g.confidence}]"


def _loc(item: Located) -> str:
    text = str(item.file)
    if item.line is not None:
        text += f":{item.line}"
    if item.record is not None:
        text += f" (record {item.record})"
    return text
