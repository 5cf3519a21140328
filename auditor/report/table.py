"""`--format table`: what a person reads in a terminal.

Findings first (grouped by pack, then by severity, most severe first), then the counts that
qualify the verdict (baselined, attempted, cannot decide, excused), the gate, and what limits
it: unreadable inputs, unknown principals, operations that only look like face matching. The
command line adds the path of every report file it wrote (on stderr).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from auditor.report.base import RenderOptions
from auditor.report.common import (
    finding_faces,
    gate_text,
    location_text,
    severity_rank,
    undecided_by_pack,
)

_COLORS = {"critical": "\x1b[1;35m", "high": "\x1b[1;31m", "medium": "\x1b[33m", "low": "\x1b[36m"}
_RESET = "\x1b[0m"
_CODES = frozenset([*_COLORS.values(), _RESET])
_CODE_SPLIT = re.compile("(" + "|".join(re.escape(c) for c in sorted(_CODES)) + ")")

#: Rows listed per pack and severity (in report order); the count above them is always complete.
MAX_ROWS = 1000


def _clean(value: object) -> str:
    """Strip control characters so log content cannot drive the terminal."""
    text = "" if value is None else str(value)
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _clean_line(line: str) -> str:
    """`_clean` for a whole line, keeping this reporter's own colour codes."""
    if line.isprintable():
        return line
    return "".join(
        part if part in _CODES else _clean(part) for part in _CODE_SPLIT.split(line) if part
    )


def _table(headers: Sequence[str], rows: list[list[str]], max_width: int = 48) -> list[str]:
    cells = [[_clean(c)[:max_width] for c in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line.rstrip(), "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return out


class TableReporter:
    """See `Reporter.render`."""

    name = "table"
    extension = "txt"

    def render(self, report: dict[str, Any], options: RenderOptions) -> str:
        """See `Reporter.render`."""
        s = report["summary"]
        out: list[str] = []
        run = report["run"]
        packs = ", ".join(f"{p['id']}@{p['version']}" for p in report["packs"])
        out.append(
            f"auditor {report['tool']['version']}  bundle {_clean(report['bundle']['name'])}"
            f"  run {run['id'][:12]}  ({run['status']})"
        )
        out.append(f"packs: {packs}")
        out.append("")
        # one pass over the (possibly streamed) findings: counts per group, rows up to a cap
        groups: dict[str, dict[str, tuple[int, list[list[str]]]]] = {}
        for f in report["findings"]:
            count, rows = groups.setdefault(f["pack"], {}).get(f["severity"], (0, []))
            if len(rows) < MAX_ROWS:
                rows.append(_row(f, options))
            groups[f["pack"]][f["severity"]] = (count + 1, rows)
        for pack in sorted(groups):
            by_sev = groups[pack]
            out.append(f"{pack}: {sum(c for c, _ in by_sev.values())} finding(s)")
            for sev in sorted(by_sev, key=severity_rank):
                count, rows = by_sev[sev]
                label = sev.upper()
                if options.color:
                    label = _COLORS.get(sev, "") + label + _RESET
                out.append(f"  {label}: {count}")
                out += [
                    "  " + line
                    for line in _table(
                        [
                            "TIME (UTC)",
                            "ORGANISATION",
                            "OPERATION",
                            "OUTCOME",
                            "FACES",
                            "PROBES",
                            "RULE",
                            "WHERE",
                            "ID",
                        ],
                        rows,
                        120,
                    )
                ]
                if count > len(rows):
                    out.append(f"  ... {count - len(rows)} more finding(s), see the JSON report")
            out.append("")
        if not groups:
            out.append("No findings.")
            out.append("")
        f = s["findings"]
        out.append(
            f"Summary: {s['events']} records read, {s['face_operations']} face-matching "
            f"operations, findings: {f['critical']} critical, {f['high']} high, "
            f"{f['medium']} medium, {f['low']} low."
        )
        out.append(
            f"         {s.get('baselined', 0)} baselined, {s.get('attempts', 0)} attempted "
            f"(failed calls), {s.get('cannot_decide', 0)} cannot decide; "
            f"{s.get('excused', 0)} excused by exceptions; "
            f"{s.get('unknown_principals', 0)} unknown principal(s)."
        )
        per_pack = {k: v for k, v in undecided_by_pack(report).items() if v}
        if per_pack:
            out.append(
                "Cannot decide by pack: " + ", ".join(f"{k} {v}" for k, v in per_pack.items()) + "."
            )
        out.append(f"Gate: {gate_text(report)}")
        if s.get("frames_analysed"):
            out.append(
                f"Frames: {s['frames_analysed']} analysed ({run.get('frames_from_cache', 0)} from "
                f"cache), {s['faces_detected']} faces, {s['persons']} distinct person(s)."
            )
        for probe in report.get("probes", []):
            hits = probe["event_ids"]
            out.append(
                f"Probe {_clean(probe['name'])}: "
                + (f"found in {len(hits)} finding(s)" if hits else "not found")
            )
        if report["notices"]:
            out.append("")
            out.append(f"Notices ({len(report['notices'])}):")
            for n in report["notices"]:
                out.append(f"  {_loc(n)}: {_clean(n['message'])}")
        if report["errors"]:
            out.append("")
            out.append(f"AUDIT INCOMPLETE: {len(report['errors'])} input error(s):")
            for e in report["errors"]:
                out.append(f"  {_loc(e)}: {_clean(e['message'])}")
        # every line through the filter (the packs line, pack names, ... come from pack files);
        # only the colour codes this reporter put in itself survive
        return "\n".join(_clean_line(line) for line in out) + "\n"


def _row(g: dict[str, Any], options: RenderOptions) -> list[str]:
    ev = g["events"][0]
    faces = finding_faces(g)
    outcome = "attempt" if g["attempt"] else ev["outcome"]
    if g.get("baselined"):
        outcome += " [baselined]"
    return [
        ev["time"],
        f"{ev['organisation']} ({ev['category']})",
        ev["operation"],
        outcome,
        "-" if faces is None else str(faces),
        ",".join(p["name"] for p in g["probes"]) or "-",
        _rule_cell(g),
        location_text(ev),
        g["id"][:12],
    ]


def _rule_cell(g: dict[str, Any]) -> str:
    """The rule id, with its confidence mark when below P: `VA-2026-001 [U]`."""
    confidence = g.get("confidence", "P")
    return g["rule"] if confidence == "P" else f"{g['rule']} [{confidence}]"


def _loc(item: dict[str, Any]) -> str:
    text = _clean(item["file"])
    if item.get("line") is not None:
        text += f":{item['line']}"
    if item.get("record") is not None:
        text += f" (record {item['record']})"
    return text
