"""The year of RFC 3164 syslog times, which carry none (`May 11 17:29:26 host app[1]: ...`).

Classic syslog files (rsyslog's default `RSYSLOG_TraditionalFileFormat`, which Debian and Ubuntu
write to /var/log/syslog) give month, day and time only. A face call in such a line is still a
face call, so it is dated, never dropped, in this order:

1. `[[sources]] glob = "..."  syslog_year = 2024` in audit.toml, when the auditor knows it;
2. the file's modification time, as log indexers do (Splunk dates year-less events by the
   file's modification time): the line was written before the file was last changed, so a
   date later than that (by more than a day) is of the year before, as across New Year.

Each event dated this way says so (attributes `syslog_year` and `syslog_year_from`), and an
evidence archive pins the year it used (`[[sources]] syslog_year` in its sparse bundle), so
`verify` dates the published lines the same way. The clock is the bundle's `timezone`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from auditor.config.bundlefs import open_fs
from auditor.core.timefmt import parse_time
from auditor.sources.base import ReadJob

#: Where a year came from (the `syslog_year_from` attribute).
FROM_SETTINGS = "audit.toml"
FROM_MTIME = "file modification time"


@dataclass(frozen=True)
class Year:
    """How one file's year-less times are dated: a fixed year, or one below `modified`."""

    fixed: int | None
    modified: datetime | None

    @classmethod
    def for_file(cls, job: ReadJob) -> Year:
        """The declared year of `job`'s file, else its modification time (None if unknown):
        the file's on disk, an object's `LastModified` in object storage."""
        fixed = job.settings.syslog_year_for(job.path)
        if fixed is not None:
            return cls(fixed, None)
        return cls(None, open_fs(job.root).modified(job.path))

    def date(self, text: str, tz: str) -> tuple[datetime, tuple[tuple[str, str], ...]] | None:
        """(time, attributes that say how it was dated) for `May 11 17:29:26`; None when
        neither a year nor the file's time is known, or the text is no date (`Feb 30`)."""
        clock = " ".join(text.split())  # `May  1` pads the day with a space
        year = (
            self.fixed if self.fixed is not None else self.modified.year if self.modified else None
        )
        if year is None:
            return None
        when = _parse(f"{year} {clock}", tz)
        if self.fixed is None and self.modified is not None:
            if when is None or when > self.modified + timedelta(days=1):
                year -= 1
                when = _parse(f"{year} {clock}", tz)
        if when is None:
            return None
        source = FROM_SETTINGS if self.fixed is not None else FROM_MTIME
        return when, (("syslog_year", str(year)), ("syslog_year_from", source))


def _parse(text: str, tz: str) -> datetime | None:
    try:
        return parse_time(text, tz, "%Y %b %d %H:%M:%S")
    except (ValueError, TypeError, OverflowError):
        return None
