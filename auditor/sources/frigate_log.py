"""Frigate's own log: the face-recognition lines of Frigate 0.16 and later.

Frigate logs with Python `logging` as `[YYYY-MM-DD HH:MM:SS] <logger padded to 30> <LEVEL padded
to 8>: <message>` (frigate/log.py); its container output puts s6's own time in front
(`2025-05-01 10:00:00.123456789  [2025-05-01 10:00:00] frigate.app ...`). The real-time face
processor (`frigate.data_processing.real_time.face`) logs at DEBUG, for each face it classifies
on a tracked person, `Detected best face for person as: <name> with probability <score>`, the
name `unknown` when the score is under `unknown_score` (development builds before 0.16 added `and
overall face score <s>`, as `frigate.postprocessing.face_processor` or
`frigate.embeddings.maintainer`). Each such line is one 1:N identification
(a face seen on camera searched against Frigate's face library); it names neither the camera nor
the tracked object, so neither is an attribute. `Face recognizer returned no result for <id>`
is a recognition that ran and gave nothing back: a failed identification (`no_result`) with
the tracked object's id. Other lines are counted and left; a line of that
logger that starts like a result but cannot be read is an error at its line.

The principal is `frigate` (map it with `name = "frigate"`), as for its MQTT updates. Times are
Frigate's own (local, read in the bundle's `timezone`).
"""

from __future__ import annotations

import re
from datetime import datetime

from auditor.core.models import OperationKind
from auditor.sources import applog
from auditor.sources.base import FileResult, ReadJob

_FMT = "%Y-%m-%d %H:%M:%S"
NAME = "frigate_log"
PRINCIPAL = "frigate"
_LINE = re.compile(
    r"^(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+\s+)?\[(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\] "
    r"(?P<logger>\S+) +(?P<level>[A-Z]+) *: (?P<msg>.*)$"
)
#: The face processor's logger in 0.16 and in the development builds before it.
_FACE_LOGGERS = (
    "frigate.data_processing.real_time.face",
    "frigate.postprocessing.face_processor",
    "frigate.embeddings.maintainer",
)
_BEST = re.compile(
    r"^Detected best face for person as: (?P<name>.+?) with probability (?P<score>[0-9.eE+-]+)"
    r"(?: and overall face score [0-9.eE+-]+)?$"
)
#: The recogniser ran and gave nothing back (face.py: `Face recognizer returned no result for
#: {id}`): an attempt, counted as a failed identification.
_NO_RESULT = re.compile(r"^Face recognizer returned no result for (?P<id>\S+)$")
_S6 = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+\s+\[")
_LOOKS_LIKE = re.compile(r"^(?:\S+ \S+\s+)?\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] frigate\.")


class FrigateLogSource(applog.LineSource):
    """See `Source.read`."""

    name = NAME

    def consume(self, job: ReadJob, result: FileResult) -> applog.LineConsumer:
        """See `applog.LineSource.consume`."""
        while (item := (yield)) is not None:
            lineno, text, outer = item
            m = _LINE.match(text)
            if m is None:
                if _LOOKS_LIKE.match(text):
                    applog.issue(result, "Frigate log line not in the logger's layout", lineno)
                elif _S6.match(text):
                    result.records += 1  # a service line of the container (`[INFO] ...`)
                continue  # tracebacks and other continuation lines
            result.records += 1
            msg = m.group("msg")
            if m.group("logger") in _FACE_LOGGERS and (nores := _NO_RESULT.match(msg)):
                self._no_result(job, m, nores.group("id"), lineno, result)
                continue
            if m.group("logger") not in _FACE_LOGGERS or not msg.startswith("Detected best face"):
                continue
            best = _BEST.match(msg)
            try:
                if best is None:
                    raise ValueError("no name and probability")
                score = float(best.group("score"))
                when = applog.local_time(m.group("time"), _FMT, job.settings.timezone)
            except ValueError as exc:
                applog.issue(result, f"unreadable Frigate face result: {exc}", lineno)
                continue
            name = best.group("name")
            _identification(
                result,
                when,
                lineno,
                {
                    "match_count": 0 if name == "unknown" else 1,
                    "matched_names": None if name == "unknown" else name,
                    "best_score": f"{score:.3f}",
                },
            )

    def _no_result(
        self, job: ReadJob, m: re.Match[str], event_id: str, lineno: int, result: FileResult
    ) -> None:
        try:
            when = applog.local_time(m.group("time"), _FMT, job.settings.timezone)
        except ValueError as exc:
            applog.issue(result, f"unreadable Frigate face result: {exc}", lineno)
            return
        _identification(result, when, lineno, {"match_count": 0}, "failed", "no_result", event_id)


def _identification(
    result: FileResult,
    when: datetime,
    lineno: int,
    attrs: dict[str, object],
    outcome: str = "succeeded",
    error_code: str | None = None,
    event_id: str | None = None,
) -> None:
    """One 1:N identification by Frigate's face processor."""
    applog.face_event(
        result,
        source=NAME,
        when=when,
        service="frigate",
        operation="face_recognition",
        kind=OperationKind.IDENTIFICATION_1TON,
        principal=PRINCIPAL,
        line=lineno,
        outcome=outcome,
        error_code=error_code,
        event_id=event_id,
        attrs=attrs,
    )


SOURCE = FrigateLogSource()
