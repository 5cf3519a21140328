"""Request paths as the server behind the log routes them, before the route table sees them.

An access log writes the request target as the client sent it. `/face/v1.0/%69dentify`,
`//face/v1.0/identify`, `/face/v1.0/./identify` and `/face/v1.0/identify;jsessionid=1` all
reach the identify handler of a typical server (Go's net/http, WSGI and ASGI servers, nginx
`merge_slashes`, servlet containers), so an audit that matched the raw text would let them
escape the catalogue. `normalise_path` applies, in this order:

1. `;params` dropped from every segment (RFC 3986 path parameters, e.g. `;jsessionid=1`);
2. percent-decoding, once (`%2569` stays `%69`, as a server decodes once). An encoded slash
   `%2F` becomes `/`: Go's `URL.Path`, WSGI `PATH_INFO` and ASGI `scope["path"]` all route on
   the decoded path, so `/face%2Fv1.0%2Fidentify` is the identify call there. `%3F` and `%23`
   stay encoded so that a decoded `?` or `#` cannot cut the path short;
3. repeated slashes merged (nginx `merge_slashes on`, the default);
4. dot segments removed (RFC 3986 section 5.2.4: `/a/./b` -> `/a/b`, `/a/x/../b` -> `/a/b`).

Letter case is left alone: the route table already matches without case (Azure paths are
case-insensitive, version segments too).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

_KEPT_ENCODED = re.compile(r"(%(?:3[fF]|23))")
_SLASHES = re.compile(r"/{2,}")


def normalise_path(path: str) -> str:
    """The routed form of a request path (no query string); see the module docstring."""
    if "//" not in path and not _needs_work(path):
        return path
    no_params = "/".join(segment.split(";", 1)[0] for segment in path.split("/"))
    decoded = "".join(
        part if i % 2 else unquote(part, errors="replace")
        for i, part in enumerate(_KEPT_ENCODED.split(no_params))
    )
    merged = _SLASHES.sub("/", decoded)
    return _remove_dot_segments(merged)


def _needs_work(path: str) -> bool:
    return "%" in path or ";" in path or "/." in path


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4 on a merged path; a trailing `.` or `..` leaves a trailing slash."""
    if "/." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == ".":
            if last:
                out.append("")
        elif segment == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(segment)
    result = "/".join(out)
    if path.startswith("/") and not result.startswith("/"):
        result = "/" + result
    return result
