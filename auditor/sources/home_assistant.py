"""Home Assistant's log: the `image_processing.detect_face` events of its face integrations.

`home-assistant.log` lines are `YYYY-MM-DD HH:MM:SS.mmm LEVEL (thread) [logger] message` (local
time). With `logger: logs: homeassistant.core: debug` the event bus logs every event it handles
as `Bus:Handling <Event image_processing.detect_face[L]: name=Jane, confidence=98.5,
entity_id=image_processing.dlib_face_front_door>` (the event's data as `key=value` pairs,
`homeassistant/util/__init__.py` `repr_helper`). The face entities (dlib_face_identify,
microsoft_face_identify, deepstack_face, compreface and other `ImageProcessingFaceEntity`
platforms) fire one `image_processing.detect_face` per face found: with a `name` (`unknown` when
it matched nobody) it is a 1:N identification, without one (a detect-only platform) a face
detection. HASS-Deepstack-face's `deepstack_teach_face` service logs `Depstack face taught name :
<name>` (and newer releases fire `deepstack_face.teach_face`): an enrolment. Other events and
lines are counted and left; a face event whose data cannot be read is an error at its line.

State attributes (`faces`, `total_faces`, `matched_faces`) repeat what the events say and are
not read, so one face is never two events. The principal is `home-assistant` (map it with
`name = "home-assistant"`); the entity id is an attribute.
"""

from __future__ import annotations

import re
from datetime import datetime

from auditor.core.models import OperationKind
from auditor.sources import applog
from auditor.sources.base import FileResult, ReadJob

_FMT = "%Y-%m-%d %H:%M:%S"
NAME = "home_assistant"
PRINCIPAL = "home-assistant"
_LINE = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.\d+)? "
    r"(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL) \((?P<thread>[^)]*)\) "
    r"\[(?P<logger>[^\]]+)\] (?P<msg>.*)$"
)
_LOOKS_LIKE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? [A-Z]+ \(")
_EVENT = re.compile(r"^Bus:Handling <Event (?P<type>[\w.]+)\[[LR]\]: ?(?P<data>.*)>$")
_PAIR_SPLIT = re.compile(r", (?=[a-z_][a-z0-9_]*=)")
DETECT = "image_processing.detect_face"
_TEACH = re.compile(r"^\w+\.teach_face$")
_TAUGHT = re.compile(r"^Depstack face taught name : (?P<name>.+)$")


class HomeAssistantSource(applog.LineSource):
    """See `Source.read`."""

    name = NAME

    def consume(self, job: ReadJob, result: FileResult) -> applog.LineConsumer:
        """See `applog.LineSource.consume`."""
        while (item := (yield)) is not None:
            lineno, text, outer = item
            m = _LINE.match(text)
            if m is None:
                if _LOOKS_LIKE.match(text):
                    applog.issue(result, "Home Assistant log line not in its layout", lineno)
                continue  # tracebacks and other continuation lines
            result.records += 1
            found = _face_event(m.group("msg"))
            if found is None:
                continue
            if isinstance(found, str):
                applog.issue(result, found, lineno)
                continue
            kind_name, data = found
            try:
                when = applog.local_time(m.group("time"), _FMT, job.settings.timezone)
            except ValueError:
                applog.issue(result, "bad time in Home Assistant log line", lineno)
                continue
            emit(kind_name, data, when, lineno, result)


def emit(
    kind_name: str,
    data: dict[str, str],
    when: datetime,
    lineno: int | None,
    result: FileResult,
    *,
    source: str = NAME,
    event_id: str | None = None,
) -> None:
    """One face event of Home Assistant's bus (from its log, or its event JSON: `ha_events`)."""
    name = data.get("name")
    if kind_name == DETECT:
        kind = OperationKind.IDENTIFICATION_1TON if name else OperationKind.FACE_DETECTION
    else:
        kind = OperationKind.ENROLMENT
    identified = kind is OperationKind.IDENTIFICATION_1TON
    applog.face_event(
        result,
        source=source,
        when=when,
        service=kind_name.split(".", 1)[0],
        operation=kind_name,
        kind=kind,
        principal=PRINCIPAL,
        line=lineno,
        event_id=event_id,
        attrs={
            "entity_id": data.get("entity_id"),
            "match_count": (0 if name in (None, "unknown") else 1) if identified else None,
            "matched_names": name if identified and name != "unknown" else None,
            "subject": name if kind is OperationKind.ENROLMENT else None,
            "best_confidence": data.get("confidence"),
        },
    )


def _face_event(msg: str) -> tuple[str, dict[str, str]] | str | None:
    """(event type, data) of a face event's line, an error's text, or None for other lines."""
    if (taught := _TAUGHT.match(msg)) is not None:
        return "deepstack_face.teach_face", {"name": taught["name"]}
    if not msg.startswith("Bus:Handling <Event ") or (
        DETECT not in msg and "teach_face" not in msg
    ):
        return None
    event = _EVENT.match(msg)
    if event is None:
        return "unreadable Home Assistant face event"
    kind_name = event["type"]
    if kind_name != DETECT and not _TEACH.match(kind_name):
        return None  # another event that mentions one (a service call)
    data = _pairs(event["data"])
    if kind_name == DETECT and not data.get("entity_id"):
        return "face event without an entity_id"
    return kind_name, data


def _pairs(text: str) -> dict[str, str]:
    """`name=Jane, confidence=98.5, entity_id=x` -> a dict of the texts."""
    out: dict[str, str] = {}
    for part in _PAIR_SPLIT.split(text):
        key, sep, value = part.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


SOURCE = HomeAssistantSource()
