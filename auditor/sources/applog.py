"""What the readers of the products' own text logs share (Double Take, Viseron, CodeProject.AI,
Frigate, ZoneMinder, Home Assistant): decoded lines, local times, bounded literals, snapshots.

These logs are written for people, not machines: a line has the product's prefix (time, level,
logger) and free text, and the face result inside it is a Python repr, a Node dump or a plain
sentence. Each source module matches its own prefix; this module keeps the parts that must be
the same everywhere (how a line is decoded, how a naive local time becomes UTC, how a literal is
read without `eval`, how a snapshot path the product names becomes a bundle path).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Generator, Iterator
from datetime import datetime
from functools import lru_cache
from typing import Any

from auditor.core.errors import InputIssue
from auditor.core.models import NO_TIME, TIME_KNOWN, Event, Notice, OperationKind, Principal
from auditor.core.timefmt import parse_time
from auditor.sources.base import FileResult, HashingStream, ReadJob, frame_refs

#: Colour codes of console output (winston's colorize, colorlog) are not part of the text.
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: `docker compose logs` puts the service name and a bar before each line of a container.
_COMPOSE = re.compile(r"^[\w.-]+\s+\| ")
#: A Python literal longer than this is not evaluated (a recogniser response is a few KB).
MAX_LITERAL_CHARS = 256 << 10


#: A product log's reader as a coroutine: it is sent (line number, text, wrapper time) triples,
#: then None at the end of the file. One reader serves a file of its own (`LineSource.read`)
#: and the inner lines of a wrapped file (`LineSource.read_line`, lines pushed as
#: `sources.wrapped` peels them), so a product's log reads the same inside `docker compose logs`
#: as on its own. The wrapper time is the time a container, journald or syslog wrapper gave the
#: line (None in a file of the product's own): a console line, which has no time, takes it.
LineConsumer = Generator[None, tuple[int, str, datetime | None] | None, None]


def clean_line(raw: bytes, result: FileResult, lineno: int) -> str | None:
    """A line's text without colour codes, line end and `docker compose logs` prefix
    (`double-take    | `); None (and an issue at its line) when it is not UTF-8."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        result.issues.append(InputIssue(result.path, f"not UTF-8 at byte {exc.start}", line=lineno))
        return None
    text = text.rstrip("\r\n")
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "| " in text:
        text = _COMPOSE.sub("", text, count=1)
    return text


def text_lines(stream: HashingStream, result: FileResult) -> Iterator[tuple[int, str]]:
    """(line number, text) of every line, cleaned by `clean_line` (a line that is not UTF-8 is
    an issue at its line and is not yielded)."""
    for lineno, raw in stream.lines(result):
        text = clean_line(raw, result, lineno)
        if text is not None:
            yield lineno, text


class LineSource:
    """The entry points of a product-log source, around its `consume` coroutine."""

    def consume(self, job: ReadJob, result: FileResult) -> LineConsumer:
        """Read the lines sent in; finish (emit what spans lines) when sent None."""
        raise NotImplementedError

    def read(self, job: ReadJob, stream: HashingStream, result: FileResult) -> None:
        """See `Source.read`: every line of the file through `consume`."""
        consumer = self.consume(job, result)
        next(consumer)
        for lineno, text in text_lines(stream, result):
            consumer.send((lineno, text, None))
        _finish(consumer)

    def read_line(
        self,
        job: ReadJob,
        raw: bytes,
        lineno: int | None,
        result: FileResult,
        state: dict[str, Any],
        wrapper_time: datetime | None = None,
    ) -> None:
        """One inner line of a wrapped file; `state` keeps this file's reader between lines
        and `finish_lines` ends it. A line without a number (a CloudWatch event of the first
        document) is numbered 0 and located by its record index."""
        consumer = state.get("consumer")
        if consumer is None:
            consumer = state["consumer"] = self.consume(job, result)
            next(consumer)
        line = lineno if lineno is not None else 0
        text = clean_line(raw, result, line)
        if text is not None:
            consumer.send((line, text, wrapper_time))

    def finish_lines(self, state: dict[str, Any]) -> None:
        """The end of a wrapped file: the reader emits what spans lines (Double Take's runs)."""
        consumer = state.pop("consumer", None)
        if consumer is not None:
            _finish(consumer)


def _finish(consumer: LineConsumer) -> None:
    try:
        consumer.send(None)
    except StopIteration:
        return
    raise RuntimeError("a product-log reader went on after the end of its file")


