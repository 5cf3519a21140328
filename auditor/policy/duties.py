"""Duties: what a `require` or `notify` rule demands of each event it covers.

Some duties read the event alone (fields present, a window at most 12 hours, consent before
capture); others link it to other events of the same audit (an authorisation within PT24H of
the use, a public post before a footage request, reviews by two distinct people). Links join
on field values (`link = ["case_ref"]`, or `theirs:ours` such as `reviewed_event:event_id`).
Every check answers ok, violated (with the reason and the related events) or undecided (with
the fields it lacked): a duty that cannot be checked is never silently passed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from auditor.core.models import Event, OperationKind
from auditor.policy.pack import Duty

_REFUSED = {"refused", "denied", "rejected", "refusal"}


@dataclass(frozen=True)
class Outcome:
    """The verdict of one duty on one event."""

    ok: bool
    reason: str = ""
    related: tuple[Event, ...] = ()
    missing: tuple[str, ...] = ()

    @property
    def undecided(self) -> bool:
        """True when the duty could not be checked for lack of fields."""
        return bool(self.missing)


OK = Outcome(True)


@lru_cache(maxsize=65536)
def norm(text: str) -> str:
    """Compare values loosely: case, spaces, `-` and `_` do not matter."""
    return "_".join(text.replace("-", " ").split()).casefold()


def value_of(event: Event, name: str) -> str | None:
    """An event field by name: event_id, organisation, principal, category or an attribute."""
    if name == "event_id":
        return event.event_id
    if name == "organisation":
        return event.principal.organisation
    if name == "principal":
        return event.principal.id
    if name == "category":
        return event.principal.category
    value = event.attr(name)
    return value if value not in (None, "") else None


def parse_when(text: str) -> datetime:
    """An ISO-8601 date or time from a log field, as UTC (naive means UTC)."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    when = datetime.fromisoformat(value)
    try:
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-23:59 has no UTC time
        raise ValueError(f"time {text!r} is out of range in UTC") from None


class EventIndex:
    """Events that duties link to, keyed by the linking field values the packs name.

    Built from a list (`EventIndex(events)`, every field available) or fed one event at a time
    (`EventIndex(fields=...)` then `add`), in which case only the named fields are indexed and
    no list of events is kept: memory is one entry per (indexed event, field value).
    """

    def __init__(self, events: Iterable[Event] = (), fields: Iterable[str] | None = None) -> None:
        self.events = list(events)
        self._by_field: dict[str, dict[str, list[Event]]] = {}
        self._fixed = fields is not None
        for name in fields or ():
            self._by_field[name] = defaultdict(list)

    def add(self, event: Event) -> None:
        """Index one event under every field named at construction (streaming form)."""
        for name, table in self._by_field.items():
            value = value_of(event, name)
            if value is not None:
                table[value].append(event)

    def __len__(self) -> int:
        """Indexed entries (an event counts once per field value it is indexed under)."""
        return sum(len(v) for table in self._by_field.values() for v in table.values())

    def _field(self, name: str) -> dict[str, list[Event]]:
        if name not in self._by_field:
            table: dict[str, list[Event]] = defaultdict(list)
            for e in self.events:
                value = value_of(e, name)
                if value is not None:
                    table[value].append(e)
            self._by_field[name] = table
        return self._by_field[name]

    def linked(self, event: Event, link: tuple[str, ...], kind: OperationKind) -> list[Event]:
        """Events of `kind` sharing a linking field value with `event` (no duplicates)."""
        out: list[Event] = []
        seen = {id(event)}  # identity, as before, but in O(1) per candidate rather than O(len(out))
        for spec in link:
            theirs, _, ours = spec.partition(":")
            value = value_of(event, ours or theirs)
            if value is None:
                continue
            for other in self._field(theirs).get(value, []):
                if other.kind is kind and id(other) not in seen:
                    seen.add(id(other))
                    out.append(other)
        return out


def _links(duty: Duty) -> str:
    return "/".join(spec.partition(":")[0] for spec in duty.link)


def truthy(value: str | None) -> bool:
    """A log's yes: `true`, `yes`, `1` (any case); absent or anything else is no."""
    return value is not None and norm(value) in ("true", "yes", "1")


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
    if any(r.kind == REFUSAL for r in records):
        return Outcome(False, f"the authorisation was refused before the use ({limit})", related)
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
        f"by {_links(duty)})",
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


def _public_post(event: Event, duty: Duty, index: EventIndex) -> Outcome:
    posts = [
        p for p in index.linked(event, duty.link, OperationKind.PUBLIC_POST) if p.time <= event.time
    ]
    if posts:
        return OK
    return Outcome(False, f"no public post linked by {_links(duty)} precedes the request")


def _human_review(event: Event, duty: Duty, index: EventIndex) -> Outcome:
    people = {
        norm(r) for r in (event.attr("reviewers") or "").replace(";", ",").split(",") if r.strip()
    }
    latest = duty.deadline.after(event.time) if duty.deadline else None
    reviews = [
        r
        for r in index.linked(event, duty.link, OperationKind.HUMAN_REVIEW)
        if latest is None or r.time <= latest
    ]
    people |= {norm(r.attr("reviewer") or r.principal.id) for r in reviews}
    if len(people) >= duty.min_reviewers:
        return OK
    return Outcome(
        False, f"{len(people)} distinct reviewer(s), {duty.min_reviewers} required", tuple(reviews)
    )


def _fields(event: Event, duty: Duty, index: EventIndex) -> Outcome:
    missing = [f for f in duty.fields if value_of(event, f) is None]
    if missing:
        return Outcome(False, f"missing {', '.join(missing)}")
    return OK


