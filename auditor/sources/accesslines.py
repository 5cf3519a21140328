"""Access-line formats of the servers face APIs run behind, besides nginx/Apache CLF and JSON.

One table, `FORMATS`, of compiled patterns in the exact shapes these servers write (each entry
names where the shape comes from; fixtures/logs-samples/SOURCES.md has the commits):

- Gin's default logger (`defaultLogFormatter` in gin-gonic/gin logger.go), as DeepStack and other
  Go services write it, path quoted (Gin 1.6+, `%#v`) or not, any padding and latency unit;
- uvicorn's access formatter (`%(levelprefix)s %(client_addr)s - "%(request_line)s"
  %(status_code)s`);
- Express/morgan `dev`, `tiny` and `short` (morgan index.js; `combined`, `common` and gunicorn's
  default `access_log_format` are CLF and read as such);
- Envoy's default access-log format (`[%START_TIME%] "%REQ(:METHOD)% ..." %RESPONSE_CODE% ...`).

werkzeug's `log_request` line is CLF with a space-separated local time; `httplog` reads it with
the CLF pattern once `clean` has taken off Python logging's `INFO:werkzeug:` prefix.

Servers also print their own messages into the same stream (DeepStack's start-up banner, Gin's
`[GIN-debug]` route table, uvicorn's `INFO:     Started server process`, werkzeug's ` * Running
on`, gunicorn's and Envoy's own log). `SERVER_MESSAGES` recognises them: each is one record that
holds no request. Some open a block (a Gin warning, DeepStack's endpoint list, a Python
traceback after `ERROR:`) whose following lines belong to it while they are indented or match
the block's `continues` pattern, up to a blank line. `clean` takes off what runtimes add before
a line (`docker compose logs` service prefixes, `docker logs --timestamps` times, colour codes).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from auditor.catalogue.routes import may_be_face_request

_ANSI = re.compile(rb"\x1b\[[0-9;]*m")
#: `docker logs --timestamps` / `kubectl logs --timestamps` put an RFC 3339 time before a line.
_RUNTIME_TIME = re.compile(
    rb"^(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) "
)
_PY_LOGGING_WERKZEUG = re.compile(rb"^(?:DEBUG|INFO|WARNING|ERROR|CRITICAL):werkzeug:")

#: Go's `time.Duration.String`: `800ns`, `45.2µs`, `312.5ms`, `1.2345s`, `1m2s`, `1h2m3.5s`.
_LATENCY = rb"\d+(?:\.\d+)?(?:ns|us|ms|\xc2\xb5s|\xce\xbcs)|(?:\d+h)?(?:\d+m)?\d+(?:\.\d+)?s"
_QUOTED = rb'"(?:[^"\\]|\\.)*"'
_STATUS = rb"(?P<status>\d{3}|-)"
_TOKEN = rb"(?P<method>[A-Za-z][A-Za-z_-]*)"


@dataclass(frozen=True)
class LineFormat:
    """One server's access-line shape: a pattern with named groups, and whether it has a time."""

    name: str
    regex: re.Pattern[bytes]
    timed: bool


