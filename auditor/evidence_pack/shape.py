"""A report handed to `verify` is untrusted: parse it with bounded memory, then check its shape.

Whoever publishes an evidence archive (or a report.json) controls every byte of it, so nothing in
it is used before it is checked: the size and the number of JSON values are bounded before the
bytes are parsed (`{},{},...` costs about 60 bytes of memory per 3 bytes of input), the nesting
is bounded before anything recurses over it, and every field that verify or export reads is
checked for its type. Each refusal is a `ConfigError` (exit 2) naming where it is, such as
`report.json: findings[3].events[0].line: must be an integer or null`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson

from auditor.core.errors import ConfigError

SCHEMA = "auditor.report/v1"
#: The largest report verify reads (a report of ~20,000 findings is about 30 MiB).
MAX_REPORT_BYTES = 32 * 1024 * 1024
#: The most JSON values (objects, arrays and items) a report may hold; the demo has ~2,300.
MAX_REPORT_VALUES = 2_000_000
#: The deepest nesting a report may have (auditor writes 7 levels).
MAX_DEPTH = 32

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_SHA256 = re.compile(r"[0-9a-f]{64}")


def pack_id_ok(pid: str) -> bool:
    """A pack id usable as a file name: letters, digits, `-_.` (as the pack loader allows), not
    starting with a dot, at most 200 characters; so `packs/<id>.toml` never leaves its folder."""
    return (
        0 < len(pid) <= 200
        and not pid.startswith(".")
        and all(ch.isalnum() or ch in "-_." for ch in pid)
    )


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
    check_report(report, where)
    return report  # type: ignore[no-any-return]


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


class _Checker:
    """Type checks that name the path of what they refuse."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, path: str, message: str) -> ConfigError:
        return ConfigError(f"{self.where}: {path}: {message}")

    def get(self, obj: dict[str, Any], key: str, path: str, *, required: bool = True) -> Any:
        if key not in obj:
            if required:
                raise self.fail(path, f"missing {key!r}")
            return None
        return obj[key]

    def typed(self, value: Any, path: str, kinds: tuple[type, ...], what: str) -> Any:
        if isinstance(value, bool) and bool not in kinds:
            raise self.fail(path, f"must be {what}")
        if not isinstance(value, kinds):
            raise self.fail(path, f"must be {what}")
        return value

    def obj(self, value: Any, path: str) -> dict[str, Any]:
        return self.typed(value, path, (dict,), "an object")  # type: ignore[no-any-return]

    def items(self, value: Any, path: str) -> list[dict[str, Any]]:
        self.typed(value, path, (list,), "an array")
        for i, item in enumerate(value):
            self.obj(item, f"{path}[{i}]")
        return value  # type: ignore[no-any-return]

    def fields(self, obj: dict[str, Any], path: str, spec: dict[str, tuple[Any, ...]]) -> None:
        """`spec`: key -> (required, types..., what)."""
        for key, (required, *kinds, what) in spec.items():
            value = self.get(obj, key, path, required=required)
            if key in obj:
                self.typed(value, f"{path}.{key}", tuple(kinds), what)


_STR = (str, "a string")
_OPT_STR = (str, type(None), "a string or null")
_OPT_INT = (int, type(None), "an integer or null")


def check_report(report: Any, where: str) -> None:
    """Every field verify and export read, with its type; a ConfigError naming the first bad one."""
    if not isinstance(report, dict) or report.get("schema") != SCHEMA:
        raise ConfigError(f"{where}: not an {SCHEMA} document")
    for key in ("findings", "inputs", "packs", "settings", "run"):
        if key not in report:
            raise ConfigError(f"{where}: the report has no {key!r}")
    check_depth(report, where)
    c = _Checker(where)
    c.fields(c.obj(report["run"], "run"), "run", {"id": (True, *_STR)})
    c.obj(report["settings"], "settings")
    for i, f in enumerate(c.items(report["findings"], "findings")):
        _check_finding(c, f, f"findings[{i}]")
    for i, item in enumerate(c.items(report["inputs"], "inputs")):
        path = f"inputs[{i}]"
        c.fields(item, path, {"kind": (True, *_STR), "path": (True, *_STR)})
        c.fields(item, path, {"sha256": (True, *_STR), "source": (False, *_OPT_STR)})
        if not _SHA256.fullmatch(item["sha256"]):
            raise c.fail(f"{path}.sha256", "must be 64 lower-case hex digits")
    for i, pack in enumerate(c.items(report["packs"], "packs")):
        path = f"packs[{i}]"
        c.fields(pack, path, {"id": (True, *_STR), "version": (True, *_STR)})
        c.fields(pack, path, {"sha256": (True, *_STR), "path": (False, *_OPT_STR)})
        if not pack_id_ok(pack["id"]):
            raise c.fail(f"{path}.id", f"{pack['id']!r} is not a pack id")
    for block, check in _OPTIONAL_BLOCKS.items():
        if report.get(block) is not None:
            check(c, report[block], block)


def _check_finding(c: _Checker, f: dict[str, Any], path: str) -> None:
    c.fields(f, path, {"id": (True, *_STR), "pack": (False, *_OPT_STR)})
    c.fields(f, path, {"rule": (False, *_OPT_STR)})
    for j, ev in enumerate(c.items(c.get(f, "events", path), f"{path}.events")):
        epath = f"{path}.events[{j}]"
        c.fields(ev, epath, {"file": (True, *_STR)})
        c.fields(ev, epath, {"line": (False, *_OPT_INT), "record": (False, *_OPT_INT)})
    if "frames" in f:
        for j, fr in enumerate(c.items(f["frames"], f"{path}.frames")):
            fpath = f"{path}.frames[{j}]"
            c.fields(fr, fpath, {"path": (True, *_STR), "sha256": (False, *_OPT_STR)})
            if fr.get("boxes") is not None:
                _check_boxes(c, fr["boxes"], f"{fpath}.boxes")


def _check_boxes(c: _Checker, boxes: Any, path: str) -> None:
    c.typed(boxes, path, (list,), "an array")
    for k, box in enumerate(boxes):
        c.typed(box, f"{path}[{k}]", (list,), "an array")
        if len(box) != 4:
            raise c.fail(f"{path}[{k}]", "must be 4 integers (top, right, bottom, left)")
        for m, v in enumerate(box):
            c.typed(v, f"{path}[{k}][{m}]", (int,), "an integer")


def _check_errors(c: _Checker, value: Any, path: str) -> None:
    for i, err in enumerate(c.items(value, path)):
        epath = f"{path}[{i}]"
        c.fields(err, epath, {"file": (False, *_OPT_STR), "message": (False, *_OPT_STR)})
        c.fields(err, epath, {"line": (False, *_OPT_INT), "record": (False, *_OPT_INT)})


def _check_engine(c: _Checker, value: Any, path: str) -> None:
    engine = c.obj(value, path)
    if engine.get("params") is not None:
        c.obj(engine["params"], f"{path}.params")


def _check_object(c: _Checker, value: Any, path: str) -> None:
    c.obj(value, path)


_OPTIONAL_BLOCKS: dict[str, Callable[[_Checker, Any, str], None]] = {
    "errors": _check_errors,
    "face_engine": _check_engine,
    "summary": _check_object,
    "tool": _check_object,
}
