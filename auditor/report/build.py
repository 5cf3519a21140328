"""Build the `auditor.report/v1` document: the one canonical form of a run.

Every output format renders from this dict (and the store keeps it), so `auditor report RUN`
can re-render a past run without re-auditing. Everything outside the `run` block is a function
of the inputs alone: sorted, bundle-relative, no clock, no machine paths.

Nothing here holds all events or all findings: the audit feeds events to an `EventTally` and
undecided entries to `UndecidedGroups` as they pass, and hands the findings over as a sized,
re-iterable sequence (`auditor.core.jsonstream.Lazy`) that reporters and the store stream.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from auditor import __version__
from auditor.config.bundle import Bundle
from auditor.core.errors import InputIssue
from auditor.core.models import (
    MATCHING_KINDS,
    Event,
    Finding,
    InputFile,
    Notice,
    Severity,
    utc_text,
)
from auditor.policy import Pack, Undecided, undecided_key

SCHEMA = "auditor.report/v1"


def _ts(when: datetime) -> str:
    return utc_text(when)


#: What an `undecided[]` entry says about its event (no frames or attributes).
_UNDECIDED_EVENT_KEYS = (
    "file",
    "record",
    "line",
    "start_line",
    "event_id",
    "time",
    "principal",
    "organisation",
    "category",
    "service",
    "operation",
    "kind",
)


def event_dict(e: Event) -> dict[str, Any]:
    """The `findings[].events[]` entry."""
    return {
        "source": e.source,
        "file": e.file,
        "record": e.record,
        "line": e.line,
        "start_line": e.start_line if e.start_line is not None else e.line,
        "event_id": e.event_id,
        "time": _ts(e.time),
        "principal": e.principal.id,
        "organisation": e.principal.organisation,
        "category": e.principal.category,
        "principal_entry": e.principal.entry,
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
                "box_persons": list(fr.box_persons),
                "probe_boxes": [{"name": n, "box": i} for n, i in fr.probe_boxes],
            }
            for fr in f.frames
        ],
        "probes": [{"name": p.name, "distance": round(p.distance, 4)} for p in f.probes],
    }


def _when(when: datetime | None) -> str | None:
    return None if when is None else _ts(when)


def pack_dict(p: Pack) -> dict[str, Any]:
    """The `packs[]` entry: identity and hash, plus what SARIF/JUnit/HTML say about each rule.

    The effective period and each rule's own period and exception ids are there so a report
    can show why a finding is one (the moratorium window, the exceptions that were checked)
    without the pack file.
    """
    return {
        "id": p.id,
        "version": p.version,
        "sha256": p.sha256,
        "path": p.path,
        "status": p.status,
        "title": p.title,
        "citation": dict(p.instrument).get("citation", ""),
        "effective_from": _when(p.effective_from),
        "effective_until": _when(p.effective_until),
        "dates_confidence": p.dates_confidence,
        "timezone": p.timezone,
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
                "effective_from": _when(r.window.start),
                "effective_until": _when(r.window.until),
                "exceptions": [e.id for e in r.exceptions],
            }
            for r in p.rules
        ],
    }


#: Events shown per `undecided[]` group; the group's `count` says how many there were in all.
UNDECIDED_SAMPLE = 5


def undecided_event(u: Undecided) -> dict[str, Any]:
    """What an `undecided[].sample[]` entry says about its event (no frames or attributes)."""
    full = event_dict(u.event)
    return {key: full[key] for key in _UNDECIDED_EVENT_KEYS}


@dataclass
class _Group:
    count: int = 0
    missing: set[str] = field(default_factory=set)
    sample: list[tuple[tuple[str, str, int, int, str, str], dict[str, Any]]] = field(
        default_factory=list
    )


class UndecidedGroups:
    """Undecided entries aggregated per (pack, rule, reason): a count, the fields that were
    missing, and the first `UNDECIDED_SAMPLE` events in report order (time, file, record).

    Memory is one group per distinct (pack, rule, reason), each with at most twice the sample
    cap, however many events could not be decided.
    """

    def __init__(self, cap: int = UNDECIDED_SAMPLE) -> None:
        self.cap = cap
        self.groups: dict[tuple[str, str, str], _Group] = {}
        self.total = 0
        self.by_pack: Counter[str] = Counter()

    def add(self, u: Undecided) -> None:
        """Count one undecided entry (the sample keeps the earliest events, whatever the order
        they arrive in, so the report does not depend on file order or spilling)."""
        group = self.groups.setdefault((u.pack, u.rule, u.reason), _Group())
        group.count += 1
        group.missing.update(u.missing)
        self.total += 1
        self.by_pack[u.pack] += 1
        group.sample.append((undecided_key(u), undecided_event(u)))
        if len(group.sample) >= 2 * self.cap:
            group.sample.sort(key=lambda item: item[0])
            del group.sample[self.cap :]

    def entries(self) -> list[dict[str, Any]]:
        """The `undecided[]` list, sorted by pack, rule and reason."""
        out = []
        for (pack, rule, reason), group in sorted(self.groups.items(), key=lambda kv: kv[0]):
            sample = sorted(group.sample, key=lambda item: item[0])[: self.cap]
            out.append(
                {
                    "pack": pack,
                    "rule": rule,
                    "reason": reason,
                    "missing": sorted(group.missing),
                    "count": group.count,
                    "sample": [event for _, event in sample],
                }
            )
        return out


class EventTally:
    """The summary's event counts, fed one event at a time (distinct unknown principals are
    the only set kept: one entry per principal, not per event)."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self.face_operations = 0
        self.unknown: set[str] = set()

    def add(self, e: Event) -> None:
        """Count one event."""
        self.kinds[e.kind.value] += 1
        if e.kind in MATCHING_KINDS:
            self.face_operations += 1
        if not e.principal.matched:
            self.unknown.add(e.principal.id)

    @classmethod
    def of(cls, events: Iterable[Event]) -> EventTally:
        """A tally of a list of events."""
        tally = cls()
        for e in events:
            tally.add(e)
        return tally


