"""The policy engine: events and packs in, findings out. Pure: no I/O, no database, no clock.

Keeping it pure is what lets an NGO re-run an audit and get the same findings, and lets tests
check each rule against hand-written events without any files.

For every event, pack and rule: does the rule cover the event (operation kind, principal
category, service)? Is the event inside the pack's and the rule's periods? Do the territorial
and context filters, modality and purposes match? Where the event lacks a field one of those
tests or the rule's `needs` requires, the engine cannot decide and says so (`undecided`): it
never passes such an event in silence. Then exceptions (whose required evidence must be in
the event), then the verdict: a prohibit rule is broken by the event itself; a require or
notify rule by each duty the event does not meet (`auditor.policy.duties`).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from auditor.core.models import Event, Finding, OperationKind, utc_text
from auditor.policy.duties import LINKED_KINDS, EventIndex, check, norm, value_of
from auditor.policy.pack import (
    Duty,
    Pack,
    Rule,
    RuleException,
    organisation_matches,
    weakest,
)
from auditor.policy.periods import inside_window, window_verdict
from auditor.policy.template import render as render_template


@dataclass(frozen=True)
class Undecided:
    """A rule that may apply to an event but cannot be decided: the event lacks fields."""

    pack: str
    rule: str
    event: Event
    missing: tuple[str, ...]
    reason: str = ""


@dataclass(frozen=True)
class Evaluation:
    """The engine's answer: findings, events an exception excused, and what it cannot decide."""

    findings: tuple[Finding, ...]
    excused: tuple[tuple[str, str, str, Event], ...] = ()  # (pack, rule, exception id, event)
    undecided: tuple[Undecided, ...] = ()


def fingerprint(pack: str, rule: str, event: Event) -> str:
    """A finding id that stays the same across runs over the same record."""
    key = "|".join(
        [
            pack,
            rule,
            event.file,
            str(event.record),
            str(event.line),
            event.event_id or "",
            event.time.isoformat(),
            event.operation,
        ]
    )
    return hashlib.sha256(key.encode()).hexdigest()[:20]


def unknown_principal(rule: Rule, event: Event) -> bool:
    """Does the rule bind a category or organisation that this event's principal has none of?

    A principal that matched no `[[principal]]` entry (category `unknown`) and acts for no
    known organisation cannot be judged by such a rule: it is reported as cannot decide, never
    passed (docs/packs.md, unknown principals).
    """
    binds = "any" not in rule.principals or bool(rule.organisations)
    return (
        binds
        and event.principal.category == "unknown"
        and acting_for(event) is None
        and value_of(event, "on_behalf_of") is None
    )


def covers(rule: Rule, event: Event, anyone: bool = False) -> bool:
    """Does the rule speak about this event at all (operation kind, principal, service)?

    `anyone`: leave out the principal tests (for an unknown principal, see
    `unknown_principal`)."""
    if event.kind not in rule.operations:
        return False
    if "any" not in rule.services and event.service not in rule.services:
        return False
    if anyone:
        return rule.include_attempts or not event.attempted_only
    if (
        "any" not in rule.principals
        and event.principal.category not in rule.principals
        and (acting_for(event) not in rule.principals)
    ):
        return False
    if rule.organisations and not any(
        organisation_matches(rule.organisations, org)
        for org in (event.principal.organisation, value_of(event, "on_behalf_of"))
        if org
    ):
        return False
    return rule.include_attempts or not event.attempted_only


def acting_for(event: Event) -> str | None:
    """The category of the organisation the principal acts for (`on_behalf_of_category`).

    A rule that binds a category binds those acting for it too: a contractor running searches
    for a police department is held to the police department's rules (docs/packs.md).
    """
    value = value_of(event, "on_behalf_of_category")
    return norm(value) if value is not None else None


def context_value(event: Event, name: str) -> str | None:
    """A context field; `country` falls back to the prefix of an ISO 3166-2 `region`."""
    value = value_of(event, name)
    if value is None and name == "country":
        region = value_of(event, "region")
        if region and "-" in region:
            return region.split("-", 1)[0]
    return value


@lru_cache(maxsize=4096)
def accepted_set(values: tuple[str, ...]) -> frozenset[str]:
    """The normalised form of a filter's accepted values (packs are frozen: cache it)."""
    return frozenset(norm(v) for v in values)


