"""Home Assistant state rows as users paste them: the last scan of a face entity.

Developer Tools > States copies a row as the entity id, a TAB, the state, a TAB and the
attributes as YAML that runs on over the following lines (the way HASS-Deepstack-face users
paste a `deepstack_face` entity into issue threads: `faces`, `total_faces`, `matched_faces`,
`last_detection`). Such a row is the only record some users have of what their face entity
did: its `last_detection` is the time of the last scan, which sent the frame to the recogniser
(DeepStack's `/v1/vision/face/recognize`): one 1:N identification, with the matched names and
the face count as attributes. One scan is one event, whatever the number of faces, so that the
per-face `prediction` blocks inside `faces` are never counted again.

Rows of other entities (no face attributes) are counted and left; a face entity's row without a
`last_detection` (it never saved a scan) gets a notice. A face row whose attributes are not YAML,
or whose `last_detection` cannot be read (deepstack_face writes `%Y-%m-%d_%H-%M-%S`, local time;
an ISO time is read too), is an error at its first line.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import yaml

from auditor.core.models import Notice, OperationKind
from auditor.core.timefmt import parse_time
from auditor.sources import applog
from auditor.sources.base import FileResult, ReadJob

NAME = "ha_states"
PRINCIPAL = "home-assistant"
#: `domain.object_id<TAB>state<TAB>first attribute line`
ROW = re.compile(r"^(?P<entity>[a-z_]+\.[a-z0-9_]+)\t(?P<state>[^\t]*)\t(?P<rest>.*)$")
_FACE_KEYS = ("faces", "matched_faces", "total_faces", "last_detection")
_DEEPSTACK_TIME = "%Y-%m-%d_%H-%M-%S"
#: a pasted row is a few dozen lines; a longer one is not a state row
_MAX_ROW_LINES = 5000


class HomeAssistantStatesSource(applog.LineSource):
    """See `Source.read`."""

    name = NAME

    def consume(self, job: ReadJob, result: FileResult) -> applog.LineConsumer:
        """See `applog.LineSource.consume`: gather a row's lines, read it at the next row."""
        row: list[tuple[int, str]] = []
        while (item := (yield)) is not None:
            lineno, text, _ = item
            if ROW.match(text) is None and row and len(row) < _MAX_ROW_LINES:
                row.append((lineno, text))
                continue
            if row:
                _row(job, row, result)
            row = [(lineno, text)] if ROW.match(text) else []
            if not row and text.strip():
                applog.issue(result, "not a Home Assistant state row", lineno)
        if row:
            _row(job, row, result)


def _row(job: ReadJob, row: list[tuple[int, str]], result: FileResult) -> None:
    lineno, first = row[0]
    m = ROW.match(first)
    assert m is not None  # consume starts rows only on a match
    result.records += 1
    text = "\n".join([m["rest"], *(t for _, t in row[1:])])
    try:
        attrs = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        at = getattr(getattr(exc, "problem_mark", None), "line", 0)
        line = row[min(at, len(row) - 1)][0]
        applog.issue(result, f"{m['entity']}: attributes are not YAML", line)
        return
    if not isinstance(attrs, dict) or not any(k in attrs for k in _FACE_KEYS):
        return  # another entity's row
    if attrs.get("last_detection") in (None, ""):
        result.notices.append(
            Notice(
                result.path,
                f"{m['entity']}: a face entity's row without last_detection shows no scan to count",
                line=lineno,
            )
        )
        return
    when = _scan_time(attrs.get("last_detection"), job.settings.timezone)
    if when is None:
        applog.issue(result, f"{m['entity']}: unreadable last_detection", lineno)
        return
    matched = attrs.get("matched_faces")
    names = sorted(str(k) for k in matched) if isinstance(matched, dict) else []
    applog.face_event(
        result,
        source=NAME,
        when=when,
        service=m["entity"].split(".", 1)[0],
        operation="scan",
        kind=OperationKind.IDENTIFICATION_1TON,
        principal=PRINCIPAL,
        line=lineno,
        attrs={
            "entity_id": m["entity"],
            "faces": _count(attrs.get("total_faces"), m["state"]),
            "match_count": len(names),
            "matched_names": applog.names(names),
            applog.RECORD_LINES: applog.record_lines(lineno, [n for n, _ in row]),
        },
    )


def _scan_time(value: Any, tz: str) -> datetime | None:
    if isinstance(value, datetime):
        value = value.isoformat()
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return applog.local_time(value.strip(), _DEEPSTACK_TIME, tz)
    except ValueError:
        pass
    try:
        return parse_time(value, tz)
    except ValueError:
        return None


def _count(total: Any, state: str) -> str | None:
    value = total if isinstance(total, int) else state.strip()
    return str(value) if str(value).isdigit() else None


SOURCE = HomeAssistantStatesSource()