@dataclass
class FindingCounts:
    """The summary's finding counts, taken as findings pass."""

    by_severity: Counter[str] = field(default_factory=Counter)
    attempts: int = 0
    baselined: int = 0

    def add(self, f: Finding) -> None:
        """Count one finding (baselined ones are counted by the audit once it knows them)."""
        self.by_severity[f.severity.label] += 1
        self.attempts += int(f.attempt)


def build_report(
    *,
    run_id: str,
    started: datetime,
    finished: datetime,
    bundle: Bundle,
    packs: list[Pack],
    inputs: list[InputFile],
    records: int,
    tally: EventTally,
    findings: Any,
    counts: FindingCounts,
    excused: int,
    issues: list[InputIssue],
    notices: list[Notice],
    frame_summary: dict[str, Any],
    probes: list[dict[str, Any]],
    settings: dict[str, Any],
    run_facts: dict[str, Any] | None = None,
    face_engine: dict[str, Any] | None = None,
    undecided: UndecidedGroups | None = None,
) -> dict[str, Any]:
    """Assemble the report dict; see docs/report.md for every key.

    `findings` is a sized, re-iterable sequence of `findings[]` dicts (see `finding_dict`),
    already sorted: a list or a `Lazy` over the audit's spill files.
    """
    groups = undecided or UndecidedGroups()
    summary = _summary(records, tally, counts, excused, groups, packs, len(issues))
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
        "inputs": _inputs(inputs),
        "packs": [pack_dict(p) for p in sorted(packs, key=lambda p: p.id)],
        "summary": summary,
        "findings": findings,
        "undecided": groups.entries(),
        "notices": _notices(notices),
        "probes": probes,
        "face_engine": face_engine or None,
        "errors": [
            i.as_dict()
            for i in sorted(issues, key=lambda i: (i.file, i.line or 0, i.record or 0, i.message))
        ],
    }


def _summary(
    records: int,
    tally: EventTally,
    counts: FindingCounts,
    excused: int,
    groups: UndecidedGroups,
    packs: list[Pack],
    errors: int,
) -> dict[str, Any]:
    """The `summary` block before the frame pass adds its counts (zero without frames)."""
    return {
        "events": records,
        "face_operations": tally.face_operations,
        "kinds": dict(sorted(tally.kinds.items())),
        "findings": {
            s.label: counts.by_severity.get(s.label, 0) for s in sorted(Severity, reverse=True)
        },
        "attempts": counts.attempts,
        "baselined": counts.baselined,
        "excused": excused,
        "cannot_decide": groups.total,
        "cannot_decide_by_pack": {
            p.id: groups.by_pack.get(p.id, 0) for p in sorted(packs, key=lambda p: p.id)
        },
        "unknown_principals": len(tally.unknown),
        "suspected_face_matching": tally.kinds.get("suspected_face_matching", 0),
        "frames_analysed": 0,
        "frames_missing": 0,
        "faces_detected": 0,
        "persons": 0,
        "errors": errors,
    }


def _inputs(inputs: list[InputFile]) -> list[dict[str, Any]]:
    """`inputs[]`, by kind then path."""
    return [
        {
            "path": i.path,
            "kind": i.kind,
            "sha256": i.sha256,
            "records": i.records,
            "errors": i.errors,
            "source": i.source,
        }
        for i in sorted(inputs, key=lambda i: (i.kind, i.path))
    ]


def _notices(notices: list[Notice]) -> list[dict[str, Any]]:
    """`notices[]`, by file, line and record."""
    return [
        {
            "file": n.file,
            "line": n.line,
            "record": n.record,
            "event_id": n.event_id,
            "message": n.message,
        }
        for n in sorted(notices, key=lambda n: (n.file, n.line or 0, n.record or 0))
    ]
