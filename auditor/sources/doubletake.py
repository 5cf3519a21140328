"""Double Take results: the JSON it publishes over MQTT for each recognised Frigate event.

Double Take (in front of Frigate, calling CompreFace, DeepStack, CodeProject.AI, Facebox or
Rekognition) publishes `double-take/matches/<name>` (one `match`) and `double-take/cameras/<camera>`
(`matches`, `misses`, `unknowns`, `counts`) payloads. Captured one per line (`mosquitto_sub -t
'double-take/#'` writes each payload as a line; `{"topic": ..., "payload": {...}}` wrappers, as
MQTT bridges write them, are accepted too), each Double Take event id is one 1:N identification:
a camera face searched against the trained gallery. The matches and cameras topics repeat the
same event, so a repeated id is counted as a record but not as a second search.

Its own log (`messages.log`, container output) is read by `doubletake_log`.
The principal is `double-take` (the payload does not say who runs it; map it in principals.toml
with `name = "double-take"`); the camera, zones, detector and best confidence are attributes.
"""

from __future__ import annotations

from typing import Any

from auditor.core.errors import InputIssue
from auditor.core.models import Event, Notice, OperationKind, Principal
from auditor.core.timefmt import parse_time
from auditor.sources.base import FileResult, ReadJob
from auditor.sources.jsondoc import RecordSource

NAME = "doubletake"
PRINCIPAL = "double-take"


class DoubleTakeSource(RecordSource):
    """See `Source.read`."""

    name = NAME

    def read_record(
        self,
        job: ReadJob,
        rec: Any,
        line: int | None,
        index: int | None,
        result: FileResult,
        state: dict[str, Any],
    ) -> None:
        """See `RecordSource.read_record`: the Double Take ids already read in this file live in
        `state` (the matches and cameras topics repeat an event: one search, not two)."""
        _payload(job, rec, result, line, index, state.setdefault("seen", set()))


def _payload(
    job: ReadJob,
    obj: Any,
    result: FileResult,
    line: int | None,
    index: int | None,
    seen: set[str],
) -> None:
    """One captured message: a Double Take result, its error, or another product's message.

    What the message is (its topic, its keys) is settled here; a result goes on to `_search`."""
    topic, whole = None, obj
    if isinstance(obj, dict) and isinstance(obj.get("payload"), dict):
        topic, obj = obj.get("topic"), obj["payload"]
    if not isinstance(obj, dict):
        result.issues.append(
            InputIssue(result.path, "payload is not a JSON object", line=line, record=index)
        )
        return
    if isinstance(topic, str) and not topic.startswith(
        ("double-take/matches", "double-take/cameras")
    ):
        # another product's message in the same capture (Frigate's face updates) is read by
        # its source; Double Take's other topics and Frigate's events carry no recognition
        if not _hand_back(job, whole, result, line, index, quiet=topic.startswith(_IRRELEVANT)):
            if topic.startswith(_IRRELEVANT):
                result.records += 1
        return
    if set(obj) == {"message"} and isinstance(obj["message"], str):
        # a `double-take/errors` payload captured without its topic: a detector's failure
        # inside an event whose result is read elsewhere; shown, not an unreadable record
        result.records += 1
        note = f"Double Take error: {obj['message'][:200]}"
        result.notices.append(Notice(result.path, note, record=index, line=line))
        return
    results = _results(obj)
    if results is not None:
        _search(job, obj, results, result, line, index, seen)
    elif not _hand_back(job, whole, result, line, index, quiet=True):
        result.issues.append(
            InputIssue(
                result.path,
                "not a Double Take result (no match or matches)",
                line=line,
                record=index,
            )
        )


