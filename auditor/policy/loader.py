"""Load and validate pack files, collecting every problem with its file:line.

Validation is strict: an unknown key, a bad date or a misspelt operation kind would otherwise
silently let a prohibited search through. `check_pack` collects all problems of a file (for
`auditor policy lint`, like pySigma's `collect_errors`); `load_pack` raises the first one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import auditor.policy.schema as S
from auditor.config import tomlfile
from auditor.core.errors import ConfigError
from auditor.core.models import OperationKind
from auditor.policy.checker import Checker, P
from auditor.policy.pack import Pack, Source
from auditor.policy.rules_loader import load_rule


@dataclass
class PackCheck:
    """The outcome of checking one file: the pack (None if any problem) and every problem."""

    pack: Pack | None
    errors: list[ConfigError] = field(default_factory=list)


def load_pack(path: Path, display: str | None = None) -> Pack:
    """Read and validate one pack file; raises the first problem as a located ConfigError."""
    check = check_pack(path, display)
    if check.pack is None:
        raise check.errors[0]
    return check.pack


def check_pack(path: Path, display: str | None = None) -> PackCheck:
    """Every problem of one pack file (syntax errors stop at the first, being fatal)."""
    try:
        doc = tomlfile.load(path, display or str(path))
    except ConfigError as exc:
        return PackCheck(None, [exc])
    c = Checker(doc.display, doc.lines)
    pack = _pack(c, doc.data, doc.display, hashlib.sha256(path.read_bytes()).hexdigest())
    errors = sorted(c.errors, key=lambda e: e.location.line or 0 if e.location else 0)
    return PackCheck(None if errors else pack, errors)


def _pack(c: Checker, data: dict[str, Any], display: str, sha: str) -> Pack | None:
    """The pack of one file, or None when it cannot be built; every problem goes to `c`. The
    tables are checked in file order, each by its own function, so a lint lists them alike."""
    c.keys(data, "top", ())
    meta = data.get("pack")
    if not isinstance(meta, dict):
        c.add("missing [pack] table", ("pack",))
        return None
    m: P = ("pack",)
    c.keys(meta, "pack", m)
    head = _head(c, meta, m)
    instrument = c.table(meta, "instrument", m)
    c.keys(instrument, "pack.instrument", (*m, "instrument"))
    c.choice(instrument, "kind", S.INSTRUMENT_KINDS, (*m, "instrument"))
    c.choice(instrument, "binding", S.BINDINGS, (*m, "instrument"))
    effective = _effective(c, meta, m, head["status"])
    place = _jurisdiction(c, meta, m)
    lin = c.table(meta, "lineage", m)
    c.keys(lin, "pack.lineage", (*m, "lineage"))
    lineage = tuple(
        (k, c.strings(lin, k, (*m, "lineage"))) for k in S.KEYS["pack.lineage"] if k in lin
    )
    definitions = _definitions(c, meta, m)
    sources = _sources(c, meta, m)
    rules = _rules(c, data, {s.id for s in sources})
    summary, caveats = c.text(meta, "summary", m), c.strings(meta, "caveats", m)
    verified_by = c.text(meta, "verified_by", m)
    if effective["effective_from"] is None:  # checked all the same: a lint lists every problem
        return None
    return Pack(
        **head,
        **effective,
        **place,
        rules=rules,
        sources=sources,
        path=display,
        sha256=sha,
        instrument=tuple(sorted((str(k), str(v)) for k, v in instrument.items())),
        summary=summary,
        lineage=lineage,
        caveats=caveats,
        definitions=definitions,
        verified_by=verified_by,
    )


def _head(c: Checker, meta: dict[str, Any], m: P) -> dict[str, Any]:
    """id, title, version, status and last_verified of [pack]."""
    pid, title, version = (c.text(meta, k, m, True) for k in ("id", "title", "version"))
    if pid and not all(ch.isalnum() or ch in "-_." for ch in pid):
        c.add("id may hold letters, digits, - _ . only", (*m, "id"))
    status = c.choice(meta, "status", S.STATUSES, m, "in_force")
    last_verified = meta.get("last_verified", "")
    last_verified = (
        last_verified.isoformat() if isinstance(last_verified, date) else str(last_verified)
    )
    return {
        "id": pid,
        "title": title,
        "version": version,
        "status": status,
        "last_verified": last_verified,
    }


def _effective(c: Checker, meta: dict[str, Any], m: P, status: str) -> dict[str, Any]:
    """[pack.effective]: the period, how it ends, and how sure its dates are."""
    eff = c.table(meta, "effective", m)
    ep: P = (*m, "effective")
    c.keys(eff, "pack.effective", ep)
    start = c.day(eff, "from", ep)
    if "from" not in eff:
        c.add("needs [pack.effective] with from = YYYY-MM-DD", ep)
    until = c.day(eff, "until", ep)
    if start and until and until <= start:
        c.add("until must be after from", (*ep, "until"))
    end_condition = c.choice(eff, "end_condition", S.END_CONDITIONS, ep) or None
    precision = c.choice(eff, "precision", S.PRECISIONS, ep, "day")
    dates_conf = c.choice(eff, "confidence", S.CONFIDENCE, ep, "P")
    if status == "expired" and until is None:
        c.add("an expired pack needs effective.until", (*ep, "until"))
    return {
        "effective_from": start,
        "effective_until": until,
        "end_condition": end_condition,
        "precision": precision,
        "dates_confidence": dates_conf,
        "effective_note": c.text(eff, "note", ep),
    }


def _jurisdiction(c: Checker, meta: dict[str, Any], m: P) -> dict[str, Any]:
    """[pack.jurisdiction]: territory, anchor and time zones."""
    jur = c.table(meta, "jurisdiction", m)
    jp: P = (*m, "jurisdiction")
    c.keys(jur, "pack.jurisdiction", jp)
    territory = tuple(
        (k, c.strings(jur, k, jp)) for k in ("country", "region", "locality") if k in jur
    )
    anchor = c.choice(jur, "anchor", S.ANCHORS, jp)
    timezone = c.zone(jur, jp) or "UTC"
    zones = c.zone_map(jur, jp)
    return {"jurisdiction": territory, "anchor": anchor, "timezone": timezone, "zones": zones}


def _definitions(c: Checker, meta: dict[str, Any], m: P) -> tuple[tuple[str, Any], ...]:
    """[pack.definitions]: the instrument's terms, each as the operation kinds it covers."""
    defs = c.table(meta, "definitions", m)
    kinds = {k.value for k in OperationKind}
    definitions = []
    for term in defs:
        values = c.strings(defs, term, (*m, "definitions"))
        for op in values:
            if op not in kinds:
                c.add(f"unknown operation kind {op!r}", (*m, "definitions", term))
        definitions.append((term, values))
    return tuple(definitions)


