"""ZoneMinder's machine-learning hooks: the face results of zm_detect / mlapi (pyzm) in their logs.

pyzm's logger (pyzm/ZMLog.py) writes ZoneMinder's own file layout: `MM/DD/YY HH:MM:SS
<process>[<pid>] <DBGn|INF|WAR|ERR> <file>:<line> [<message>]` (the date is `strftime('%x')`,
month first in the C and US locales, which is how it is read here, or `YYYY-MM-DD` in ISO
locales); ZoneMinder's C++ daemons write `... zmc_m8[4128].INF-zm_monitor.cpp/2516 [...]`.
mlapi run in a terminal prints `DBG3 [zm_mlapi] [<message>]`, with no time; the syslog copy is
`Dec 19 20:20:55 <host> zm_detect.py[<pid>]: DBG2 [<process>] [<message>]`, without a year
unless rsyslog writes RFC 3339 times.

The dlib face recogniser (pyzm/ml/face_dlib.py) logs each result as `Face Dlib:Returning:
<boxes>, <names>, <confidences>` (`[[653, 562, 816, 725]], ['Brian'], [1]`, the name `unknown`
for a face that matched nobody): one 1:N identification per line, read with `ast.literal_eval`
on the name list alone. `Using model: face with <image>` before it names the image searched
(`/var/lib/zmeventnotification/images/16-snapshot.jpg`), a frame looked for under `frames/`.
The monitor comes from the process name (`zmesdetect_m16` is monitor 16). A call starts with the
banner `|---------- Dlib Face recognition (input image: 800w*450h) ----------|`; one that finds
no face encodings returns before any `Returning:` line, and is still one identification (no
faces, no match) at its banner's line.

mlapi serves its detections over HTTP (`POST /api/v1/detect/object?type=face`, mlapi.py's
`/detect/object` route with `type=face` for face recognition) through werkzeug, whose access
lines (`10.0.0.10 - - [11/May/2024 17:29:28] "POST /api/v1/detect/object?type=face HTTP/1.1"
200 -`) sit between pyzm's lines in mlapi's console: each face request is one 1:N
identification at the access line's time, a 4xx or 5xx status an attempt (`failed`).

A face result with no year (classic syslog) is an error at its line, one per result: no date is
invented. One with no time at all (mlapi's console outside any wrapper) is an event with no time
(`time_known = false`), "cannot decide" for every rule that covers it, with a notice at its
line. The principal is `zoneminder` (map it with `name = "zoneminder"`).
"""

from __future__ import annotations

import re
from datetime import datetime

from auditor.core.models import OperationKind
from auditor.core.timefmt import parse_time
from auditor.sources import applog
from auditor.sources.base import FileResult, ReadJob

NAME = "zoneminder"
PRINCIPAL = "zoneminder"
_LEVEL = r"(?P<level>DBG\d?|INF|WAR|ERR|FAT|PNC)"
_FILE = re.compile(
    r"^(?P<date>\d\d/\d\d/\d{2,4}|\d{4}-\d\d-\d\d) (?P<time>\d\d:\d\d:\d\d)(?:\.\d+)? "
    rf"(?P<proc>[\w.-]+)\[(?P<pid>\d+)\][ .]{_LEVEL}[ -](?P<where>\S+) \[(?P<msg>.*?)\]?\s*$"
)
_CONSOLE = re.compile(rf"^{_LEVEL} \[(?P<proc>[\w.-]+)\] \[(?P<msg>.*?)\]?\s*$")
#: pyzm's syslog copy: `Dec 19 20:20:55 host zm_detect.py[6549]: DBG2 [zmesdetect_m16] [...]`,
#: or with rsyslog's RFC 3339 time (`2020-12-19T20:20:55.123456+01:00 host ...`).
_SYSLOG = re.compile(
    r"^(?:(?P<iso>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))|"
    r"(?P<bsd>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)) \S+ [^\s\[:]+(?:\[(?P<pid>\d+)\])?: "
    rf"{_LEVEL} \[(?P<proc>[\w.-]+)\] \[(?P<msg>.*?)\]?\s*$"
)
_LOOKS_LIKE = re.compile(r"^(?:\d\d/\d\d/\d{2,4}|\d{4}-\d\d-\d\d) \d\d:\d\d:\d\d")
_RESULT = re.compile(
    r"^Face Dlib:Returning: (?P<boxes>\[.*\]), (?P<names>\[[^\[\]]*\]), (?P<conf>\[[^\[\]]*\])$"
)
_IMAGE = re.compile(r"^Using model: face with (?P<path>\S+)")
_MONITOR = re.compile(r"_m(\d+)$")
#: face_dlib.py's banner at the start of each recognition call; a call that finds no face
#: encodings returns before its `Face Dlib:Returning:` line.
_CALL = re.compile(r"^\|-+ Dlib Face recognition \(input image: [^)]*\) -+\|$")


#: werkzeug's access line for mlapi's detection route (werkzeug `log_request`).
_MLAPI_REQUEST = re.compile(
    r"^(?P<client>\S+) - - \[(?P<time>\d\d/[A-Z][a-z]{2}/\d{4} \d\d:\d\d:\d\d)\] "
    r'"(?P<method>[A-Z]+) (?P<path>/api/v1/detect/object)\?(?P<query>\S*) HTTP/[\d.]+" '
    r"(?P<status>\d{3}) "
)