def conditions(pack: Pack, rule: Rule, event: Event) -> tuple[bool, tuple[str, ...]]:
    """(applies, missing fields): territory, context, modality and purposes of the rule."""
    tests: list[tuple[str, tuple[str, ...]]] = [*pack.jurisdiction, *rule.context]
    if "any" not in rule.modality:
        tests.append(("modality", rule.modality))
    if rule.purposes:
        tests.append(("purpose", rule.purposes))
    missing: list[str] = []
    for name, accepted in tests:
        value = context_value(event, name)
        if value is None:
            if name not in missing:
                missing.append(name)
        elif norm(value) not in accepted_set(accepted):
            return False, ()
    missing += [n for n in rule.needs if value_of(event, n) is None and n not in missing]
    return True, tuple(missing)


def exception_applies(exc: RuleException, event: Event, zone_name: str = "UTC") -> bool:
    """All conditions the exception names must hold, including the evidence it requires.

    Its period is read in its own zone, else `zone_name` (the event's zone for the pack)."""
    if not inside_window(exc.window, event.time, zone_name):
        return False
    if exc.organisations and norm(event.principal.organisation) not in {
        norm(o) for o in exc.organisations
    }:
        return False
    if exc.principals and event.principal.category not in exc.principals:
        return False
    if exc.on_behalf_of and acting_for(event) not in exc.on_behalf_of:
        return False
    if exc.purposes:
        purpose = event.attr("purpose")
        if purpose is None or norm(purpose) not in {norm(p) for p in exc.purposes}:
            return False
    return all(value_of(event, name) for name in exc.required_evidence)


def _render(template: str, pack: Pack, rule: Rule, event: Event) -> str:
    """Fill a pack's title/message template by plain substitution (never str.format on input)."""
    values = {
        "principal": event.principal.id,
        "organisation": event.principal.organisation,
        "category": event.principal.category,
        "operation": event.operation,
        "service": event.service,
        "kind": event.kind.value,
        "time": utc_text(event.time),
        "outcome": event.outcome,
        "pack": pack.id,
        "rule": rule.id,
    }
    return render_template(template, values)


def _finding(
    pack: Pack,
    rule: Rule,
    event: Event,
    duty: Duty | None = None,
    reason: str = "",
    related: tuple[Event, ...] = (),
    note: str = "",
) -> Finding:
    message = _render(rule.message, pack, rule, event)
    if "any" not in rule.principals and event.principal.category not in rule.principals:
        message += (
            f" (acting for {event.attr('on_behalf_of') or 'an organisation'}, {acting_for(event)})"
        )
    if reason:
        message += f" [{duty.type if duty else rule.kind}: {reason}]"
    if event.attempted_only:
        message += f" (attempt: the call failed with {event.error_code or 'an error'})"
    if note:
        message += f" ({note})"
    place = event.attr("place_from")
    if place and pack.jurisdiction:
        message += f" (place: {place})"
    # A date reported by secondary sources only (S) does not weaken a finding well inside the
    # period; an unverified date (U) does, since the whole period may be wrong.
    marks = [rule.confidence, *("U" for w in (pack.window, rule.window) if w.confidence == "U")]
    if duty is not None:
        marks.append(duty.confidence)
    key = rule.id if duty is None else f"{rule.id}/{duty.type}"
    return Finding(
        id=fingerprint(pack.id, key, event),
        pack=pack.id,
        pack_version=pack.version,
        rule=rule.id,
        severity=rule.severity,
        title=_render(rule.title, pack, rule, event),
        message=message,
        events=(event, *related),
        attempt=event.attempted_only,
        confidence=weakest(*marks),
    )


def judge(
    pack: Pack,
    rule: Rule,
    event: Event,
    index: EventIndex,
    out: tuple[list[Finding], list[tuple[str, str, str, Event]], list[Undecided]],
) -> None:
    """Apply one rule to one event, appending to (findings, excused, undecided)."""
    findings, excused, undecided = out
    unknown = unknown_principal(rule, event)
    if not covers(rule, event, anyone=unknown):
        return
    if event.untimed:
        reason = "the log gives no time for this call, so no period of the rule can place it"
        undecided.append(Undecided(pack.id, rule.id, event, ("time",), reason))
        return
    inside, zone_name, zone_note = window_verdict(pack, rule, event)
    if not inside:
        return
    applies, missing = conditions(pack, rule, event)
    if not applies:
        return
    exc = next((e for e in rule.exceptions if exception_applies(e, event, zone_name)), None)
    if exc is not None:
        excused.append((pack.id, rule.id, exc.id, event))
        return
    if unknown:
        who = event.principal.id
        undecided.append(
            Undecided(
                pack.id,
                rule.id,
                event,
                ("principal",),
                f"unknown principal {who}: no [[principal]] entry in principals.toml matches it",
            )
        )
        return
    if missing:
        undecided.append(
            Undecided(pack.id, rule.id, event, missing, f"the event has no {', '.join(missing)}")
        )
        return
    if zone_note.startswith("undecided:"):
        undecided.append(Undecided(pack.id, rule.id, event, ("timezone",), zone_note[10:]))
        return
    if rule.kind == "prohibit" or (rule.kind == "notify" and not rule.duties):
        findings.append(_finding(pack, rule, event, note=zone_note))
        return
    for duty in rule.duties:
        outcome = check(event, duty, index)
        if outcome.ok:
            continue
        if outcome.undecided:
            undecided.append(Undecided(pack.id, rule.id, event, outcome.missing, outcome.reason))
        else:
            findings.append(
                _finding(pack, rule, event, duty, outcome.reason, outcome.related, zone_note)
            )


