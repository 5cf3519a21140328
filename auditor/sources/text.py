"""Plain-text logs, read through regular expressions declared in audit.toml (`[[text]]`).

Each pattern needs named groups `time` and `operation`; `principal`, `service`, `frame`,
`outcome`, `event_id` and any other named group are used when present. A line that no pattern
matches is not a record; if it still mentions face matching it becomes a notice, so a log
format the patterns do not cover cannot hide a search.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import regex

from auditor.catalogue.operations import canonical_service, classify, looks_like_face_matching
from auditor.catalogue.outcomes import FAILED_VALUES
from auditor.core.errors import InputIssue
from auditor.core.models import Event, Notice, OperationKind, Principal
from auditor.core.timefmt import parse_time
from auditor.sources.base import FileResult, HashingStream, ReadJob, frame_refs

NAME = "text"
_FAILED = FAILED_VALUES
#: Time budget of one pattern on one line. Patterns come from audit.toml and may backtrack
#: catastrophically (`(a|a)+$`); the `regex` engine stops them here, the line becomes an error.
LINE_BUDGET_SECONDS = 0.25
#: After this many lines out of budget the rest of the file is not read (one error says so):
#: a pattern that times out on every line would otherwise cost hours on a big log.
MAX_TIMEOUTS_PER_FILE = 5


class TextSource:
    """See `Source.read`."""

    name = NAME

    def read(self, job: ReadJob, stream: HashingStream, result: FileResult) -> None:
        """See `Source.read`."""
        import fnmatch

        patterns = [
            (regex.compile(p.pattern), p.time_format)
            for p in job.settings.text_patterns
            if fnmatch.fnmatchcase(job.path, p.glob)
        ]
        if not patterns:
            result.issues.append(
                InputIssue(
                    result.path, "plain-text log but no [[text]] pattern in audit.toml matches it"
                )
            )
            return
        timeouts = 0
        for lineno, raw in stream.lines(result):
            try:
                text = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                result.issues.append(
                    InputIssue(result.path, f"not UTF-8 at byte {exc.start}", line=lineno)
                )
                continue
            if not text.strip():
                continue
            try:
                found = _first_match(patterns, text)
            except TimeoutError:
                timeouts += 1
                result.issues.append(
                    InputIssue(
                        result.path,
                        f"a [[text]] pattern took over {LINE_BUDGET_SECONDS} s on this "
                        "line (catastrophic backtracking?); line skipped",
                        line=lineno,
                    )
                )
                if timeouts >= MAX_TIMEOUTS_PER_FILE:
                    result.issues.append(
                        InputIssue(
                            result.path,
                            f"gave up after {timeouts} lines over the time budget: "
                            f"the lines after line {lineno} were not read",
                            line=lineno,
                        )
                    )
                    return
                continue
            if found is not None:
                self._match(job, found[0], found[1], result, lineno)
            else:
                if looks_like_face_matching(text):
                    result.notices.append(
                        Notice(
                            result.path,
                            "line mentions face matching but matches no [[text]] pattern",
                            line=lineno,
                        )
                    )

    def read_line(
        self,
        job: ReadJob,
        raw: bytes,
        lineno: int | None,
        result: FileResult,
        state: dict[str, Any],
        wrapper_time: datetime | None = None,
    ) -> None:
        """One line from a wrapper (`sources.wrapped`), through the `[[text]]` patterns (each
        pattern names its own time group; `wrapper_time` is not used)."""
        import fnmatch

        if "patterns" not in state:
            state["patterns"] = [
                (regex.compile(p.pattern), p.time_format)
                for p in job.settings.text_patterns
                if fnmatch.fnmatchcase(job.path, p.glob)
            ]
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        try:
            found = _first_match(state["patterns"], text) if text.strip() else None
        except TimeoutError:
            found = None
        if found is not None:
            self._match(job, found[0], found[1], result, lineno)

    def _match(
        self,
        job: ReadJob,
        groups: dict[str, str | None],
        fmt: str | None,
        result: FileResult,
        lineno: int | None,
    ) -> None:
        operation = groups.get("operation") or ""
        service = groups.get("service") or "unknown"
        if not operation:
            result.issues.append(
                InputIssue(result.path, "pattern matched but operation is empty", line=lineno)
            )
            return
        result.records += 1
        kind = classify(service, operation)
        if kind is None:
            return
        try:
            when = parse_time(groups.get("time"), job.settings.timezone, fmt)
        except (ValueError, TypeError):
            result.records -= 1
            result.issues.append(
                InputIssue(result.path, f"bad time {groups.get('time')!r}", line=lineno)
            )
            return
        frame = groups.get("frame")
        outcome = groups.get("outcome")
        attrs = tuple(
            sorted(
                (k, v)
                for k, v in groups.items()
                if v is not None
                and k
                not in {"time", "operation", "service", "principal", "frame", "outcome", "event_id"}
            )
        )
        event = Event(
            source=NAME,
            file=result.path,
            time=when,
            service=canonical_service(service),
            operation=operation,
            kind=kind,
            principal=Principal(id=groups.get("principal") or "unknown"),
            line=lineno,
            event_id=groups.get("event_id"),
            outcome="failed" if outcome and outcome.lower() in _FAILED else "succeeded",
            frames=frame_refs(job, [frame] if frame else [], result, lineno, None),
            attributes=attrs,
        )
        result.events.append(event)
        if kind is OperationKind.SUSPECTED_FACE_MATCHING:
            result.notices.append(
                Notice(
                    result.path,
                    f"{service} {operation} looks like face "
                    "matching but is not in the operation catalogue",
                    line=lineno,
                )
            )


def _first_match(
    patterns: list[tuple[regex.Pattern[str], str | None]], text: str
) -> tuple[dict[str, str | None], str | None] | None:
    """(named groups, time format) of the first pattern that matches; TimeoutError when one
    runs over the per-line budget."""
    for compiled, fmt in patterns:
        m = compiled.search(text, timeout=LINE_BUDGET_SECONDS)
        if m:
            return m.groupdict(), fmt
    return None


SOURCE = TextSource()