def _results(obj: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The detectors' results of a payload: its `match` (matches topic) or its `matches`,
    `misses` and `unknowns` (cameras topic); None when it has neither key."""
    if "match" in obj:
        return [obj["match"]] if isinstance(obj["match"], dict) else []
    if "matches" in obj:
        return [
            r
            for key in ("matches", "misses", "unknowns")
            if isinstance(obj.get(key), list)
            for r in obj[key]
            if isinstance(r, dict)
        ]
    return None


def _search(
    job: ReadJob,
    obj: dict[str, Any],
    results: list[dict[str, Any]],
    result: FileResult,
    line: int | None,
    index: int | None,
    seen: set[str],
) -> None:
    """A Double Take result: one 1:N search, unless its id was read already in this file."""
    camera = obj.get("camera")
    if not isinstance(camera, str) or not camera:
        result.issues.append(
            InputIssue(result.path, "missing field camera", line=line, record=index)
        )
        return
    raw_time = obj.get("timestamp") or obj.get("time")
    try:
        when = _time(raw_time, job.settings.timezone)
    except (ValueError, TypeError):
        result.issues.append(
            InputIssue(
                result.path, f"missing or bad timestamp: {raw_time!r}", line=line, record=index
            )
        )
        return
    result.records += 1
    dt_id = obj.get("id")
    if isinstance(dt_id, str):
        if dt_id in seen:
            return
        seen.add(dt_id)
    matched = [r for r in results if r.get("match") is not False]
    confidences = [
        float(r["confidence"]) for r in results if isinstance(r.get("confidence"), int | float)
    ]
    detectors = sorted({str(r["detector"]) for r in results if r.get("detector")})
    attrs = {
        "camera": camera,
        "zones": ",".join(map(str, zones)) if isinstance(zones := obj.get("zones"), list) else None,
        "attempts": obj.get("attempts"),
        "detector": ",".join(detectors),
        "match_count": len(matched) if "matches" in obj or "match" in obj else None,
        "best_confidence": f"{max(confidences):.2f}" if confidences else None,
    }
    result.events.append(
        Event(
            source=NAME,
            file=result.path,
            time=when,
            service=detectors[0] if len(detectors) == 1 else "double_take",
            operation="recognize",
            kind=OperationKind.IDENTIFICATION_1TON,
            principal=Principal(id=PRINCIPAL),
            record=index,
            line=line,
            event_id=dt_id if isinstance(dt_id, str) else None,
            attributes=tuple(
                sorted((k, str(v)) for k, v in attrs.items() if v is not None and v != "")
            ),
        )
    )


def _time(value: Any, tz: str) -> Any:
    """ISO-8601 `timestamp`, or the older `time` text (`03/05/2021 02:58:57 AM`)."""
    if isinstance(value, str) and "/" in value and "M" in value[-2:]:
        return parse_time(value, tz, "%m/%d/%Y %I:%M:%S %p")
    return parse_time(value, tz)


#: Topics of a capture known to carry no recognition: Double Take's errors and person counts,
#: Frigate's events and stats (Double Take's input), Home Assistant's discovery messages.
_IRRELEVANT = ("double-take/", "frigate/", "homeassistant/")


def _hand_back(
    job: ReadJob,
    rec: Any,
    result: FileResult,
    line: int | None,
    index: int | None,
    quiet: bool = False,
) -> bool:
    """Read a record of another source found in a Double Take capture with that source (a
    `mosquitto_sub -t '#'` capture holds Frigate's messages too); no source swallows another's
    records. Without one: an error at its record (unless `quiet`: the caller reports it)."""
    from auditor.sources import SOURCES
    from auditor.sources.detect import json_kind

    name = json_kind(rec) if isinstance(rec, dict) else None
    source = SOURCES.get(name) if name not in (None, NAME) else None
    if source is not None and hasattr(source, "read_record"):
        source.read_record(job, rec, line, index, result, {})
        return True
    if not quiet:
        topic = rec.get("topic") if isinstance(rec, dict) else None
        message = f"a message of topic {topic!r} that no source reads, in a Double Take capture"
        result.issues.append(InputIssue(result.path, message, line=line, record=index))
    return False


SOURCE = DoubleTakeSource()
