"""Local effective dates: a pack's from/until are days of its jurisdiction's calendar.

A law that takes effect on 1 July takes effect at midnight where it applies: a Virginia search
at 23:30 EDT on 30 June is judged under the old law although it is 03:30 UTC on 1 July. Every
pack names its zone (`[pack.jurisdiction] timezone`); a rule or exception may name its own in
its `effective` table. A jurisdiction with several zones (the EU, Texas) maps places to zones
(`[pack.jurisdiction.zones]`, keyed by locality, ISO 3166-2 region or country code); the event's
own `timezone` field (from the log or the principal's entry in principals.toml) wins over all.

Dates are compared on the wall clock: the event's UTC time is moved into the zone and its
local date and time compared with the bound's midnight. The zone data is the IANA database
through `zoneinfo`, with the `tzdata` package where the system has none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from auditor.core.models import Event


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """The IANA zone `name` (raises ValueError for an unknown name)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {name!r} (e.g. America/New_York)") from None


def valid_zone(name: str) -> bool:
    """Is `name` an IANA zone this machine knows?"""
    try:
        zone(name)
    except ValueError:
        return False
    return True


def wall(when: datetime, name: str) -> datetime:
    """`when` as the wall-clock time in zone `name`, labelled UTC so it compares with the
    midnight bounds the loader builds from TOML dates."""
    return when.astimezone(zone(name)).replace(tzinfo=UTC)


@lru_cache(maxsize=64)
def _table(zones: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return {key.casefold(): name for key, name in zones}


@lru_cache(maxsize=64)
def _others(zones: tuple[tuple[str, str], ...], default: str) -> tuple[str, ...]:
    return tuple(sorted({name for _, name in zones} - {default}))


@dataclass(frozen=True)
class Placed:
    """The zone an event's dates are judged in, and where that zone came from."""

    name: str
    source: str
    #: Other zones of the jurisdiction the event may be in (the zone came from the pack's
    #: default while the pack maps places to zones and the event names none of them).
    alternatives: tuple[str, ...] = ()


def event_zone(
    default: str,
    zones: tuple[tuple[str, str], ...],
    event: Event,
    get: Callable[[Event, str], str | None],
) -> Placed:
    """The zone of `event` for a pack whose default zone is `default` and whose place map is
    `zones`: the event's `timezone` field, else its locality, region or country in the map,
    else the default (with the map's other zones as alternatives)."""
    own = get(event, "timezone")
    if own and valid_zone(own):
        return Placed(own, "the event's timezone")
    if zones:
        table = _table(zones)
        region = get(event, "region")
        country = get(event, "country") or (
            region.split("-", 1)[0] if region and "-" in region else None
        )
        for field_name, value in (
            ("locality", get(event, "locality")),
            ("region", region),
            ("country", country),
        ):
            if value and value.casefold() in table:
                return Placed(table[value.casefold()], f"the event's {field_name} {value}")
        return Placed(default, "the pack's zone", _others(zones, default))
    return Placed(default, "the pack's zone")
