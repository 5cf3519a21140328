"""`auditor policy show`: a pack as text, every confidence mark below P in plain sight.

A date, rule, exception or duty marked S (secondary reporting only) or U (unverified) carries
its mark, so a reader never mistakes an unverified fact for a checked one.
"""

from __future__ import annotations

from auditor.policy.duties import REGISTRY
from auditor.policy.pack import Duty, Pack, Rule, RuleException, Window


def mark(confidence: str) -> str:
    """` [S]` / ` [U]`; nothing for P."""
    return "" if confidence == "P" else f" [{confidence}]"


def period(window: Window, open_end: str = "open-ended") -> str:
    """`2020-01-01 .. 2023-01-01 [U]`."""
    start = window.start.date().isoformat() if window.start else "(pack start)"
    until = window.until.date().isoformat() if window.until else open_end
    zone = f" ({window.timezone})" if window.timezone else ""
    return f"{start} .. {until}{mark(window.confidence)}{zone}"


def _pairs(items: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    return "; ".join(f"{k} = {', '.join(v)}" for k, v in items)


def _exception(e: RuleException) -> str:
    parts = []
    if e.organisations:
        parts.append("organisations: " + ", ".join(e.organisations))
    if e.principals:
        parts.append("principals: " + ", ".join(e.principals))
    if e.on_behalf_of:
        parts.append("acting for: " + ", ".join(e.on_behalf_of))
    if e.purposes:
        parts.append("purposes: " + ", ".join(e.purposes))
    if e.required_evidence:
        parts.append("requires: " + ", ".join(e.required_evidence))
    if e.window.start or e.window.until:
        parts.append("effective: " + period(e.window))
    return f"exception {e.id}{mark(e.confidence)}: {'; '.join(parts)}"


def _duty(d: Duty) -> str:
    params = REGISTRY[d.type].describe(d) if d.type in REGISTRY else []
    if d.recipient:
        params.append(f"to {d.recipient}")
    return f"duty {d.type}{mark(d.confidence)}: {'; '.join(params)}".rstrip(": ")


def _rule(r: Rule) -> list[str]:
    out = [
        f"  {r.id} {r.kind} {r.severity.label}{mark(r.confidence)}: {r.title}",
        f"    principals: {', '.join(r.principals)}; services: {', '.join(r.services)};"
        f" operations: {', '.join(o.value for o in r.operations)}",
    ]
    if r.organisations:
        out.append(f"    organisations: {', '.join(r.organisations)}")
    if r.window.start or r.window.until:
        out.append(f"    effective: {period(r.window)}")
    if "any" not in r.modality:
        out.append(f"    modality: {', '.join(r.modality)}")
    if r.context:
        out.append(f"    context: {_pairs(r.context)}")
    if r.purposes:
        out.append(f"    purposes: {', '.join(r.purposes)}")
    if r.needs:
        out.append(f"    needs: {', '.join(r.needs)}")
    out += [f"    {_exception(e)}" for e in r.exceptions]
    out += [f"    {_duty(d)}" for d in r.duties]
    if r.cite:
        out.append(f"    cites: {', '.join(r.cite)}")
    return out


def describe(pack: Pack) -> list[str]:
    """The lines `auditor policy show` prints."""
    out = [f"{pack.id} {pack.version} ({pack.status})", pack.title]
    until = (
        pack.effective_until.date().isoformat()
        if pack.effective_until
        else (pack.end_condition or "open-ended")
    )
    out.append(
        f"effective: {pack.effective_from.date().isoformat()} .. {until}"
        f"{mark(pack.dates_confidence)}"
        + (f" (precision: {pack.precision})" if pack.precision != "day" else "")
    )
    if pack.effective_until and pack.end_condition:
        out.append(f"end condition: {pack.end_condition}")
    out += [f"{key}: {value}" for key, value in pack.instrument]
    if pack.jurisdiction:
        out.append(
            f"jurisdiction: {_pairs(pack.jurisdiction)}"
            + (f" (tested against {pack.anchor})" if pack.anchor else "")
        )
    if pack.timezone != "UTC" or pack.zones:
        zones = "; ".join(f"{place} {name}" for place, name in pack.zones)
        out.append(f"dates in: {pack.timezone}" + (f" (and by place: {zones})" if zones else ""))
    for key, values in pack.lineage:
        if values:
            out.append(f"{key}: {', '.join(values)}")
    if pack.last_verified:
        out.append(
            f"last verified: {pack.last_verified}"
            + (f" by {pack.verified_by}" if pack.verified_by else "")
        )
    if pack.summary:
        out += ["", pack.summary]
    if pack.caveats:
        out += ["", "unverified:"] + [f"  [U] {c}" for c in pack.caveats]
    out += ["", "sources:"]
    out += [f"  [{s.confidence}] {s.id}: {s.title} {s.url}".rstrip() for s in pack.sources]
    out += ["", "rules:"]
    for r in pack.rules:
        out += _rule(r)
    return out
