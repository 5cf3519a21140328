"""A report handed to `verify` is untrusted: parse it with bounded memory, then check its shape.

Whoever publishes an evidence archive (or a report.json) controls every byte of it, so nothing in
it is used before it is checked: the size and the number of JSON values are bounded before the
bytes are parsed (`{},{},...` costs about 60 bytes of memory per 3 bytes of input), the nesting
is bounded before anything recurses over it, and every field that verify or export reads is
checked against the typed model (`core.report`, strictly). Each refusal is a `ConfigError`
(exit 2) naming where it is, such as
`report.json: findings[3].events[0].line: Input should be a valid integer`.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from auditor.core.errors import ConfigError
from auditor.core.report import SCHEMA, ReportShapeError, load_untrusted, pack_id_ok, upgrade

__all__ = ["MAX_REPORT_BYTES", "check_report", "pack_id_ok", "parse_report"]
#: The largest report verify reads (a report of ~20,000 findings is about 30 MiB).
MAX_REPORT_BYTES = 32 * 1024 * 1024
#: The most JSON values (objects, arrays and items) a report may hold; the demo has ~2,300.
MAX_REPORT_VALUES = 2_000_000
#: The deepest nesting a report may have (auditor writes 7 levels).
MAX_DEPTH = 32

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def count_values(data: bytes) -> int:
    """An upper bound of the JSON values in `data`: its `{`, `[` and `,` outside strings, + 1.

    Strings are blanked first, so the commas of messages and raw records do not count.
    """
    bare = _STRING.sub(b'""', data)
    return bare.count(b"{") + bare.count(b"[") + bare.count(b",") + 1


def parse_report(data: bytes, where: str) -> dict[str, Any]:
    """Bytes to a checked report dict, or a located ConfigError; memory stays bounded."""
    if len(data) > MAX_REPORT_BYTES:
        raise ConfigError(f"{where}: larger than {MAX_REPORT_BYTES:,} bytes")
    values = count_values(data)
    if values > MAX_REPORT_VALUES:
        raise ConfigError(f"{where}: more than {MAX_REPORT_VALUES:,} JSON values ({values:,})")
    try:
        report = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"{where}: not a JSON report: {exc}") from None
    return check_report(report, where)


def check_depth(value: Any, where: str, limit: int = MAX_DEPTH) -> None:
    """Refuse nesting deeper than `limit` (iteratively: a deep document cannot overflow us)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise ConfigError(f"{where}: nested deeper than {limit} levels")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))


def check_report(report: Any, where: str) -> dict[str, Any]:
    """The report in its current shape (`core.report.upgrade`), checked against the typed model
    strictly and whole (`core.report.load_untrusted`); a ConfigError naming the first problem
    (the model, not this module, owns the shape)."""
    if not isinstance(report, dict) or report.get("schema") != SCHEMA:
        raise ConfigError(f"{where}: not an {SCHEMA} document")
    check_depth(report, where)
    try:
        load_untrusted(report)
    except ReportShapeError as exc:
        raise ConfigError(f"{where}: {exc.problems[0]}") from None
    return upgrade(report)