def _times(event: Event, *names: str) -> tuple[list[datetime], Outcome | None]:
    absent = tuple(n for n in names if value_of(event, n) is None)
    if absent:
        return [], Outcome(False, f"missing {', '.join(absent)}", missing=absent)
    try:
        return [parse_when(str(value_of(event, n))) for n in names], None
    except ValueError:
        return [], Outcome(False, f"unreadable {' or '.join(names)}", missing=names)


def _max_window(event: Event, duty: Duty, index: EventIndex) -> Outcome:
    times, bad = _times(event, duty.start_field, duty.end_field)
    if bad or duty.max is None:
        return bad or OK
    start, end = times
    if end > duty.max.after(start):
        hours = (end - start).total_seconds() / 3600
        return Outcome(False, f"the window covers {hours:g} h, more than {duty.max.text}")
    if duty.min is not None and end < duty.min.after(start):
        minutes = (end - start).total_seconds() / 60
        return Outcome(False, f"the window covers {minutes:g} min, less than {duty.min.text}")
    return OK


def _number_range(event: Event, duty: Duty, index: EventIndex) -> Outcome:
    raw = value_of(event, duty.field)
    if raw is None:
        return Outcome(False, f"missing {duty.field}", missing=(duty.field,))
    try:
        value = float(raw)
    except ValueError:
        return Outcome(
            False, f"unreadable {duty.field} {raw!r} (not a number)", missing=(duty.field,)
        )
    if duty.low is not None and value < duty.low:
        return Outcome(False, f"{duty.field} {value:g} is less than {duty.low:g}")
    if duty.high is not None and value > duty.high:
        return Outcome(False, f"{duty.field} {value:g} is more than {duty.high:g}")
    return OK


def _field_equals(event: Event, duty: Duty, index: EventIndex) -> Outcome:
    a, b = value_of(event, duty.field), value_of(event, duty.other)
    if a is None or b is None:
        absent = tuple(n for n, v in ((duty.field, a), (duty.other, b)) if v is None)
        return Outcome(False, f"missing {', '.join(absent)}", missing=absent)
    if norm(a) != norm(b):
        return Outcome(False, f"{duty.field} {a!r} is not {duty.other} {b!r}")
    return OK


def _prior_consent(event: Event, duty: Duty, index: EventIndex) -> Outcome:
    if value_of(event, duty.field) is None:
        return Outcome(False, f"no {duty.field}: no written release before capture")
    stamp = value_of(event, duty.time_field)
    if stamp is None:
        return OK
    try:
        if parse_when(stamp) > event.time:
            return Outcome(False, f"consent given at {stamp}, after the capture")
    except ValueError:
        return Outcome(False, f"unreadable {duty.time_field}", missing=(duty.time_field,))
    return OK


def _retention(event: Event, duty: Duty, index: EventIndex) -> Outcome:
    """Kept no longer than `max` from `start_field` (else the capture), nor past `end_field`.

    BIPA 15(a): destroy when the purpose is satisfied or 3 years after the individual's last
    interaction, whichever is first. The last interaction is never before the capture, so a
    retention within `max` of the capture is met without it; a longer one needs it to decide.
    """
    times, bad = _times(event, duty.field)
    if bad or duty.max is None:
        return bad or OK
    kept = times[0]
    if duty.end_field and value_of(event, duty.end_field) is not None:
        ended, bad = _times(event, duty.end_field)
        if bad:
            return bad
        if kept > ended[0]:
            return Outcome(
                False, f"kept until {kept:%Y-%m-%d}, after {duty.end_field} ({ended[0]:%Y-%m-%d})"
            )
    if not duty.start_field:
        if kept > duty.max.after(event.time):
            return Outcome(False, f"kept until {kept:%Y-%m-%d}, longer than {duty.max.text}")
        return OK
    if value_of(event, duty.start_field) is None:
        if kept <= duty.max.after(event.time):
            return OK
        return Outcome(
            False,
            f"kept until {kept:%Y-%m-%d}, more than {duty.max.text} after the "
            f"capture: {duty.start_field} is needed to decide",
            missing=(duty.start_field,),
        )
    start, bad = _times(event, duty.start_field)
    if bad:
        return bad
    clock = max(start[0], event.time)
    if kept > duty.max.after(clock):
        return Outcome(
            False,
            f"kept until {kept:%Y-%m-%d}, more than {duty.max.text} after "
            f"{duty.start_field} ({clock:%Y-%m-%d})",
        )
    return OK


CHECKS: dict[str, Callable[[Event, Duty, EventIndex], Outcome]] = {
    "authorisation": _authorisation,
    "stop_on_refusal": _stop_on_refusal,
    "public_post": _public_post,
    "human_review": _human_review,
    "fields": _fields,
    "max_window": _max_window,
    "field_equals": _field_equals,
    "prior_consent": _prior_consent,
    "retention": _retention,
    "number_range": _number_range,
}


#: The kind of event each linking duty looks up. A duty type missing here (a new one) makes the
#: streaming evaluator index events of every kind, so it stays correct, only less frugal.
LINKED_KINDS: dict[str, OperationKind] = {
    "authorisation": OperationKind.AUTHORISATION,
    "stop_on_refusal": OperationKind.AUTHORISATION,
    "public_post": OperationKind.PUBLIC_POST,
    "human_review": OperationKind.HUMAN_REVIEW,
}


def check(event: Event, duty: Duty, index: EventIndex) -> Outcome:
    """Apply one duty to one event."""
    return CHECKS[duty.type](event, duty, index)