class Evaluator:
    """The engine fed one event at a time, for audits too large to hold every event.

    Most rules judge an event alone, so an event is judged as soon as it is read (`judge`).
    Rules with a linking duty (authorisation within PT24H, a public post before a footage
    request, reviews by two people) look at other events, including ones logged later than the
    judged event. For those the caller first feeds every event to `remember`, which keeps only
    events of the kinds such duties look up (authorisation, public post, human review), keyed by
    the linking fields the packs name; events for which `must_wait` is true are judged once all
    events were remembered. The bound is therefore one index entry per linked-kind event and
    linking field value, never one per face operation. Where the waiting events are kept (memory
    or a spill file) is the caller's business: the engine stays pure.
    """

    def __init__(self, packs: Sequence[Pack]) -> None:
        self.by_kind: dict[OperationKind, list[tuple[Pack, Rule]]] = defaultdict(list)
        fields: set[str] = set()
        self.linked_kinds: set[OperationKind] | None = set()  # None: every kind
        self.waiting_kinds: set[OperationKind] = set()
        for pack in packs:
            for rule in pack.rules:
                for kind in dict.fromkeys(rule.operations):
                    self.by_kind[kind].append((pack, rule))
                for duty in rule.duties:
                    if not duty.link:
                        continue
                    fields.update(spec.partition(":")[0] for spec in duty.link)
                    self.waiting_kinds.update(rule.operations)
                    target = LINKED_KINDS.get(duty.type)
                    if target is None or self.linked_kinds is None:
                        self.linked_kinds = None
                    else:
                        self.linked_kinds.add(target)
        self.index = EventIndex(fields=sorted(fields))

    def remember(self, event: Event) -> None:
        """Keep what linking duties may look up about this event (nothing for most events)."""
        if self.linked_kinds is None or event.kind in self.linked_kinds:
            self.index.add(event)

    def must_wait(self, event: Event) -> bool:
        """True when a rule that may cover the event links it to other events."""
        return event.kind in self.waiting_kinds

    def judge(
        self, event: Event
    ) -> tuple[list[Finding], list[tuple[str, str, str, Event]], list[Undecided]]:
        """Every rule against one event: (findings, excused, undecided), unsorted."""
        out: tuple[list[Finding], list[tuple[str, str, str, Event]], list[Undecided]] = ([], [], [])
        for pack, rule in self.by_kind.get(event.kind, ()):
            judge(pack, rule, event, self.index, out)
        return out


def undecided_key(u: Undecided) -> tuple[str, str, int, int, str, str]:
    """Deterministic order of undecided entries: the event's place, then pack and rule."""
    return (
        u.event.time.isoformat(),
        u.event.file,
        u.event.record or -1,
        u.event.line or -1,
        u.pack,
        u.rule,
    )


def evaluate(events: Iterable[Event], packs: Sequence[Pack]) -> Evaluation:
    """Judge every event against every rule of every pack; results sorted deterministically."""
    evaluator = Evaluator(packs)
    kept = list(events)
    for event in kept:
        evaluator.remember(event)
    findings: list[Finding] = []
    excused: list[tuple[str, str, str, Event]] = []
    undecided: list[Undecided] = []
    for event in kept:
        found, exc, und = evaluator.judge(event)
        findings += found
        excused += exc
        undecided += und
    findings.sort(key=lambda f: f.sort_key)
    undecided.sort(key=undecided_key)
    return Evaluation(tuple(findings), tuple(excused), tuple(undecided))