FORMATS: tuple[LineFormat, ...] = (
    LineFormat(
        "gin",
        re.compile(
            rb"^\[GIN\] (?P<time>\d{4}/\d\d/\d\d - \d\d:\d\d:\d\d) \|\s*(?P<status>\d{1,3})\s*\|"
            rb"\s*(?:"
            + _LATENCY
            + rb")\s*\|\s*(?P<client>\S*)\s*\|\s*"
            + _TOKEN
            + rb"\s*(?:\|\s*)?(?P<target>"
            + _QUOTED
            + rb"|.*?)\s*$"
        ),
        True,
    ),
    LineFormat(
        "uvicorn",
        re.compile(
            rb"^(?:TRACE|DEBUG|INFO|WARNING|ERROR|CRITICAL):\s+(?P<client>\S*) - "
            rb'"(?P<request>.*)" ' + _STATUS + rb"(?: [^\"]*)?$"
        ),
        False,
    ),
    LineFormat(  # morgan dev: ':method :url :status :response-time ms - :res[content-length]'
        "morgan-dev",
        re.compile(
            rb"^"
            + _TOKEN
            + rb" (?P<target>\S+) "
            + _STATUS
            + rb" (?:\d+(?:\.\d+)?|-) ms - (?:\d+|-)$"
        ),
        False,
    ),
    LineFormat(  # morgan tiny: ':method :url :status :res[content-length] - :response-time ms'
        "morgan-tiny",
        re.compile(
            rb"^"
            + _TOKEN
            + rb" (?P<target>\S+) "
            + _STATUS
            + rb" (?:\d+|-) - (?:\d+(?:\.\d+)?|-) ms$"
        ),
        False,
    ),
    LineFormat(  # morgan short: ':remote-addr :remote-user :method :url HTTP/:http-version ...'
        "morgan-short",
        re.compile(
            rb"^(?P<client>\S+) (?P<user>\S+) "
            + _TOKEN
            + rb" (?P<target>\S+) HTTP/(?:[\d.]+|-) "
            + _STATUS
            + rb" (?:\d+|-) - (?:\d+(?:\.\d+)?|-) ms$"
        ),
        False,
    ),
    LineFormat(
        "envoy",
        re.compile(
            rb"^\[(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d))\] "
            rb'"(?P<request>[^"]*)" (?P<status>\d{1,3}) \S+ .*?(?:\d+|-) (?:\d+|-) (?:\d+|-) '
            rb'(?:\d+|-) "(?P<client>[^"]*)" "(?P<agent>[^"]*)" "[^"]*" "[^"]*" "[^"]*"'
        ),
        True,
    ),
)


@dataclass(frozen=True)
class ServerMessage:
    """A server's own message line: one record that holds no request.

    When `opens` matches the line it starts a block: the lines after it that are indented or
    match `continues` belong to it, up to a blank line or the next access line."""

    name: str
    regex: re.Pattern[bytes]
    opens: re.Pattern[bytes] | None = None
    continues: re.Pattern[bytes] | None = None


#: A Python traceback after an `ERROR:` line (its indented lines count by their indentation).
_TRACEBACK = re.compile(
    rb"^(?:Traceback \(most recent call last\):|During handling of the above exception"
    rb"|The above exception was the direct cause|[A-Za-z_][\w.]*(?:Error|Exception|Exit"
    rb"|Interrupt|Warning|Group)\b)"
)
_ERROR_LEVEL = re.compile(rb"^(?:ERROR|CRITICAL):")