def _mlapi_request(job: ReadJob, m: re.Match[str], lineno: int, result: FileResult) -> None:
    """One mlapi detection request; only `type=face` is face recognition."""
    if "type=face" not in m.group("query").split("&"):
        return
    try:
        when = applog.local_time(m.group("time"), "%d/%b/%Y %H:%M:%S", job.settings.timezone)
    except ValueError:
        applog.issue(result, f"bad time {m.group('time')!r} in an mlapi access line", lineno)
        return
    status = int(m.group("status"))
    applog.face_event(
        result,
        source=NAME,
        when=when,
        service="pyzm_mlapi",
        operation="detect_object_face",
        kind=OperationKind.IDENTIFICATION_1TON,
        principal=PRINCIPAL,
        line=lineno,
        outcome="failed" if status >= 400 else "succeeded",
        error_code=str(status) if status >= 400 else None,
        attrs={"http_status": status, "client": m.group("client")},
    )


class ZoneMinderSource(applog.LineSource):
    """See `Source.read`."""

    name = NAME

    def consume(self, job: ReadJob, result: FileResult) -> applog.LineConsumer:
        """See `applog.LineSource.consume`."""
        images: dict[str, tuple[str, int]] = {}
        # a started call without its result: its banner, line and wrapper time
        calls: dict[str, tuple[re.Match[str], int, datetime | None]] = {}
        while (item := (yield)) is not None:
            lineno, text, outer = item
            m = _FILE.match(text) or _CONSOLE.match(text) or _SYSLOG.match(text)
            if m is None and (request := _MLAPI_REQUEST.match(text)) is not None:
                result.records += 1
                _mlapi_request(job, request, lineno, result)
                continue
            if m is None:
                if _LOOKS_LIKE.match(text):
                    applog.issue(result, "ZoneMinder log line not in the logger's layout", lineno)
                continue  # blank lines, traceback lines inside a message
            result.records += 1
            msg, proc = m.group("msg"), m.group("proc")
            key = f"{proc}[{m.groupdict().get('pid')}]"
            if (image := _IMAGE.match(msg)) is not None:
                images[key] = (image.group("path"), lineno)
                continue
            if _CALL.match(msg):
                if key in calls:
                    _early_return(job, *calls.pop(key), result)
                calls[key] = (m, lineno, outer)
                continue
            if not msg.startswith("Face Dlib:Returning:"):
                continue
            calls.pop(key, None)
            self._result(job, m, msg, images.get(key), (lineno, outer), result)
        for started, lineno, outer in sorted(calls.values(), key=lambda c: c[1]):
            _early_return(job, started, lineno, outer, result)

    def _result(
        self,
        job: ReadJob,
        m: re.Match[str],
        msg: str,
        image: tuple[str, int] | None,
        at: tuple[int, datetime | None],
        result: FileResult,
    ) -> None:
        lineno, outer = at
        r = _RESULT.match(msg)
        try:
            if r is None:
                raise ValueError("not boxes, names and confidences")
            found = applog.literal(r.group("names"))
            if not isinstance(found, list):
                raise ValueError("the names are not a list")
        except ValueError as exc:
            applog.issue(result, f"unreadable ZoneMinder face result: {exc}", lineno)
            return
        _emit(job, m, (lineno, outer), result, [str(n) if n else "" for n in found], image)


def _early_return(
    job: ReadJob, m: re.Match[str], lineno: int, outer: datetime | None, result: FileResult
) -> None:
    """A recognition call that started (its banner) and returned before any result line: it
    ran on the image and found no face to match, still one 1:N identification."""
    _emit(job, m, (lineno, outer), result, [], None)


def _emit(
    job: ReadJob,
    m: re.Match[str],
    at: tuple[int, datetime | None],
    result: FileResult,
    names: list[str],
    image: tuple[str, int] | None,
) -> None:
    """One identification at line `at[0]`: the names the call returned (`unknown` matched
    nobody) and the image the process named last, if any; `at[1]` is the wrapper's time."""
    lineno, outer = at
    try:
        when = _time(m, job.settings.timezone, outer)
    except ValueError as exc:
        applog.issue(result, str(exc), lineno)
        return
    proc = m.group("proc")
    monitor = _MONITOR.search(proc)
    matched = [n for n in names if n and n != "unknown"]
    applog.face_event(
        result,
        source=NAME,
        when=when,
        service="pyzm_face_dlib",
        operation="face_recognition",
        kind=OperationKind.IDENTIFICATION_1TON,
        principal=PRINCIPAL,
        line=lineno,
        frames=applog.snapshot_frames(job, [image[0]] if image else [], result, lineno),
        attrs={
            "monitor": monitor.group(1) if monitor else None,
            "process": proc,
            "faces": len(names),
            "match_count": len(matched),
            "matched_names": applog.names(matched),
            applog.RECORD_LINES: applog.record_lines(lineno, [image[1]] if image else []),
        },
    )


def _time(m: re.Match[str], tz: str, outer: datetime | None) -> datetime | None:
    """The line's time, else the wrapper's (`outer`: journald, a syslog header with a year),
    None for a console line outside any wrapper; ValueError (the issue's text) for a bad time or
    one without a year."""
    if m.re is _CONSOLE:
        return outer
    if m.re is _SYSLOG:
        if m.group("iso"):
            return parse_time(m.group("iso"))
        raise ValueError(
            "ZoneMinder face result in a syslog line, whose time has no year: not read as an "
            "event (use the hook's own log file, or rsyslog's RFC 3339 times)"
        )
    try:
        return _file_time(m.group("date"), m.group("time"), tz)
    except ValueError:
        raise ValueError("bad time in ZoneMinder log line") from None


def _file_time(date: str, clock: str, tz: str) -> datetime:
    if "-" in date:
        fmt = "%Y-%m-%d %H:%M:%S"
    else:
        fmt = "%m/%d/%Y %H:%M:%S" if len(date) == 10 else "%m/%d/%y %H:%M:%S"
    return applog.local_time(f"{date} {clock}", fmt, tz)


SOURCE = ZoneMinderSource()
