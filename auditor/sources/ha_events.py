"""Home Assistant's events as JSON: what its event listener and its WebSocket API show.

Users who audit a Home Assistant face integration (dlib_face_identify, deepstack_face,
microsoft_face_identify, compreface and the other `ImageProcessingFaceEntity` platforms) copy
events from Developer Tools > Events ("Listen to events": each event a pretty-printed document
`{"event_type", "data", "origin", "time_fired", "context"}`, concatenated) or record them from
the WebSocket API (`subscribe_events`: `{"id": 18, "type": "event", "event": {...}}`, one
message per line, between the protocol's own `auth_required`, `auth_ok` and `result` messages,
which are counted and left; developers.home-assistant.io/docs/api/websocket). The face events
mean what they mean in the log (`home_assistant`): an `image_processing.detect_face` with a
`name` (`unknown` when it matched nobody) is a 1:N identification, without one a face detection;
a `<domain>.teach_face` event is an enrolment. Other events are counted and left; a face event
whose time or entity cannot be read is an error at the line its document starts on. `time_fired`
carries its own offset.
"""

from __future__ import annotations

import re
from typing import Any

from auditor.core.errors import InputIssue
from auditor.core.timefmt import parse_time
from auditor.sources import home_assistant
from auditor.sources.base import FileResult, ReadJob
from auditor.sources.jsondoc import RecordSource

NAME = "ha_events"
_TEACH = re.compile(r"^\w+\.teach_face$")


#: the WebSocket API's own messages around the events (auth, command results, pongs)
_PROTOCOL = frozenset({"auth_required", "auth_ok", "auth_invalid", "result", "pong"})


def is_event(obj: dict[str, Any]) -> bool:
    """True for a Home Assistant event document, a WebSocket message that carries one, or the
    `auth_required` greeting a WebSocket capture starts with."""
    if obj.get("type") in ("auth_required", "auth_ok") and "ha_version" in obj:
        return True
    inner = obj.get("event") if obj.get("type") == "event" else obj
    return isinstance(inner, dict) and "event_type" in inner and "time_fired" in inner


class HomeAssistantEventsSource(RecordSource):
    """See `Source.read`."""

    name = NAME

    def record(
        self, job: ReadJob, obj: Any, line: int | None, index: int | None, result: FileResult
    ) -> None:
        """See `RecordSource.record`: one event, or one message of the WebSocket protocol."""
        if isinstance(obj, dict) and isinstance(obj.get("type"), str) and obj["type"] in _PROTOCOL:
            result.records += 1
            return  # the protocol around the events: counted and left
        if (
            isinstance(obj, dict)
            and obj.get("type") == "event"
            and isinstance(obj.get("event"), dict)
        ):
            obj = obj["event"]
        if not isinstance(obj, dict) or not isinstance(obj.get("event_type"), str):
            _issue(result, "not a Home Assistant event (no event_type)", line, index)
            return
        result.records += 1
        kind_name: str = obj["event_type"]
        if kind_name != home_assistant.DETECT and not _TEACH.match(kind_name):
            return  # another event: counted and left
        data = obj.get("data")
        if not isinstance(data, dict):
            _issue(result, f"{kind_name} event without data", line, index)
            return
        if kind_name == home_assistant.DETECT and not data.get("entity_id"):
            _issue(result, "face event without an entity_id", line, index)
            return
        try:
            when = parse_time(obj.get("time_fired"), job.settings.timezone)
        except ValueError:
            _issue(result, f"{kind_name} event with a bad time_fired", line, index)
            return
        texts = {k: str(v) for k, v in data.items() if isinstance(v, (str, int, float))}
        context = obj.get("context")
        event_id = context.get("id") if isinstance(context, dict) else None
        home_assistant.emit(
            kind_name,
            texts,
            when,
            line,
            result,
            source=NAME,
            event_id=event_id if isinstance(event_id, str) else None,
        )


def _issue(result: FileResult, message: str, line: int | None, index: int | None) -> None:
    result.issues.append(InputIssue(result.path, message, line=line, record=index))


SOURCE = HomeAssistantEventsSource()
