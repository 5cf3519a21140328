"""The time a free-text line gives, in the spellings logs use, as text `parse_time` reads.

A line of unknown format has no time field, but most loggers start a line with one: ISO-8601
and RFC 3339 (`2023-03-14T09:02:51.123456789Z`, Python logging's `2023-03-14 09:02:51,123`),
the access-log time (`[14/Mar/2023:09:02:51 +0000]`), DeepFace's `23-03-14 09:02:51`. The
first one found counts; a line without one gives None.
"""

from __future__ import annotations

import re

_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?"
    r"\s?(Z|z|UTC\b|[+-]\d{2}:?\d{2}\b)?"
)
_CLF = re.compile(r"\[(\d{2})/(\w{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})\]")
_SHORT = re.compile(r"^(\d{2})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\b")
_MONTHS = {
    m: f"{i:02d}"
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}


def line_time(text: str) -> str | None:
    """The first time in `text` as ISO-8601 text (naive when the line gives no zone)."""
    m = _ISO.search(text, 0, 400)
    if m is not None:
        y, mo, d, hh, mm, ss, frac, zone = m.groups()
        out = f"{y}-{mo}-{d}T{hh}:{mm}:{ss}"
        if frac:
            out += "." + frac[:6].ljust(6, "0")
        if zone:
            out += "+00:00" if zone in ("Z", "z", "UTC") else zone
        return out
    m = _CLF.search(text, 0, 400)
    if m is not None:
        d, mon, y, hh, mm, ss, zone = m.groups()
        month = _MONTHS.get(mon.lower())
        return f"{y}-{month}-{d}T{hh}:{mm}:{ss}{zone}" if month else None
    m = _SHORT.match(text)
    if m is not None:
        y, mo, d, hh, mm, ss = m.groups()
        return f"20{y}-{mo}-{d}T{hh}:{mm}:{ss}"
    return None
