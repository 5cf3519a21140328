"""Frigate's own face recognition (0.16+): its `frigate/tracked_object_update` MQTT messages.

Frigate publishes a face-recognition update after each recognition attempt on a tracked `person`
(`{"type": "face", "id": <tracked object id>, "name": <best match or null>, "score": <weighted
average>, "camera": ..., "timestamp": <epoch seconds>}`). Each such message is one attempt to
identify a face seen on camera against the faces Frigate was trained with: one 1:N
identification event, whether or not it found a name. Captured one message per line
(`mosquitto_sub -t 'frigate/tracked_object_update'`), or as `{"topic": ..., "payload": {...}}`
lines. Other update types (license plates, descriptions, classification) are counted and left.

The principal is `frigate` (the message does not say who runs it: map it in principals.toml
with `name = "frigate"`); the camera, whether a name was found and the score are attributes.
"""

from __future__ import annotations

from typing import Any

from auditor.core.errors import InputIssue
from auditor.core.models import Event, OperationKind, Principal
from auditor.core.timefmt import epoch
from auditor.sources.base import FileResult, ReadJob
from auditor.sources.jsondoc import RecordSource

NAME = "frigate"
PRINCIPAL = "frigate"


class FrigateSource(RecordSource):
    """See `Source.read`."""

    name = NAME

    def record(
        self, job: ReadJob, obj: Any, line: int | None, index: int | None, result: FileResult
    ) -> None:
        """See `RecordSource.record`: one MQTT message (or its `{topic, payload}` wrapper)."""
        if isinstance(obj, dict) and isinstance(obj.get("payload"), dict):
            obj = obj["payload"]
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            result.issues.append(
                InputIssue(
                    result.path,
                    "not a Frigate tracked-object update (no type)",
                    line=line,
                    record=index,
                )
            )
            return
        result.records += 1
        if obj["type"] != "face":
            return
        camera, raw_time = obj.get("camera"), obj.get("timestamp")
        if not isinstance(camera, str) or not camera:
            result.records -= 1
            result.issues.append(
                InputIssue(result.path, "missing field camera", line=line, record=index)
            )
            return
        try:
            if not isinstance(raw_time, int | float):  # Frigate writes numbers, never text
                raise ValueError(raw_time)
            when = epoch(raw_time)
        except ValueError:
            result.records -= 1
            result.issues.append(
                InputIssue(
                    result.path, f"missing or bad timestamp: {raw_time!r}", line=line, record=index
                )
            )
            return
        score = obj.get("score")
        attrs = {
            "camera": camera,
            "match_count": "1" if obj.get("name") else "0",
            "best_score": f"{float(score):.3f}" if isinstance(score, int | float) else None,
            "tracked_object_id": obj.get("id") if isinstance(obj.get("id"), str) else None,
        }
        result.events.append(
            Event(
                source=NAME,
                file=result.path,
                time=when,
                service="frigate",
                operation="face_recognition",
                kind=OperationKind.IDENTIFICATION_1TON,
                principal=Principal(id=PRINCIPAL),
                record=index,
                line=line,
                attributes=tuple(sorted((k, v) for k, v in attrs.items() if v is not None)),
            )
        )


SOURCE = FrigateSource()
