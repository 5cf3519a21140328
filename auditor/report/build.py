"""Build the `auditor.report/v1` document: the one canonical form of a run.

Every output format renders from this dict (and the store keeps it), so `auditor report RUN`
can re-render a past run without re-auditing. Everything outside the `run` block is a function
of the inputs alone: sorted, bundle-relative, no clock, no machine paths.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from auditor import __version__
from auditor.bundle import Bundle
from auditor.errors import InputIssue
from auditor.models import (
    MATCHING_KINDS,
    Event,
    Finding,
    InputFile,
    Notice,
    Severity,
    utc_text,
)
from auditor.policy import Pack, Undecided

SCHEMA = "auditor.report/v1"


def _ts(when: datetime) -> str:
    return utc_text(when)


#: What an `undecided[]` entry says about its event (no frames or attributes).
_UNDECIDED_EVENT_KEYS = ("file", "record", "line", "event_id", "time", "principal",
                         "organisation", "category", "service", "operation", "kind")


def event_dict(e: Event) -> dict[str, Any]:
    """The `findings[].events[]` entry."""
    return {
        "source": e.source,
        "file": e.file,
        "record": e.record,
        "line": e.line,
        "event_id": e.event_id,
        "time": _ts(e.time),
        "principal": e.principal.id,
        "organisation": e.principal.organisation,
        "category": e.principal.category,
        "service": e.service,
        "operation": e.operation,
        "kind": e.kind.value,
        "outcome": e.outcome,
        "error_code": e.error_code,
        "frames": list(e.frames),
        "attributes": dict(e.attributes),
    }


def finding_dict(f: Finding, baselined: bool = False) -> dict[str, Any]:
    """The `findings[]` entry (frames and probes carry no descriptors, by design)."""
    return {
        "id": f.id,
        "pack": f.pack,
        "pack_version": f.pack_version,
        "rule": f.rule,
        "severity": f.severity.label,
        "confidence": f.confidence,
        "attempt": f.attempt,
        "baselined": baselined,
        "title": f.title,
        "message": f.message,
        "events": [event_dict(e) for e in f.events],
        "frames": [
            {
                "path": fr.path,
                "sha256": fr.sha256,
                "faces": fr.faces,
                "persons": list(fr.persons),
                "status": fr.status,
                "error": fr.error,
                "boxes": [list(b) for b in fr.boxes],
            }
            for fr in f.frames
        ],
        "probes": [{"name": p.name, "distance": round(p.distance, 4)} for p in f.probes],
    }


def pack_dict(p: Pack) -> dict[str, Any]:
    """The `packs[]` entry: identity and hash, plus what SARIF/JUnit/HTML say about each rule."""
    return {
        "id": p.id,
        "version": p.version,
        "sha256": p.sha256,
        "path": p.path,
        "status": p.status,
        "title": p.title,
        "citation": dict(p.instrument).get("citation", ""),
        "sources": [
            {"id": s.id, "title": s.title, "url": s.url, "confidence": s.confidence}
            for s in p.sources
        ],
        "rules": [
            {
                "id": r.id,
                "title": r.title,
                "severity": r.severity.label,
                "confidence": r.confidence,
                "kind": r.kind,
                "cite": list(r.cite),
            }
            for r in p.rules
        ],
    }


def undecided_dict(u: Undecided) -> dict[str, Any]:
    """The `undecided[]` entry: a rule that may apply but the event lacks fields to decide."""
    full = event_dict(u.event)
    return {
        "pack": u.pack,
        "rule": u.rule,
        "missing": list(u.missing),
        "reason": u.reason,
        "event": {key: full[key] for key in _UNDECIDED_EVENT_KEYS},
    }


def build_report(
    *,
    run_id: str,
    started: datetime,
    finished: datetime,
    bundle: Bundle,
    packs: list[Pack],
    inputs: list[InputFile],
    records: int,
    events: list[Event],
    findings: list[Finding],
    excused: int,
    issues: list[InputIssue],
    notices: list[Notice],
    frame_summary: dict[str, Any],
    probes: list[dict[str, Any]],
    settings: dict[str, Any],
    run_facts: dict[str, Any] | None = None,
    face_engine: dict[str, Any] | None = None,
    baselined: frozenset[str] = frozenset(),
    undecided: Sequence[Undecided] = (),
) -> dict[str, Any]:
    """Assemble the report dict; see docs/report.md for every key."""
    by_severity = Counter(f.severity.label for f in findings)
    unknown = {e.principal.id for e in events if not e.principal.matched}
    kinds = Counter(e.kind.value for e in events)
    summary: dict[str, Any] = {
        "events": records,
        "face_operations": sum(1 for e in events if e.kind in MATCHING_KINDS),
        "kinds": dict(sorted(kinds.items())),
        "findings": {s.label: by_severity.get(s.label, 0) for s in sorted(Severity, reverse=True)},
        "attempts": sum(1 for f in findings if f.attempt),
        "baselined": sum(1 for f in findings if f.id in baselined),
        "excused": excused,
        "cannot_decide": len(undecided),
        "cannot_decide_by_pack": {p.id: sum(1 for u in undecided if u.pack == p.id)
                                  for p in sorted(packs, key=lambda p: p.id)},
        "unknown_principals": len(unknown),
        "suspected_face_matching": sum(
            1 for e in events if e.kind.value == "suspected_face_matching"
        ),
        "frames_analysed": 0,
        "frames_missing": 0,
        "faces_detected": 0,
        "persons": 0,
        "errors": len(issues),
    }
    summary.update(frame_summary)
    return {
        "schema": SCHEMA,
        "tool": {"name": "auditor", "version": __version__},
        "run": {
            "id": run_id,
            "started": _ts(started),
            "finished": _ts(finished),
            "status": "incomplete" if issues else "complete",
            **(run_facts or {}),
        },
        "bundle": {"name": bundle.name},
        "settings": settings,
        "inputs": [
            {
                "path": i.path,
                "kind": i.kind,
                "sha256": i.sha256,
                "records": i.records,
                "errors": i.errors,
                "source": i.source,
            }
            for i in sorted(inputs, key=lambda i: (i.kind, i.path))
        ],
        "packs": [pack_dict(p) for p in sorted(packs, key=lambda p: p.id)],
        "summary": summary,
        "findings": [finding_dict(f, f.id in baselined) for f in findings],
        "undecided": [undecided_dict(u) for u in undecided],
        "notices": [
            {
                "file": n.file,
                "line": n.line,
                "record": n.record,
                "event_id": n.event_id,
                "message": n.message,
            }
            for n in sorted(notices, key=lambda n: (n.file, n.line or 0, n.record or 0))
        ],
        "probes": probes,
        "face_engine": face_engine or None,
        "errors": [
            i.as_dict()
            for i in sorted(issues, key=lambda i: (i.file, i.line or 0, i.record or 0, i.message))
        ],
    }
