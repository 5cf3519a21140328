"""Wrappers around log lines, peeled off so the line inside can be detected and read.

A recogniser in a container does not write its access log to a file: `docker compose logs`,
`docker logs --timestamps`, `kubectl logs --prefix --timestamps`, the container runtime (CRI),
Docker's json-file driver, journald, syslog and CloudWatch Logs each put their own prefix or
envelope around the line it printed. A *peeler* turns one wrapped line into the inner line plus
what the wrapper says (the time, the service or container it came from); `PEELERS` is the one
registry of them, tried in order, and `detect` picks the one a file is written in.

The exact formats (sources in docs/bundle.md and fixtures/logs-samples/SOURCES.md):

| peeler | a line |
|---|---|
| `docker_json` | `{"log":"<line>\\n","stream":"stdout","time":"2023-03-14T09:02:51.123456789Z"}` |
| `journald` | `journalctl -o json`: `{"MESSAGE": ..., "__REALTIME_TIMESTAMP": "<µs>", ...}` |
| `cri` | `2023-03-14T09:02:51.123456789Z stdout F <line>` (`P`: partial, joined to the next) |
| `kubectl` | `[pod/<pod>/<container>] 2023-03-14T09:02:51.123456789Z <line>` (time optional) |
| `compose` | `<service>  \\| <line>` (`docker compose logs`; `--timestamps`: a time after it) |
| `lambda` | `[INFO]\\t2023-03-14T09:02:51.123Z\\t<request id>\\t<message>` (Python runtime) |
| `syslog5424` | `<165>1 2023-03-14T09:02:51.003Z host app 1234 ID47 - <message>` |
| `syslog3164` | `Mar 14 09:02:51 host app[1234]: <message>` (`<34>` in front when sent raw) |
| `docker_ts` | `2023-03-14T09:02:51.123456789Z <line>` (`docker logs --timestamps`) |
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from auditor.core.timefmt import epoch


@dataclass(frozen=True)
class Peeled:
    """The inner line of a wrapped line and what the wrapper said about it."""

    inner: bytes
    stream: str = ""
    time: str | None = None
    #: The wrapper split a long line: this piece is joined to the next of the same stream.
    partial: bool = False
    #: A wrapper line that carries no inner line (Lambda's START/END/REPORT): not a record.
    empty: bool = False
    #: An RFC 3164 time (`May 11 17:29:26`): no year, no zone; `sources.syslogyear` dates it.
    yearless: str | None = None


@dataclass(frozen=True)
class Peeler:
    """One wrapper format. `strict` ones also match ordinary logs (a line that starts with a
    time), so a file counts as wrapped by them only when the inner lines are a known format."""

    name: str
    peel: Callable[[bytes], Peeled | None]
    strict: bool = False


_RFC3339 = rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})"
_CRI = re.compile(rb"^(" + _RFC3339 + rb") (stdout|stderr) ([FP]) ?(.*)$", re.S)
_DOCKER_TS = re.compile(rb"^(" + _RFC3339 + rb") (.*)$", re.S)
_KUBECTL = re.compile(rb"^\[(pod/[^\]\s/]+/[^\]\s]+)\] (?:(" + _RFC3339 + rb") )?(.*)$", re.S)
_COMPOSE = re.compile(rb"^([A-Za-z0-9][A-Za-z0-9_.-]*)\s*\| ?(.*)$", re.S)
_COMPOSE_TS = re.compile(rb"^(" + _RFC3339 + rb") (.*)$", re.S)
_LAMBDA = re.compile(
    rb"^\[(?:TRACE|DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)\]\t"
    rb"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z)\t([0-9a-fA-F-]{8,}|None)?\t(.*)$",
    re.S,
)
_LAMBDA_PLAIN = re.compile(rb"^(?:START|END|REPORT|INIT_START) RequestId: |^INIT_START ")
_S5424 = re.compile(
    rb"^<\d{1,3}>1 (\S+) (\S+) (\S+) (\S+) (\S+) (?:-|(?:\[(?:[^\]\\]|\\.)*\])+) ?(.*)$", re.S
)
_S3164 = re.compile(
    rb"^(?:<\d{1,3}>)?([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}) (\S+) "
    rb"([^\s:\[]+)(?:\[\d+\])?: ?(.*)$",
    re.S,
)


def _docker_json(line: bytes) -> Peeled | None:
    if not line.startswith(b'{"log":') and b'"stream"' not in line[:200]:
        return None
    obj = _object(line)
    if obj is None or not isinstance(obj.get("log"), str) or "stream" not in obj:
        return None
    text = obj["log"]
    time = obj.get("time") if isinstance(obj.get("time"), str) else None
    return Peeled(
        text.rstrip("\n").encode(), str(obj.get("stream", "")), time, not text.endswith("\n")
    )


def _journald(line: bytes) -> Peeled | None:
    if b'"__REALTIME_TIMESTAMP"' not in line:
        return None
    obj = _object(line)
    if obj is None or "MESSAGE" not in obj:
        return None
    message = obj["MESSAGE"]
    if isinstance(message, list):  # journald exports non-UTF-8 messages as byte arrays
        message = bytes(b for b in message if isinstance(b, int) and 0 <= b < 256).decode(
            "utf-8", "replace"
        )
    if not isinstance(message, str):
        return None
    # the writer, most specific first: Docker's journald driver puts every container under
    # `_SYSTEMD_UNIT=docker.service`, and each container's lines go to their own reader
    unit = next((obj[k] for k in _JOURNAL_STREAM if obj.get(k)), "")
    return Peeled(message.encode(), str(unit), _micros(obj.get("__REALTIME_TIMESTAMP")))


#: journald fields that name a line's writer, most specific first (`CONTAINER_NAME` is set by
#: Docker's journald logging driver, `SYSLOG_IDENTIFIER` by the writer or the driver's `tag`).
_JOURNAL_STREAM = ("CONTAINER_NAME", "SYSLOG_IDENTIFIER", "_SYSTEMD_UNIT", "_COMM")


def _cri(line: bytes) -> Peeled | None:
    m = _CRI.match(line.rstrip(b"\r\n"))
    if m is None:
        return None
    return Peeled(m.group(4), m.group(2).decode(), m.group(1).decode(), m.group(3) == b"P")


def _kubectl(line: bytes) -> Peeled | None:
    m = _KUBECTL.match(line.rstrip(b"\r\n"))
    if m is None:
        return None
    time = m.group(2).decode() if m.group(2) else None
    return Peeled(m.group(3), m.group(1).decode(), time)


def _compose(line: bytes) -> Peeled | None:
    m = _COMPOSE.match(line.rstrip(b"\r\n"))
    if m is None or not re.search(rb"\s\|", line[: m.end(1) + 80]):
        return None
    inner, time = m.group(2), None
    ts = _COMPOSE_TS.match(inner)
    if ts is not None:
        inner, time = ts.group(2), ts.group(1).decode()
    return Peeled(inner, m.group(1).decode(), time)


def _lambda(line: bytes) -> Peeled | None:
    text = line.rstrip(b"\r\n")
    m = _LAMBDA.match(text)
    if m is not None:
        return Peeled(m.group(3), "lambda", m.group(1).decode())
    if _LAMBDA_PLAIN.match(text):
        return Peeled(b"", "lambda", None, empty=True)
    return None


def _syslog5424(line: bytes) -> Peeled | None:
    m = _S5424.match(line.rstrip(b"\r\n"))
    if m is None:
        return None
    stamp = m.group(1).decode()
    inner = m.group(6)
    if inner.startswith(b"\xef\xbb\xbf"):  # the BOM RFC 5424 puts before a UTF-8 MSG
        inner = inner[3:]
    return Peeled(inner, m.group(3).decode(), stamp if stamp != "-" else None)


def _syslog3164(line: bytes) -> Peeled | None:
    m = _S3164.match(line.rstrip(b"\r\n"))
    if m is None:
        return None
    # RFC 3164 times have no year and no zone: the inner line's own time comes first
    return Peeled(m.group(4), m.group(3).decode(), None, yearless=m.group(1).decode())


def _docker_ts(line: bytes) -> Peeled | None:
    m = _DOCKER_TS.match(line.rstrip(b"\r\n"))
    if m is None:
        return None
    return Peeled(m.group(2), "", m.group(1).decode())


PEELERS: tuple[Peeler, ...] = (
    Peeler("docker_json", _docker_json),
    Peeler("journald", _journald),
    Peeler("cri", _cri),
    Peeler("kubectl", _kubectl),
    Peeler("lambda", _lambda),
    Peeler("syslog5424", _syslog5424),
    Peeler("compose", _compose, strict=True),
    Peeler("syslog3164", _syslog3164, strict=True),
    Peeler("docker_ts", _docker_ts, strict=True),
)
BY_NAME = {p.name: p for p in PEELERS}
#: Wrappers are detected from this many non-empty lines at the file's start.
DETECT_LINES = 20


def detect(head: bytes, readable: Callable[[bytes], bool]) -> str | None:
    """The peeler most of the first lines of a file are wrapped in, or None.

    `readable(inner)` says whether a source reads an inner line; a `strict` peeler needs at
    least one such line, and peeling must leave a line that is not itself wrapped by the same
    format (a plain log that starts with a time is not `docker logs --timestamps`).
    """
    lines = [x for x in head.split(b"\n")[:-1] if x.strip()][:DETECT_LINES]
    if not lines:
        return None
    for peeler in PEELERS:
        peeled = [peeler.peel(x) for x in lines]
        hits = [p for p in peeled if p is not None]
        if len(hits) * 5 < len(lines) * 4:  # fewer than 80% of the lines
            continue
        if peeler.strict and not any(not p.empty and readable(p.inner) for p in hits):
            continue
        return peeler.name
    return None


def peel(line: bytes, first: str, depth: int = 3) -> tuple[Peeled | None, list[str]]:
    """Peel `line` with the file's peeler, then any inner wrapper (a Lambda line inside a
    CloudWatch event, a compose line with a time), up to `depth` layers; (innermost, names)."""
    peeled = BY_NAME[first].peel(line)
    if peeled is None:
        return None, []
    names = [first]
    while depth > 1 and not peeled.empty and not peeled.partial:
        depth -= 1
        inner = next(
            (
                (p.name, q)
                for p in PEELERS
                if not p.strict and p.name != names[-1]
                for q in [p.peel(peeled.inner)]
                if q is not None
            ),
            None,
        )
        if inner is None:
            break
        names.append(inner[0])
        q = inner[1]
        peeled = Peeled(
            q.inner, q.stream or peeled.stream, q.time or peeled.time, q.partial, q.empty
        )
    return peeled, names


def _object(line: bytes) -> dict[str, Any] | None:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


def _micros(value: Any) -> str | None:
    """journald's `__REALTIME_TIMESTAMP` (microseconds since the epoch, as text)."""
    try:
        return epoch(int(value) / 1e6).isoformat()
    except (TypeError, ValueError):
        return None


def epoch_millis(value: Any) -> str | None:
    """CloudWatch Logs' `timestamp` (milliseconds since the epoch)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return epoch(value / 1000).isoformat()
    except ValueError:
        return None
