"""Cap the length of values taken from logs, visibly.

A log may carry a principal or operation name of megabytes; copied into every report format and
the store it would multiply. Values longer than MAX_VALUE_CHARS keep their first characters and
end in a marker that says how much was cut, so a reader knows the value is not whole; each file
that had such values also gets one notice.
"""

from __future__ import annotations

from dataclasses import replace

from auditor.core.errors import InputIssue
from auditor.core.models import Event, Notice
from auditor.sources.base import FileResult

#: Longest value (principal, operation, event id, attribute, ...) kept whole.
MAX_VALUE_CHARS = 2048
#: Longest message (issue or notice) kept whole; messages quote values.
MAX_MESSAGE_CHARS = 4096


def clip(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """`text`, or its first `limit` characters plus a `…[truncated N chars]` marker."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…[truncated {len(text) - limit:,} chars]"


def clip_events(events: list[Event]) -> tuple[list[Event], int]:
    """The events with every long value clipped, and how many values were clipped."""
    clipped = 0

    def c(text: str | None) -> str | None:
        nonlocal clipped
        if text is None or len(text) <= MAX_VALUE_CHARS:
            return text
        clipped += 1
        return clip(text)

    def event(e: Event) -> Event:
        values = (
            e.principal.id,
            e.operation,
            e.service,
            e.event_id,
            e.error_code,
            *e.principal.arns,
            *(v for _, v in e.attributes),
        )
        if all(v is None or len(v) <= MAX_VALUE_CHARS for v in values):
            return e
        principal = replace(
            e.principal,
            id=c(e.principal.id) or "",
            arns=tuple(c(a) or "" for a in e.principal.arns),
        )
        return replace(
            e,
            principal=principal,
            operation=c(e.operation) or "",
            service=c(e.service) or "",
            event_id=c(e.event_id),
            error_code=c(e.error_code),
            attributes=tuple((k, c(v) or "") for k, v in e.attributes),
        )

    return [event(e) for e in events], clipped


def cap_result(result: FileResult) -> None:
    """Clip every long value in the events, issues and notices of one file, in place (the
    events of batches handed on while the file was read were clipped then: `result.clipped`)."""
    result.events, clipped = clip_events(result.events)
    clipped += result.clipped
    result.issues = [
        i
        if len(i.message) <= MAX_MESSAGE_CHARS
        else InputIssue(i.file, clip(i.message, MAX_MESSAGE_CHARS), i.line, i.record)
        for i in result.issues
    ]
    for n in result.notices:
        n.message = clip(n.message, MAX_MESSAGE_CHARS)
    if clipped:
        result.notices.append(
            Notice(
                result.path,
                f"{clipped} value(s) longer than {MAX_VALUE_CHARS:,} characters were "
                "truncated (marked …[truncated N chars])",
            )
        )
