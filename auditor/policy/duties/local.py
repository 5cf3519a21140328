"""Duties that read the event alone: fields present, a requested window, a number in range,
two fields equal, consent before the capture, a retention no longer than allowed."""

from __future__ import annotations

from datetime import datetime

from auditor.core.models import Event
from auditor.policy.duties.base import (
    OK,
    DutyType,
    EventIndex,
    Outcome,
    norm,
    parse_when,
    value_of,
)
from auditor.policy.pack import Duty


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


class Fields(DutyType):
    name = "fields"
    params = {"fields": None}
    requires = "fields"
    doc = "every field in `fields` is present"

    def complete(self, duty: Duty) -> bool:
        return bool(duty.fields)

    def check(self, event: Event, duty: Duty, index: EventIndex) -> Outcome:
        return _fields(event, duty, index)

    def describe(self, duty: Duty) -> list[str]:
        return ["fields " + ", ".join(duty.fields)]


class MaxWindow(DutyType):
    name = "max_window"
    params = {"start_field": "window_start", "end_field": "window_end", "max": None, "min": None}
    requires = "max"
    doc = (
        "the requested window (`start_field` .. `end_field`) is at most `max` and at "
        'least `min`; a missing bound is "cannot decide"'
    )

    def complete(self, duty: Duty) -> bool:
        return duty.max is not None

    def check(self, event: Event, duty: Duty, index: EventIndex) -> Outcome:
        return _max_window(event, duty, index)

    def describe(self, duty: Duty) -> list[str]:
        out = [f"min {duty.min.text}"] if duty.min else []
        out += [f"max {duty.max.text}"] if duty.max else []
        return [*out, f"window {duty.start_field} .. {duty.end_field}"]


class NumberRange(DutyType):
    name = "number_range"
    params = {"field": None, "min": None, "max": None}
    requires = "field and min or max"
    doc = (
        "the number in `field` is at least `min` and at most `max` (either may be "
        "left out; Ring: `area_sq_mi` 0.025 .. 0.5); missing or not a number is "
        '"cannot decide"'
    )

    def complete(self, duty: Duty) -> bool:
        return bool(duty.field) and (duty.low is not None or duty.high is not None)

    def check(self, event: Event, duty: Duty, index: EventIndex) -> Outcome:
        return _number_range(event, duty, index)

    def describe(self, duty: Duty) -> list[str]:
        low = duty.low if duty.low is not None else "-inf"
        high = duty.high if duty.high is not None else "inf"
        return [f"{duty.field} in {low} .. {high}"]


class FieldEquals(DutyType):
    name = "field_equals"
    params = {"field": None, "other": None}
    requires = "field and other"
    doc = (
        "`field` equals `other` (Ring: `investigating_agency` = `organisation`); a "
        'missing one is "cannot decide"'
    )

    def complete(self, duty: Duty) -> bool:
        return bool(duty.field and duty.other)

    def check(self, event: Event, duty: Duty, index: EventIndex) -> Outcome:
        return _field_equals(event, duty, index)

    def describe(self, duty: Duty) -> list[str]:
        return [f"{duty.field} = {duty.other}"]


class PriorConsent(DutyType):
    name = "prior_consent"
    params = {"field": "consent_ref", "time_field": "consent_time"}
    doc = (
        "`field` (a written release) is present and `time_field`, when logged, is not "
        "after the capture"
    )

    def check(self, event: Event, duty: Duty, index: EventIndex) -> Outcome:
        return _prior_consent(event, duty, index)

    def describe(self, duty: Duty) -> list[str]:
        return [f"field {duty.field}"]


class Retention(DutyType):
    name = "retention"
    params = {"field": "retention_until", "max": None, "start_field": None, "end_field": None}
    requires = "max"
    doc = (
        "`field` (retention end) is no later than `start_field` plus `max` (no "
        "`start_field`: the capture plus `max`), and no later than `end_field` when "
        'that is logged. Missing `field` is "cannot decide"; a missing `start_field` '
        'is "cannot decide" only when the retention runs past the capture plus `max` '
        "(the clock never starts before the capture)"
    )

    def complete(self, duty: Duty) -> bool:
        return duty.max is not None

    def check(self, event: Event, duty: Duty, index: EventIndex) -> Outcome:
        return _retention(event, duty, index)

    def describe(self, duty: Duty) -> list[str]:
        out = [f"max {duty.max.text}"] if duty.max else []
        out.append(f"field {duty.field}")
        if duty.start_field:
            out.append(f"from {duty.start_field} (else the capture)")
        if duty.end_field:
            out.append(f"no later than {duty.end_field}")
        return out