@lru_cache(maxsize=4096)
def local_time(text: str, fmt: str, tz: str) -> datetime:
    """A naive time in the product's `fmt`, read in the bundle's zone (audit.toml `timezone`).

    Self-hosted products log local wall-clock time without a zone; raises ValueError. Cached:
    the lines of one second share their time text."""
    return parse_time(text, tz, fmt)


def literal(text: str) -> Any:
    """A Python literal (dict, list, tuple, str, number) read with `ast.literal_eval`: never
    `eval`. Raises ValueError for anything that is not one, or longer than MAX_LITERAL_CHARS."""
    if len(text) > MAX_LITERAL_CHARS:
        raise ValueError(f"value longer than {MAX_LITERAL_CHARS:,} characters")
    try:
        return ast.literal_eval(text)
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError) as exc:
        raise ValueError(f"not a Python literal ({type(exc).__name__})") from None


def snapshot_frames(
    job: ReadJob, paths: list[str], result: FileResult, line: int | None
) -> tuple[str, ...]:
    """Bundle paths for the snapshot files a product names (paths on its own host).

    A `[frames]` prefix of audit.toml that matches the path maps it (`"/.storage/matches/" =
    "frames/dt/"`); otherwise the file is looked for under `frames/` by its base name. Frames are
    samples: one not in the bundle is reported as missing, never guessed."""
    refs = []
    for path in paths:
        if not path:
            continue
        if any(path.startswith(prefix) for prefix, _ in job.settings.frame_prefixes):
            refs.append(path)
        else:
            refs.append("frames/" + path.replace("\\", "/").rsplit("/", 1)[-1])
    return frame_refs(job, refs, result, line, None)


def issue(result: FileResult, message: str, line: int | None) -> None:
    """Record an input issue at `line` of the file being read."""
    result.issues.append(InputIssue(result.path, message, line=line))


_RUNTIME_HINT = "read the log with its runtime's timestamps, e.g. `docker logs --timestamps`"


def face_event(
    result: FileResult,
    *,
    source: str,
    when: datetime | None,
    service: str,
    operation: str,
    kind: OperationKind,
    principal: str,
    line: int | None,
    attrs: dict[str, object],
    outcome: str = "succeeded",
    error_code: str | None = None,
    event_id: str | None = None,
    frames: tuple[str, ...] = (),
    untimed_hint: str = _RUNTIME_HINT,
) -> None:
    """Append one event; attributes that are None or empty are left out, the rest are text.

    `when` None: the line shows no time and nothing around it gives one (a console line outside
    any wrapper). The call is still an event, so it is counted and reaches every rule that
    covers it, as "cannot decide" (`core.models.NO_TIME`), and a notice at its line says why;
    dropping it, or making it an input error, would hide a face call that is plainly there."""
    if when is None:
        attrs = {**attrs, TIME_KNOWN: "false"}
        result.notices.append(
            Notice(
                result.path,
                f"{operation} has no time: the record shows none and nothing around it gives"
                f" one, so no rule can judge it ({untimed_hint})",
                line=line,
            )
        )
    result.events.append(
        Event(
            source=source,
            file=result.path,
            time=when or NO_TIME,
            service=service,
            operation=operation,
            kind=kind,
            principal=Principal(id=principal),
            line=line,
            event_id=event_id,
            outcome=outcome,
            error_code=error_code,
            frames=frames,
            attributes=tuple(
                sorted((k, str(v)) for k, v in attrs.items() if v is not None and v != "")
            ),
        )
    )


#: The event attribute that lists every line an event rests on when that is more than its own
#: line (`16,19-49`): an evidence archive publishes all of them (auditor/evidence_pack).
RECORD_LINES = "record_lines"


def record_lines(own: int, lines: list[int]) -> str | None:
    """`16,19-49` for the lines an event rests on; None when that is its own line alone."""
    wanted = sorted(set(lines) | {own})
    if wanted == [own]:
        return None
    parts: list[str] = []
    start = prev = wanted[0]
    for n in [*wanted[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ",".join(parts)


def names(values: list[str]) -> str | None:
    """Distinct names in first-seen order, comma-separated (None for none)."""
    seen = list(dict.fromkeys(v for v in values if v))
    return ",".join(seen) if seen else None


def best(values: list[float]) -> str | None:
    """The highest score, two decimals (None for none)."""
    return f"{max(values):.2f}" if values else None


def number(value: Any) -> float | None:
    """A score from a parsed value: int or float, not bool; None otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