def _sources(c: Checker, meta: dict[str, Any], m: P) -> tuple[Source, ...]:
    sources = tuple(_source(c, i, s) for i, s in enumerate(c.tables(meta, "sources", m)))
    ids = [s.id for s in sources]
    for i, sid in enumerate(ids):
        if sid and sid in ids[:i]:
            c.add(f"duplicate source id {sid!r}", (*m, "sources", i, "id"))
    return sources


def _rules(c: Checker, data: dict[str, Any], source_ids: set[str]) -> tuple[Any, ...]:
    rules_raw = data.get("rules")
    if (
        not isinstance(rules_raw, list)
        or not rules_raw
        or not all(isinstance(r, dict) for r in rules_raw)
    ):
        c.add("a pack needs at least one [[rules]] table", ("rules",))
        rules_raw = []
    rules = tuple(load_rule(c, i, r, source_ids) for i, r in enumerate(rules_raw))
    rids = [r.id for r in rules]
    for i, rid in enumerate(rids):
        if rid and rid in rids[:i]:
            c.add(f"duplicate rule id {rid!r}", ("rules", i, "id"))
    return rules


def _source(c: Checker, i: int, raw: dict[str, Any]) -> Source:
    p: P = ("pack", "sources", i)
    c.keys(raw, "pack.sources", p)
    sid, title = c.text(raw, "id", p, True), c.text(raw, "title", p, True)
    conf = c.choice(raw, "confidence", S.CONFIDENCE, p, "S")
    if "confidence" not in raw:
        c.add("a source needs confidence = P, S or U", p)
    kind = c.choice(raw, "kind", S.SOURCE_KINDS, p, "secondary")
    when = raw.get("date", "")
    return Source(
        sid,
        title,
        c.text(raw, "url", p),
        conf,
        kind,
        when.isoformat() if isinstance(when, date) else str(when),
        c.text(raw, "publisher", p),
        c.text(raw, "pinpoint", p),
    )
