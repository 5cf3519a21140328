"""The one time parser (`auditor.core.timefmt`): its rules, at the edges where verdicts change
(zones, DST, the ends of the UTC range, epoch numbers), and that it is the only one: no other
module turns log text or epoch numbers into datetimes on its own."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditor.core import timefmt

PACKAGE = Path(timefmt.__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("text", "tz", "want"),
    [
        ("2020-06-10T00:00:00Z", "UTC", "2020-06-10T00:00:00+00:00"),
        ("2020-06-10T00:00:00z", "UTC", "2020-06-10T00:00:00+00:00"),
        ("2020-06-10T02:00:00+02:00", "UTC", "2020-06-10T00:00:00+00:00"),
        # a naive time is wall-clock time in the bundle's zone: here, the day before in UTC
        ("2020-06-10T00:30:00", "America/Los_Angeles", "2020-06-10T07:30:00+00:00"),
        ("2020-06-10T00:30:00", "Europe/Berlin", "2020-06-09T22:30:00+00:00"),
        # the hour that does not exist on the day clocks go forward (fold 0: the offset before)
        ("2021-03-28T02:30:00", "Europe/Berlin", "2021-03-28T01:30:00+00:00"),
        ("2020-06-10", "UTC", "2020-06-10T00:00:00+00:00"),
    ],
)
def test_iso_text(text: str, tz: str, want: str) -> None:
    assert timefmt.parse_time(text, tz).isoformat() == want


def test_a_format_and_its_zone() -> None:
    when = timefmt.parse_time("14/Mar/2023 09:02:51", "Europe/London", "%d/%b/%Y %H:%M:%S")
    assert when == datetime(2023, 3, 14, 9, 2, 51, tzinfo=UTC)  # GMT in March


@pytest.mark.parametrize(
    "value", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+01:00", "", "yesterday", 17, None]
)
def test_what_is_not_a_utc_time_is_a_value_error(value: object) -> None:
    with pytest.raises(ValueError):
        timefmt.parse_time(value)


def test_epoch_seconds() -> None:
    assert timefmt.epoch(1773479000.5) == datetime(2026, 3, 14, 9, 3, 20, 500000, tzinfo=UTC)
    assert timefmt.epoch("1773479000") == timefmt.epoch(1773479000)
    for bad in (True, 1e300, "soon", None):
        with pytest.raises(ValueError):
            timefmt.epoch(bad)


def test_informative_times_are_none_when_unreadable() -> None:
    assert timefmt.when_or_none("2020-06-10T00:00:00") == datetime(2020, 6, 10, tzinfo=UTC)
    assert timefmt.when_or_none(0) == datetime(1970, 1, 1, tzinfo=UTC)
    assert timefmt.when_or_none(datetime(2020, 6, 10)) == datetime(2020, 6, 10, tzinfo=UTC)
    for bad in ("", "nope", True, 1e300, object()):
        assert timefmt.when_or_none(bad) is None


#: Calls that turn text or numbers into datetimes. Each other use must say here why it is not
#: a log time: the owner of the rules is `core.timefmt`.
_PARSING = re.compile(r"\b(?:datetime|date)\.(?:fromisoformat|fromtimestamp|strptime)\(")
_ALLOWED = {
    # a local file's modification time, from the OS (a float it made, never log text)
    "config/bundlefs.py": 1,
    # a baseline's `expires` is a calendar date, not a time of day
    "config/baseline.py": 1,
    # the date and clock of a line are parsed to be combined, then read by parse_time
    "sources/codeproject_ai.py": 2,
}


def test_no_other_module_parses_times() -> None:
    found: dict[str, int] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "core/timefmt.py":
            continue
        count = len(_PARSING.findall(path.read_text()))
        if count:
            found[rel] = count
    assert found == _ALLOWED
