"""One time parser: every time the auditor reads (a log field, a store's timestamp, a report's
`time`) becomes an aware UTC datetime here, by the same rules.

The rules, which verdicts at date boundaries depend on:
* ISO-8601 text (`Z` or `z` for UTC, any offset) or text in a given `strptime` format;
* a time without a zone is wall-clock time in the bundle's zone (audit.toml `timezone`), or in
  UTC where no zone applies (a report, a store, a pack's field written as a date);
* epoch seconds, with a fraction, as numbers or digits;
* a time that has no UTC equivalent (`9999-12-31T23:59:59-23:59`) is a ValueError, as is
  anything that is not a time. Callers turn it into a located input error.

Before this module the same rules were written out in seven places (the sources, the duty
checks, the store, the charts, the object-store listing), each with its own edge cases.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=64)
def zone(name: str) -> tzinfo:
    """The zone `name` (IANA), UTC for "UTC"; KeyError-free callers check names at load."""
    return UTC if name == "UTC" else ZoneInfo(name)


def as_utc(value: datetime, tz: str = "UTC") -> datetime:
    """An aware datetime in UTC; a naive one is wall-clock time in `tz`."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=zone(tz))
    try:
        return aware.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 has no UTC time
        raise ValueError(f"time {value.isoformat()!r} is out of range in UTC") from None


def parse_time(value: object, tz: str = "UTC", fmt: str | None = None) -> datetime:
    """ISO-8601 (or `fmt`) text -> aware UTC datetime; naive times are in zone `tz`."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"bad time {value!r}")
    text = value.strip()
    if fmt:
        parsed = datetime.strptime(text, fmt)
    else:
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
    try:
        return as_utc(parsed, tz)
    except ValueError:  # 9999-12-31T23:59:59-23:59
        raise ValueError(f"time {value!r} is out of range in UTC") from None


def epoch(value: object) -> datetime:
    """Epoch seconds (an int, a float or their digits, with a fraction) -> aware UTC datetime."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"bad epoch time {value!r}")
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (OverflowError, OSError):  # OSError: outside the platform's time range
        raise ValueError(f"epoch time {value!r} is out of range") from None


def when_or_none(value: object) -> datetime | None:
    """A datetime, epoch seconds or ISO text in UTC (naive means UTC), or None when it is none
    of these: for times that only inform (a store's modification time, a chart's position)."""
    try:
        if isinstance(value, datetime):
            return as_utc(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return epoch(value)
        if isinstance(value, str) and value:
            return parse_time(value)
    except ValueError:
        return None
    return None