SERVER_MESSAGES: tuple[ServerMessage, ...] = (
    # gin debug.go: `debugPrint` writes "[GIN-debug] " before every message; a warning ends
    # with a blank line and may take more lines (` - using env:`, the SetHTMLTemplate advice)
    ServerMessage(
        "gin-debug",
        re.compile(rb"^\[GIN-debug\] "),
        re.compile(rb"\[WARNING\]|Loaded HTML"),
        re.compile(rb"^(?!\[GIN)"),
    ),
    # DeepStack's start-up banner: its version, then each activated endpoint between dashes
    ServerMessage(
        "deepstack",
        re.compile(rb"^DeepStack: Version \S+$"),
        re.compile(rb"."),
        re.compile(rb"^(?:/?v1/\S*|-{3,})$"),
    ),
    ServerMessage(
        "werkzeug",
        re.compile(
            rb"^(?: ?\* (?:Serving Flask app|Debug mode|Running on|Restarting with|Debugger is "
            rb"active|Debugger PIN|Detected change in)|Press CTRL\+C to quit"
            rb"|WARNING: This is a development server)"
        ),
    ),
    ServerMessage(
        "uvicorn",
        re.compile(rb"^(?:TRACE|DEBUG|INFO|WARNING|ERROR|CRITICAL):\s+\S"),
        _ERROR_LEVEL,
        _TRACEBACK,
    ),
    ServerMessage(  # gunicorn glogging.py: `%(asctime)s [%(process)d] [%(levelname)s] ...`
        "gunicorn",
        re.compile(
            rb"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] "
            rb"\[(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)\] "
        ),
        re.compile(rb"\[(?:ERROR|CRITICAL)\]"),
        _TRACEBACK,
    ),
    # nginx's error log (`ngx_log_error`: `2024/05/11 10:07:00 [warn] 23#23: *1841 ...`), which
    # the official image sends to the same container output as the access log. A request it
    # names (`request: "POST /..."`) is logged again by the access line: not a second call.
    ServerMessage(
        "nginx-error",
        re.compile(
            rb"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d "
            rb"\[(?:debug|info|notice|warn|error|crit|alert|emerg)\] \d+#\d+: "
        ),
    ),
    ServerMessage(  # Envoy's own log: `[%Y-%m-%d %T.%e][%t][%l][%n] ...`
        "envoy",
        re.compile(
            rb"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\]\[\d+\]"
            rb"\[(?:trace|debug|info|warning|error|critical)\]"
        ),
    ),
)
#: the formats' names in messages (`... has no time: morgan's dev format carries none`)
FORMAT_LABELS = {
    "gin": "Gin's access-line format",
    "uvicorn": "uvicorn's access-line format",
    "morgan-dev": "morgan's dev format",
    "morgan-tiny": "morgan's tiny format",
    "morgan-short": "morgan's short format",
    "envoy": "Envoy's default access-log format",
    "custom": "the [[httplog]] format of audit.toml",
    "compreface-core": "compreface-core's JSON log",
}
#: server messages whose requests an access line logs as well (a route list, an error line)
RELOGGED = frozenset({"gin-debug", "nginx-error"})
#: Lines Gin writes right after an access line: `c.Errors` (`Error #01: ...`), part of it.
GIN_ERROR = re.compile(rb"^Error #\d+: ")
#: `docker compose logs` writes `service  | ` before each line.
_COMPOSE = re.compile(rb"^[A-Za-z0-9][\w.-]*\s+\| ")


@dataclass(frozen=True)
class Line:
    """A line made ready for the patterns: colour codes, a `docker compose` service prefix, a
    runtime time prefix and Python logging's `INFO:werkzeug:` taken off; the time kept."""

    text: bytes
    runtime_time: str | None
    indented: bool


def clean(raw: bytes) -> Line:
    """See `Line`."""
    text = raw.rstrip(b"\r\n")
    if b"\x1b[" in text:
        text = _ANSI.sub(b"", text)
    m = _COMPOSE.match(text) if b"| " in text[:80] else None
    if m is not None:
        text = text[m.end() :]
    when = None
    m = _RUNTIME_TIME.match(text) if text[4:5] == b"-" else None
    if m is not None:
        when = m.group("ts").decode()
        text = text[m.end() :]
    indented = text[:1] in (b" ", b"\t")
    text = text.strip()
    if text[:1] in (b"D", b"I", b"W", b"E", b"C"):
        m = _PY_LOGGING_WERKZEUG.match(text)
        if m is not None:
            text = text[m.end() :]
    return Line(text, when, indented)


def parse(line: bytes) -> tuple[str, dict[str, Any]] | None:
    """(format name, fields) for a cleaned line in one of `FORMATS`, or None.

    Fields are text: `time` (None for a format without one), `method`, `target`, `status`,
    `client`, `user`, `agent`, as `httplog` records them."""
    for fmt in FORMATS:
        m = fmt.regex.match(line)
        if m is None:
            continue
        g = {k: v.decode("utf-8", "replace") for k, v in m.groupdict().items() if v is not None}
        if "request" in g:
            method, _, rest = g.pop("request").partition(" ")
            g["method"] = method
            g["target"] = rest.rsplit(" ", 1)[0] if " " in rest else rest
        target = g.get("target", "")
        if fmt.name == "gin" and target.startswith('"'):
            g["target"] = go_unquote(target)
        if fmt.name == "uvicorn":
            g["client"] = _strip_port(g.get("client", ""))
        if fmt.name == "envoy":
            g["client"] = g.get("client", "").split(",", 1)[0].strip()
        g.setdefault("time", None)
        g["untimed"] = None if fmt.timed else fmt.name
        return fmt.name, g
    return None


