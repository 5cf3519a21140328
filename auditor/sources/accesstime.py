"""Access-log times: CLF, werkzeug, Gin, RFC 1123, ISO-8601, epoch seconds, parsed datetimes.

Each server writes its time its own way, and some (werkzeug, Gin) write local time with no zone:
those are in the bundle's `timezone` from audit.toml, as any naive time in a log is.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from auditor.core.timefmt import as_utc, epoch, parse_time

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_CLF_TIME = re.compile(
    r"(\d{1,2})/(\w{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.\d+)? ([+-])(\d{2})(\d{2})"
)
#: werkzeug's `log_date_time_string` (local time, no zone): `14/Mar/2023 09:02:51`
_WERKZEUG_TIME = re.compile(r"(\d{1,2})/(\w{3})/(\d{4}) (\d{2}):(\d{2}):(\d{2})")
#: Gin's `2006/01/02 - 15:04:05` (local time, no zone)
_GIN_TIME = re.compile(r"(\d{4})/(\d{2})/(\d{2}) - (\d{2}:\d{2}:\d{2})")


def access_time(value: Any, tz: str) -> datetime:
    """CLF time (`10/Oct/2000:13:55:36 -0700`), ISO-8601 text or epoch seconds -> UTC.

    Also werkzeug's and Gin's local times (in the bundle's zone), RFC 1123 (morgan's `:date`)
    and a parsed `datetime` (a `[[httplog]]` format; naive means the bundle's zone)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return epoch(value)
    if isinstance(value, datetime):
        return as_utc(value, tz)
    if isinstance(value, str):
        m = _CLF_TIME.fullmatch(value.strip())
        if m is None:
            return _other_time(value.strip(), tz)
        else:
            day, mon, year, hh, mm, ss, sign, oh, om = m.groups()
            offset = timedelta(hours=int(oh), minutes=int(om)) * (-1 if sign == "-" else 1)
            month = _MONTHS.get(mon.lower())
            if month is None:
                raise ValueError(f"bad month {mon!r}")
            return datetime(
                int(year), month, int(day), int(hh), int(mm), int(ss), tzinfo=timezone(offset)
            ).astimezone(UTC)
    return parse_time(value, tz)


def _other_time(text: str, tz: str) -> datetime:
    w = _WERKZEUG_TIME.fullmatch(text)
    if w:
        day, mon, year, hh, mm, ss = w.groups()
        month = _MONTHS.get(mon.lower())
        if month is None:
            raise ValueError(f"bad month {mon!r}")
        naive = datetime(int(year), month, int(day), int(hh), int(mm), int(ss))
        return access_time(naive, tz)
    g = _GIN_TIME.fullmatch(text)
    if g:
        return parse_time(f"{g[1]}-{g[2]}-{g[3]}T{g[4]}", tz)
    if text[:3].isalpha() and text[3:4] == ",":  # RFC 1123: `Tue, 14 Mar 2023 09:02:51 GMT`
        return parsedate_to_datetime(text).astimezone(UTC)
    return parse_time(text, tz)
