"""Custom access-log formats from audit.toml: Apache `LogFormat` strings, and nginx `log_format`.

`[[httplog]] format = '...'` declares the line format of a server whose log is neither CLF nor
one of the shapes `httplog` knows. Apache's LogFormat directive language is parsed by the
`apachelogs` package (the directives, their escaping, `%{...}t` strftime times). An nginx
`log_format` (`$remote_addr - $remote_user [$time_local] "$request" ...`) is translated into
that language first: every variable with an Apache equivalent becomes that directive, any other
variable (`$request_time`, `$upstream_addr`, ...) a placeholder that matches one field.
`$time_iso8601`, `$msec` and `$request_uri`, which have no Apache directive, are read from
their placeholders.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any

import apachelogs

from auditor.core.timefmt import epoch

#: nginx variables -> Apache LogFormat directives with the same meaning and written form.
_NGINX = {
    "remote_addr": "%h",
    "binary_remote_addr": "%h",
    "remote_user": "%u",
    "time_local": "%t",
    "request": "%r",
    "status": "%>s",
    "body_bytes_sent": "%B",
    "bytes_sent": "%O",
    "request_length": "%I",
    "request_method": "%m",
    "uri": "%U",
    "document_uri": "%U",
    "server_protocol": "%H",
    "server_port": "%p",
    "pid": "%P",
}
_NGINX_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_PLACEHOLDER = "NGINX-VAR-"
#: An Apache directive: `%`, modifiers (`<`, `>`, status lists), an optional `{arg}`, a letter.
_DIRECTIVE = re.compile(r"%[<>]?!?(?:\d{3}(?:,\d{3})*)?(?:\{([^}]*)\})?([a-zA-Z%])")


class FormatError(ValueError):
    """A format string that cannot describe access lines; the message says why."""


def is_nginx(fmt: str) -> bool:
    """True for nginx `log_format` syntax (`$variable`), which Apache formats never use."""
    return _NGINX_VAR.search(fmt) is not None


def to_apache(fmt: str) -> str:
    """An nginx `log_format` string in Apache's LogFormat language (see the module docstring)."""
    out: list[str] = []
    pos = 0
    for m in _NGINX_VAR.finditer(fmt):
        out.append(fmt[pos : m.start()].replace("%", "%%"))
        name = m.group(1) or m.group(2)
        if name in _NGINX:
            out.append(_NGINX[name])
        elif name.startswith("http_") and len(name) > 5:
            header = "-".join(part.capitalize() for part in name[5:].split("_"))
            out.append(f"%{{{header}}}i")
        else:
            out.append(f"%{{{_PLACEHOLDER}{name}}}i")
        pos = m.end()
    out.append(fmt[pos:].replace("%", "%%"))
    return "".join(out)


@lru_cache(maxsize=64)
def compile_format(fmt: str) -> apachelogs.LogParser:
    """The parser for an Apache or nginx format; FormatError says what is wrong with it."""
    apache = to_apache(fmt) if is_nginx(fmt) else fmt
    try:
        parser = apachelogs.LogParser(apache)
    except apachelogs.Error as exc:
        raise FormatError(str(exc)) from None
    letters = {m.group(2) for m in _DIRECTIVE.finditer(apache)}
    args = {m.group(1) for m in _DIRECTIVE.finditer(apache) if m.group(1)}
    has_uri = "U" in letters or f"{_PLACEHOLDER}request_uri" in args
    if "r" not in letters and not ("m" in letters and has_uri):
        raise FormatError(
            "has no request: needs %r (nginx $request), or %m with %U"
            " (nginx $request_method with $uri or $request_uri)"
        )
    return parser


def parse_line(fmt: str, line: str) -> dict[str, Any] | None:
    """The `httplog` fields of one line in format `fmt`, or None when it does not match.

    A line that matches but holds an impossible time (`%{sec}t` past year 9999, 31 February)
    gives `{"invalid": message}`: it is in the format, and the time is what is wrong."""
    try:
        entry = compile_format(fmt).parse(line)
    except apachelogs.Error:
        return None
    except (ValueError, OverflowError, OSError) as exc:  # apachelogs assembling the time
        return {"invalid": f"bad time in the [[httplog]] format: {exc}"}
    d = entry.directives
    nginx = {k[len(_PLACEHOLDER) + 2 : -2]: v for k, v in d.items() if _PLACEHOLDER in k}
    request = d.get("%r")
    method, target = None, None
    if isinstance(request, str):
        method, _, rest = request.partition(" ")
        target = rest.rsplit(" ", 1)[0] if " " in rest else rest
    method = d.get("%m") or method
    if d.get("%U") is not None:
        target = d["%U"] + (d.get("%q") or "")
    target = nginx.get("request_uri") or target
    status = next((d[k] for k in ("%>s", "%s", "%<s") if d.get(k) is not None), None)
    headers = getattr(entry, "headers_in", None) or {}
    when = _entry_time(entry, nginx)
    return {
        "time": when,
        "untimed": "custom" if when is None else None,
        "method": method,
        "target": target if request != "-" else "",
        "status": None if status is None else str(status),
        "client": d.get("%h") or (str(d["%a"]) if d.get("%a") is not None else None),
        "user": d.get("%u"),
        "agent": headers.get("User-Agent"),
        "no_request": request == "-",
    }


def _entry_time(entry: Any, nginx: dict[str, Any]) -> datetime | str | None:
    for prefix in ("", "final_", "original_"):
        for midfix in ("", "begin_", "end_"):
            value = getattr(entry, f"{prefix}{midfix}request_time", None)
            if isinstance(value, datetime):
                return value
    if nginx.get("time_iso8601"):
        return str(nginx["time_iso8601"])
    msec = nginx.get("msec")
    if msec:
        try:
            return epoch(msec)
        except ValueError:
            return str(msec)
    return None
