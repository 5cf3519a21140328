"""The policy engine: events and packs in, findings out. Pure: no I/O, no database, no clock.

Keeping it pure is what lets an NGO re-run an audit and get the same findings, and lets tests
check each rule against hand-written events without any files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from auditor.models import Event, Finding
from auditor.policy.pack import Pack, Rule, RuleException


@dataclass(frozen=True)
class Evaluation:
    """The engine's answer: findings, plus the events an exception excused (for the record)."""

    findings: tuple[Finding, ...]
    excused: tuple[tuple[str, str, str, Event], ...] = ()  # (pack, rule, exception id, event)


def _norm(text: str) -> str:
    return "_".join(text.replace("-", " ").split()).casefold()


def fingerprint(pack: str, rule: str, event: Event) -> str:
    """A finding id that stays the same across runs over the same record."""
    key = "|".join([pack, rule, event.file, str(event.record), str(event.line),
                    event.event_id or "", event.time.isoformat(), event.operation])
    return hashlib.sha256(key.encode()).hexdigest()[:20]


def in_window(pack: Pack, rule: Rule, event: Event) -> bool:
    """Is the event inside both the pack's and the rule's effective period (until exclusive)?"""
    start = rule.effective_from or pack.effective_from
    until = rule.effective_until or pack.effective_until
    return event.time >= start and (until is None or event.time < until)


def covers(rule: Rule, event: Event) -> bool:
    """Does the rule speak about this event at all (principal, service, operation, modality)?"""
    if event.kind not in rule.operations:
        return False
    if "any" not in rule.principals and event.principal.category not in rule.principals:
        return False
    if "any" not in rule.services and event.service not in rule.services:
        return False
    if rule.modality != "any" and _norm(event.attr("modality") or "") != rule.modality:
        return False
    return rule.include_attempts or not event.attempted_only


def exception_applies(exc: RuleException, event: Event) -> bool:
    """All conditions the exception names must hold, including the evidence it requires."""
    if exc.organisations:
        names = {_norm(o) for o in exc.organisations}
        if _norm(event.principal.organisation) not in names:
            return False
    if exc.purposes:
        purpose = event.attr("purpose")
        if purpose is None or _norm(purpose) not in {_norm(p) for p in exc.purposes}:
            return False
    return all(event.attr(field) for field in exc.required_evidence)


def _render(template: str, pack: Pack, rule: Rule, event: Event) -> str:
    values = {
        "principal": event.principal.id, "organisation": event.principal.organisation,
        "category": event.principal.category, "operation": event.operation,
        "service": event.service, "kind": event.kind.value,
        "time": event.time.strftime("%Y-%m-%dT%H:%M:%SZ"), "outcome": event.outcome,
        "pack": pack.id, "rule": rule.id,
    }
    return template.format_map(values)


def evaluate(events: Iterable[Event], packs: Sequence[Pack]) -> Evaluation:
    """Judge every event against every rule of every pack; findings sorted deterministically."""
    findings: list[Finding] = []
    excused: list[tuple[str, str, str, Event]] = []
    for event in events:
        for pack in packs:
            for rule in pack.rules:
                if rule.kind != "prohibit" or not covers(rule, event):
                    continue
                if not in_window(pack, rule, event):
                    continue
                exc = next((e for e in rule.exceptions if exception_applies(e, event)), None)
                if exc is not None:
                    excused.append((pack.id, rule.id, exc.id, event))
                    continue
                message = _render(rule.message, pack, rule, event)
                if event.attempted_only:
                    message += f" (attempt: the call failed with {event.error_code or 'an error'})"
                findings.append(Finding(
                    id=fingerprint(pack.id, rule.id, event), pack=pack.id,
                    pack_version=pack.version, rule=rule.id, severity=rule.severity,
                    title=_render(rule.title, pack, rule, event), message=message,
                    events=(event,), attempt=event.attempted_only, confidence=rule.confidence,
                ))
    findings.sort(key=lambda f: f.sort_key)
    return Evaluation(tuple(findings), tuple(excused))
