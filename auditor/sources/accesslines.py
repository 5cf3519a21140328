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

Servers also print their own messages into the same stream (Gin's `[GIN-debug]` route table,
uvicorn's `INFO:     Started server process`, werkzeug's ` * Running on`, gunicorn's and Envoy's
error log). `SERVER_MESSAGES` recognises them: each is one record that holds no request. Some
open a block (a Gin warning, a Python traceback after `ERROR:`) whose following lines, up to a
blank line, belong to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

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

#: (name, pattern, opens a block): a server's own message lines, one record each, no request.
SERVER_MESSAGES: tuple[tuple[str, re.Pattern[bytes], re.Pattern[bytes] | None], ...] = (
    ("gin-debug", re.compile(rb"^\[GIN-debug\] "), re.compile(rb"\[WARNING\]|Loaded HTML")),
    (
        "werkzeug",
        re.compile(
            rb"^(?: ?\* (?:Serving Flask app|Debug mode|Running on|Restarting with|Debugger is "
            rb"active|Debugger PIN|Detected change in)|Press CTRL\+C to quit"
            rb"|WARNING: This is a development server)"
        ),
        None,
    ),
    (
        "uvicorn",
        re.compile(rb"^(?:TRACE|DEBUG|INFO|WARNING|ERROR|CRITICAL):\s+\S"),
        re.compile(rb"^(?:ERROR|CRITICAL):"),
    ),
    (
        "gunicorn",
        re.compile(
            rb"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] "
            rb"\[(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)\] "
        ),
        re.compile(rb"\[(?:ERROR|CRITICAL)\]"),
    ),
    (
        "envoy",
        re.compile(
            rb"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\]\[\d+\]"
            rb"\[(?:trace|debug|info|warning|error|critical)\]"
        ),
        None,
    ),
)
#: Lines Gin writes right after an access line: `c.Errors` (`Error #01: ...`), part of it.
GIN_ERROR = re.compile(rb"^Error #\d+: ")


def clean(line: bytes) -> tuple[bytes, str | None]:
    """(line without colour codes and runtime time prefix, that prefix's time or None)."""
    text = line.strip()
    if b"\x1b[" in text:
        text = _ANSI.sub(b"", text).strip()
    when = None
    m = _RUNTIME_TIME.match(text)
    if m is not None:
        when = m.group("ts").decode()
        text = text[m.end() :].lstrip()
    if text[:1] in (b"D", b"I", b"W", b"E", b"C"):
        m2 = _PY_LOGGING_WERKZEUG.match(text)
        if m2 is not None:
            text = text[m2.end() :]
    return text, when


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
        return fmt.name, g
    return None


def server_message(line: bytes) -> tuple[str, bool] | None:
    """(server, opens a block) when a cleaned line is one of a server's own messages."""
    for name, regex, opens in SERVER_MESSAGES:
        if regex.match(line):
            return name, bool(opens is not None and opens.search(line))
    return None


def looks_like_access_log(head: bytes, is_access_line: Any) -> bool:
    """True when the first line that is not a server's start-up message is an access line.

    `is_access_line(cleaned_line)` tells CLF lines (owned by `httplog`); this module adds its own
    formats. Only whole lines of the first 200 are looked at."""
    in_block = False
    lines = head.split(b"\n")
    if len(lines) > 1:
        lines = lines[:-1]  # the peek window may cut the last line short
    for raw in lines[:200]:
        line, _ = clean(raw)
        if not line:
            in_block = False
            continue
        if is_access_line(line) or parse(line) is not None:
            return True
        found = server_message(line)
        if found is not None:
            in_block = found[1]
            continue
        if in_block:
            continue
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
