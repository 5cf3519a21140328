"""Authorisation duties: EU AI Act 5(3) (prior grant; a request within 24 h in urgency; a
refusal ends the use) and 26(10) (a request ex ante or within 48 h), and stop-on-refusal.

An authorisation is a record of its own (service `authority`) linked to the use by any `link`
field, or the use's own `authorisation_time` (a grant) and `authorisation_request_time` (a
request). Whether a record is a grant, a request or a refusal is read from its `decision` field
or its operation (`record_kind`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from auditor.core.models import Event, OperationKind
from auditor.policy.duties.base import (
    OK,
    DutyType,
    EventIndex,
    Outcome,
    links,
    norm,
    parse_when,
    truthy,
    value_of,
)
from auditor.policy.pack import Duty

_REFUSED = {"refused", "denied", "rejected", "refusal"}

#: Authorisation record kinds a duty may accept (`before_use`, `within_deadline`).
GRANT, REQUEST, REFUSAL = "grant", "request", "refusal"
RECORD_KINDS = (GRANT, REQUEST, REFUSAL)
_GRANTED = {"granted", "grant", "approved", "authorised", "authorized", "issued", "accepted"}
_REQUESTED = {"requested", "request", "pending", "submitted", "filed", "applied"}


def record_kind(e: Event) -> str | None:
    """Is an authorisation record a grant, a request or a refusal (None: it does not say)?

    The record's `decision` (or `authorisation_decision`) field decides; else its operation
    name (`AuthorisationRequest`, `AuthorisationGranted`, `AuthorisationRefused`, `Warrant`,
    `CourtOrder`); a failed call is a refusal. A `decision` of another value (conditional,
    deferred) says neither."""
    decision = norm(e.attr("decision") or e.attr("authorisation_decision") or "")
    if decision in _REFUSED:
        return REFUSAL
    if decision in _GRANTED:
        return GRANT
    if decision in _REQUESTED:
        return REQUEST
    if decision:
        return None  # a decision the auditor does not know (conditional, deferred): cannot say
    op = e.operation.lower()
    if any(w in op for w in ("refus", "denied", "deny", "reject")) or e.attempted_only:
        return REFUSAL
    if "request" in op or "application" in op:
        return REQUEST
    if any(w in op for w in ("grant", "approv", "warrant", "order")):
        return GRANT
    return None


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:g} h"


@dataclass(frozen=True)
class _Record:
    """An authorisation the duty weighs: its kind, time and where it came from."""

    kind: str | None
    time: datetime
    origin: str
    event: Event | None = None


def _records(event: Event, duty: Duty, index: EventIndex) -> tuple[list[_Record], Outcome | None]:
    """The event's own authorisation times and every linked authorisation record."""
    out: list[_Record] = []
    for name, kind in (("authorisation_time", GRANT), ("authorisation_request_time", REQUEST)):
        stamp = event.attr(name)
        if not stamp:
            continue
        try:
            out.append(_Record(kind, parse_when(stamp), f"field {name}"))
        except ValueError:
            return [], Outcome(False, f"unreadable {name} {stamp!r}", missing=(name,))
    for other in index.linked(event, duty.link, OperationKind.AUTHORISATION):
        ref = other.event_id or other.operation
        out.append(_Record(record_kind(other), other.time, f"record {ref}", other))
    return out, None


def _when(r: _Record) -> datetime:
    return r.time


