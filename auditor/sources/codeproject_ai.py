"""CodeProject.AI Server's log: the Face Processing module's commands as the server logs them.

When a module answers, the server logs `Response rec'd from <module> command '<command>' (#reqid
<id>) ['<message>']  took <n>ms` (src/server/Backend/QueueServices.cs). It reaches a person three
ways (src/server/Logging/ServerLogger.cs):

- the daily file `logs/log-YYYY-MM-DD.txt`: `YYYY-MM-DD HH:MM:SS: <message>` (local time);
- the dashboard's log pane, as users copy it: `HH:MM:SS:<message>`, the request id shortened to
  `(...107992)`;
- the console: `Infor <message>` (the first five letters of the level), no time at all.

Each Face Processing command is one event: `recognize` a 1:N identification, `register` an
enrolment, `match` a 1:1 verification (two images compared, as the DeepStack-compatible
`/v1/vision/face/match` route is in the route catalogue), `detect` a face detection, `list` and
`delete` gallery maintenance (`other`). Other modules' lines (object detection) are counted and
left.

The dashboard and console give no date, and none is invented: a face line there takes the date
of the latest dated line before it in the same file when its time of day is not earlier than
that line's, or a wrapper's time (`docker logs --timestamps`, journald). Otherwise it is still an
event, with no time (`time_known = false`, its clock kept as `logged_clock`), which every rule
that covers it reports as "cannot decide", with a notice at its line. Copy the server's
`log-YYYY-MM-DD.txt` files for a dated record.
The principal is `codeproject-ai` (map it with `name = "codeproject-ai"`).
"""

from __future__ import annotations

import re
from datetime import datetime

from auditor.core.models import OperationKind
from auditor.sources import applog
from auditor.sources.base import FileResult, ReadJob

NAME = "codeproject_ai"
PRINCIPAL = "codeproject-ai"
_FILE = re.compile(
    r"^(?P<date>\d{4}-\d\d-\d\d) (?P<time>\d\d:\d\d:\d\d)(?: \[[^\]]*\])?: ?(?P<msg>.*)$"
)
_FMT = "%Y-%m-%d %H:%M:%S"
_DASH = re.compile(r"^(?P<time>\d\d:\d\d:\d\d):(?P<msg>.*)$")
_CONSOLE = re.compile(r"^(?:Trace|Debug|Infor|Warni|Error|Criti) (?P<msg>.*)$")
_RESPONSE = re.compile(
    r"^Response rec'd from (?P<module>.+?)(?: command '(?P<cmd>[^']*)')? \((?P<req>[^)]*)\)"
    r"(?: \['(?P<message>.*?)'\])?\s*(?:took (?P<ms>\d+)ms)?"
)
_KINDS = {
    "recognize": OperationKind.IDENTIFICATION_1TON,
    "recognise": OperationKind.IDENTIFICATION_1TON,
    "register": OperationKind.ENROLMENT,
    "match": OperationKind.VERIFICATION_1TO1,
    "detect": OperationKind.FACE_DETECTION,
    "list": OperationKind.OTHER,
    "delete": OperationKind.OTHER,
}


class CodeProjectAISource(applog.LineSource):
    """See `Source.read`."""

    name = NAME

    def consume(self, job: ReadJob, result: FileResult) -> applog.LineConsumer:
        """See `applog.LineSource.consume`."""
        dated: tuple[datetime, int] | None = None  # the latest dated line: local time, line
        tz = job.settings.timezone
        while (item := (yield)) is not None:
            lineno, text, outer = item
            m = _FILE.match(text) or _DASH.match(text) or _CONSOLE.match(text)
            if m is None:
                continue  # a continuation line (a module's multi-line output)
            result.records += 1
            msg = m.group("msg").strip()
            when: datetime | None = None
            borrowed: list[int] = []
            if m.re is _FILE:
                try:
                    local = datetime.strptime(f"{m.group('date')} {m.group('time')}", _FMT)
                    when = applog.local_time(local.strftime(_FMT), _FMT, tz)
                except ValueError:
                    applog.issue(result, "bad time in CodeProject.AI log line", lineno)
                    continue
                dated = (local, lineno)
            if not msg.startswith("Response rec'd from "):
                continue
            r = _RESPONSE.match(msg)
            if r is None:
                applog.issue(result, "unreadable CodeProject.AI response line", lineno)
                continue
            if "face" not in r.group("module").lower():
                continue
            if r.group("cmd") is None:
                applog.issue(result, "Face Processing response without a command", lineno)
                continue
            if when is None and outer is not None:
                when = outer  # a console line: the wrapper's time (docker logs -t, journald)
            clock = m.group("time") if m.re is _DASH else None
            if when is None:
                when = _undated(m, dated, tz)
                borrowed = [dated[1]] if dated and when is not None else []
            self._event(r, when, lineno, result, borrowed, clock if when is None else None)

    def _event(
        self,
        r: re.Match[str],
        when: datetime | None,
        lineno: int,
        result: FileResult,
        day: list[int],
        clock: str | None,
    ) -> None:
        """One Face Processing call; `when` None for a line with no date anywhere before it (the
        dashboard prints the clock alone, kept as `logged_clock`: an event all the same)."""
        command = r.group("cmd")
        req = r.group("req").removeprefix("#reqid ").strip()
        applog.face_event(
            result,
            source=NAME,
            when=when,
            service="codeproject_ai",
            operation=f"face.{command}",
            kind=_KINDS.get(command, OperationKind.OTHER),
            principal=PRINCIPAL,
            line=lineno,
            event_id=req or None,
            attrs={
                "module": r.group("module"),
                "message": r.group("message"),
                "duration_ms": r.group("ms"),
                "logged_clock": clock,
                applog.RECORD_LINES: applog.record_lines(lineno, day),
            },
        )


def _undated(m: re.Match[str], dated: tuple[datetime, int] | None, tz: str) -> datetime | None:
    """The time of a dashboard line from the last dated line of the same day, else None."""
    if m.re is _DASH and dated is not None:
        try:
            clock = datetime.strptime(m.group("time"), "%H:%M:%S").time()
            candidate = datetime.combine(dated[0].date(), clock)
            if candidate >= dated[0]:
                return applog.local_time(candidate.strftime(_FMT), _FMT, tz)
        except ValueError:
            pass
    return None


SOURCE = CodeProjectAISource()