def server_message(line: bytes) -> ServerMessage | None:
    """The server message a cleaned line is, if it is one."""
    for message in SERVER_MESSAGES:
        if message.regex.match(line):
            return message
    return None


def opens_block(message: ServerMessage, line: bytes) -> ServerMessage | None:
    """`message` when this line of it starts a block, else None."""
    return message if message.opens is not None and message.opens.search(line) else None


def continues_block(block: ServerMessage | None, line: Line) -> bool:
    """True when `line` belongs to the block that `block` opened."""
    if block is None:
        return False
    if line.indented:
        return True
    return block.continues is not None and block.continues.match(line.text) is not None


#: lines of prose a pasted access log may start with (`looks_like_access_log`)
PROSE_LINES = 3


def looks_like_access_log(head: bytes, is_access_line: Callable[[bytes], bool]) -> bool:
    """True when the first line that is not a server's start-up message is an access line.

    `is_access_line(text)` tells CLF lines (owned by `httplog`); this module adds its own
    formats. Only whole lines of the first 200 are looked at. Up to `PROSE_LINES` lines of
    other text may come first: logs pasted into an issue thread or a ticket start with a
    sentence ("here are the logs:"), and the requests below it are still requests."""
    block: ServerMessage | None = None
    prose = 0
    lines = head.split(b"\n")
    if len(lines) > 1:
        lines = lines[:-1]  # the peek window may cut the last line short
    for raw in lines[:200]:
        line = clean(raw)
        if not line.text:
            block = None
            continue
        if is_access_line(line.text) or parse(line.text) is not None:
            return True
        message = server_message(line.text)
        if message is not None:
            block = opens_block(message, line.text)
            continue
        if not continues_block(block, line):
            prose += 1  # a line a runtime stamped is the program's output, not a paste's prose
            if prose > PROSE_LINES or line.runtime_time is not None:
                return False
    return False


_GO_ESCAPE = re.compile(r'\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[abfnrtv\\"\'])')
_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def go_unquote(text: str) -> str:
    """A Go `%#v` string literal (`"/a\\"b"`) as its value; `\\xNN` bytes are taken as UTF-8."""
    body = text[1:-1] if len(text) >= 2 and text.endswith('"') else text[1:]

    def one(m: re.Match[str]) -> str:
        esc = m.group(1)
        if esc[0] in "xuU" and len(esc) > 1:
            code = int(esc[1:], 16)
            return chr(code) if esc[0] != "x" else bytes([code]).decode("latin-1")
        return _SIMPLE.get(esc, esc)

    value = _GO_ESCAPE.sub(one, body)
    try:  # \xNN escapes are the bytes of invalid UTF-8; keep them as they were read
        return value.encode("latin-1").decode("utf-8") if "\\x" in body else value
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _strip_port(addr: str) -> str:
    """uvicorn's `client_addr` is `host:port` (`::1:51234` for IPv6); the address is `host`."""
    host, sep, port = addr.rpartition(":")
    return host if sep and port.isdigit() and host else addr


#: Path spellings that are normalised before route matching: such a request may be a face call.
UNNORMAL = (b"%", b"//", b";", b"/.")
#: A request named in free text (a server's warning, a traceback line).
REQUEST_IN_TEXT = re.compile(rb"\b(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) /\S*")


def broken_access(text: bytes) -> bool:
    """A line that is an access line gone wrong (`[GIN] ...` cut short) or names a request
    that may be a face operation: an issue, never left to chance."""
    if text.startswith((b"[GIN]", b"[GIN-debug]")):
        return True
    request = REQUEST_IN_TEXT.search(text)
    return request is not None and may_be_face(request.group(0))


def may_be_face(request: bytes) -> bool:
    """A request that may be a face operation: a catalogued route, or a path spelt in a way
    that is normalised before matching (`%`, `//`, `;`, `/.`)."""
    return may_be_face_request(request) or any(t in request for t in UNNORMAL)