def _authorisation(event: Event, duty: Duty, index: EventIndex) -> Outcome:
    """EU AI Act 5(3) and 26(10): which records count, and by when (docs/packs.md, duties).

    A record of a kind in `before_use` counts at or before the use; where `deadline` applies
    (no `deadline_if`, or that field true) a record of a kind in `within_deadline` counts up to
    the use plus `deadline`. With `refusal_ends`, a refusal logged at or before the use ends
    every earlier request or grant. A record linked by any `link` field counts alike; a record
    of the right kind that came too late is a violation that says how late.
    """
    urgent = not duty.deadline_if or truthy(value_of(event, duty.deadline_if))
    deadline = duty.deadline if duty.deadline and urgent else None
    latest = deadline.after(event.time) if deadline else event.time
    records, bad = _records(event, duty, index)
    if bad is not None:
        return bad
    if duty.refusal_ends:
        refused = [r.time for r in records if r.kind == REFUSAL and r.time <= event.time]
        if refused:
            last = max(refused)
            records = [r for r in records if r.kind == REFUSAL or r.time > last]
    for r in records:
        if r.kind in duty.before_use and r.time <= event.time:
            return OK
        if deadline and r.kind in duty.within_deadline and r.time <= latest:
            return OK
    related = tuple(r.event for r in records if r.event is not None)
    accepted = set(duty.before_use) | (set(duty.within_deadline) if deadline else set())
    unknown = [r for r in records if r.kind is None and r.time <= latest]
    if unknown:
        return Outcome(
            False,
            f"authorisation {unknown[0].origin} does not say whether it is a request, a grant "
            "or a refusal (field decision)",
            related,
            missing=("decision",),
        )
    limit = f"within {deadline.text} of the use" if deadline else "before the use"
    if duty.deadline and not deadline:
        limit += f" ({duty.deadline_if} is not true)"
    wanted = " or ".join(sorted(accepted))
    useful = set(duty.before_use) | set(duty.within_deadline)
    late = sorted((r for r in records if r.kind in useful and r.time > event.time), key=_when)
    prior = [r for r in records if r.kind in useful and r.time <= event.time]
    if late:
        first = late[0]
        text = f"the {first.kind} ({first.origin}) came {_hours(first.time - event.time)} after"
        text += " the use"
        if deadline:
            text += f", {_hours(first.time - latest)} past the {deadline.text} deadline"
        if prior:
            text += f"; before the use only a {prior[0].kind}"
        return Outcome(False, f"{text}: a {wanted} is needed {limit}", related)
    if prior:
        return Outcome(
            False,
            f"only a {prior[0].kind} ({prior[0].origin}): a {wanted} is needed {limit}",
            related,
        )
    refusals = sorted((r for r in records if r.kind == REFUSAL), key=_when)
    if refusals:
        at = refusals[-1]
        return Outcome(
            False,
            f"the authorisation was refused ({at.origin}, {at.time:%Y-%m-%dT%H:%M:%SZ}) before "
            f"the use, which ends it: a new {wanted} is needed {limit}",
            related,
        )
    ref = event.attr("authorisation_ref")
    if ref:
        return Outcome(
            False,
            f"authorisation_ref {ref!r} names no authorisation record in this audit and the "
            "event has no authorisation_time",
            missing=("authorisation_time",),
        )
    return Outcome(
        False,
        f"no {wanted} {limit} (field authorisation_time, or an authorisation record linked "
        f"by {links(duty)})",
    )


def _refused(e: Event) -> bool:
    return record_kind(e) == REFUSAL


def _stop_on_refusal(event: Event, duty: Duty, index: EventIndex) -> Outcome:
    own = norm(event.attr("authorisation_decision") or "")
    if own in _REFUSED:
        return Outcome(False, "the use continued although its authorisation was refused")
    refusals = [
        a
        for a in index.linked(event, duty.link, OperationKind.AUTHORISATION)
        if a.time <= event.time and _refused(a)
    ]
    if refusals:
        return Outcome(
            False,
            f"the use continued after the authorisation was refused at "
            f"{refusals[0].time:%Y-%m-%dT%H:%M:%SZ}",
            tuple(refusals),
        )
    return OK


_LINK = ("authorisation_ref", "case_ref")


class Authorisation(DutyType):
    name = "authorisation"
    params = {
        "deadline": None,
        "deadline_if": None,
        "before_use": ("grant",),
        "within_deadline": ("request", "grant"),
        "refusal_ends": False,
        "link": _LINK,
    }
    linked = OperationKind.AUTHORISATION
    doc = (
        "a record of a kind in `before_use` is at or before the use, or (where `deadline` "
        "applies: no `deadline_if`, or that field true) a record of a kind in `within_deadline` "
        "is no later than the use plus `deadline`. With `refusal_ends`, a refusal at or before "
        "the use voids earlier records. A request or grant that came too late is a violation "
        "that says how late (`the request (record a1) came 30 h after the use, 6 h past the "
        'PT24H deadline`); a linked record of unknown kind is "cannot decide" (field '
        "`decision`); an `authorisation_ref` that links no record and no `authorisation_time` "
        'is "cannot decide"'
    )

    def check(self, event: Event, duty: Duty, index: EventIndex) -> Outcome:
        return _authorisation(event, duty, index)

    def describe(self, duty: Duty) -> list[str]:
        out = [f"deadline {duty.deadline.text}"] if duty.deadline else []
        if duty.deadline_if:
            out.append(f"deadline only if {duty.deadline_if} is true, else before the use")
        out.append(f"before the use: {', '.join(duty.before_use) or 'nothing'}")
        if duty.deadline:
            out.append(f"within the deadline: {', '.join(duty.within_deadline) or 'nothing'}")
        if duty.refusal_ends:
            out.append("a refusal ends it")
        return [*out, "link " + ", ".join(duty.link)]


class StopOnRefusal(DutyType):
    name = "stop_on_refusal"
    params = {"link": _LINK}
    linked = OperationKind.AUTHORISATION
    doc = (
        "no linked refusal (`AuthorisationRefused`, or `decision = refused`) precedes the use, "
        "and the event's own `authorisation_decision` is not `refused`"
    )

    def check(self, event: Event, duty: Duty, index: EventIndex) -> Outcome:
        return _stop_on_refusal(event, duty, index)

    def describe(self, duty: Duty) -> list[str]:
        return ["link " + ", ".join(duty.link)]
