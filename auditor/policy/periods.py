"""Whether an event falls inside a pack's and a rule's periods, on the jurisdiction's calendar.

`auditor.policy.zones` says which zone an event's dates are read in; this module applies it to
the periods of packs, rules and exceptions, and says when a multi-zone pack had to guess.
"""

from __future__ import annotations

from datetime import datetime

from auditor.core.models import Event
from auditor.policy.duties import value_of
from auditor.policy.pack import Pack, Rule, Window
from auditor.policy.zones import Placed, event_zone, wall


def placed(pack: Pack, event: Event) -> Placed:
    """The zone the pack's dates are read in for this event (docs/packs.md, local dates)."""
    return event_zone(pack.timezone, pack.zones, event, value_of)


def inside_window(window: Window, when: datetime, name: str) -> bool:
    """Is `when` inside `window`, read on the calendar of its own zone or else `name`?"""
    return window.contains(wall(when, window.timezone or name))


def in_window(pack: Pack, rule: Rule, event: Event, name: str | None = None) -> bool:
    """Is the event inside both the pack's and the rule's effective period (until exclusive),
    read on the calendar of zone `name` (default: the event's zone for this pack)?"""
    zone_name = name or placed(pack, event).name
    return inside_window(pack.window, event.time, zone_name) and inside_window(
        rule.window, event.time, zone_name
    )


def window_verdict(pack: Pack, rule: Rule, event: Event) -> tuple[bool, str, str]:
    """(inside, the zone used, a note when the zone was a guess that matters).

    When a multi-zone pack cannot place the event and the zones of its jurisdiction disagree
    on whether the event is inside the period, the default zone decides a finding and the note
    says so; an event the default zone puts outside but another zone inside is returned as
    inside with a note starting `undecided:` so the engine reports it as cannot decide.
    """
    where = placed(pack, event)
    inside = in_window(pack, rule, event, where.name)
    if not where.alternatives or rule.window.timezone:
        return inside, where.name, ""
    others = [z for z in where.alternatives if in_window(pack, rule, event, z) != inside]
    if not others:
        return inside, where.name, ""
    if inside:
        return (
            True,
            where.name,
            f"dates read in {where.name}, {where.source}: the event names no timezone or "
            f"place, and in {', '.join(others)} it falls outside the period",
        )
    return (
        True,
        where.name,
        f"undecided:the event names no timezone or place: outside the period in {where.name} "
        f"({where.source}), inside it in {', '.join(others)}",
    )
