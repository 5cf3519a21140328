"""Log excerpts for the HTML report: the raw record behind each finding, bounded in size.

Read at render time from the bundle folder (paths checked to stay inside it): the line for
line-located events (JSON lines, text logs, one-record-per-line CloudTrail), the record of a
`Records` document by index, or, for an event with both, that record of the document written on
that line (a one-line CloudTrail delivery file). Each file is read at most once per report,
and big files or excerpts are cut rather than loaded whole. The text is shown escaped, never
interpreted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from auditor.config.bundlefs import PathEscape, open_fs
from auditor.report.common import Located
from auditor.sources import locate

MAX_CHARS = 3000
#: Deeper levels of a record are not shown (see `_pruned`).
MAX_DEPTH = 32


def _cut(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS] + f" … [{len(text):,} chars, cut]"


def _pruned(record: Any) -> Any:
    """A copy of `record` whose containers deeper than MAX_DEPTH are replaced by a note.

    Built with an explicit stack: the sources accept records nested up to orjson's limit of
    1,024 levels, deeper than `json.dumps` (which recurses) can write; a reader gains nothing
    from the levels past the cut, and the page stays bounded.
    """
    root: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, int]] = [(record, root, 0, 0)]
    while stack:
        value, parent, key, level = stack.pop()
        if isinstance(value, dict | list) and level >= MAX_DEPTH:
            parent[key] = f"… [nested deeper than {MAX_DEPTH} levels: not shown]"
        elif isinstance(value, dict):
            obj: dict[Any, Any] = {}
            parent[key] = obj
            stack.extend((v, obj, k, level + 1) for k, v in value.items())
        elif isinstance(value, list):
            arr: list[Any] = [None] * len(value)
            parent[key] = arr
            stack.extend((v, arr, i, level + 1) for i, v in enumerate(value))
        else:
            parent[key] = value
    return root[0]


def _show(record: Any) -> str | None:
    """A record as indented JSON, cut to MAX_CHARS; None when it cannot be written."""
    try:
        return _cut(json.dumps(_pruned(record), indent=2, sort_keys=True, ensure_ascii=False))
    except (RecursionError, ValueError, TypeError):
        return None


def excerpts(
    bundle_root: str, events: Iterable[Located]
) -> dict[tuple[str, int | None, int | None], str]:
    """(file, record, line) -> excerpt text for every event that can be found again.

    An event with both a line and a record index is a record of a document on that line: its
    excerpt is that record, or the (cut) line when the record cannot be found again.
    """
    try:
        fs = open_fs(bundle_root)
    except PathEscape:
        return {}
    by_file: dict[str, list[Located]] = {}
    for ev in events:
        by_file.setdefault(ev.file, []).append(ev)
    out: dict[tuple[str, int | None, int | None], str] = {}
    for file, evs in sorted(by_file.items()):
        try:
            path = fs.safe(file)
            fs.check(path)
        except (PathEscape, OSError):
            continue
        keys: set[locate.Key] = set()
        for e in evs:
            keys.add((e.line, e.record))
            if e.line is not None:
                keys.add((e.line, None))  # the line itself, when its record is not found
        try:
            found = locate.find(fs, path, keys)
        except (OSError, ValueError, EOFError, RecursionError):
            continue
        for e in evs:
            text = _text(found, e.line, e.record)
            if text is not None:
                out[(file, e.record, e.line)] = text
    return out


def _text(found: dict[locate.Key, locate.Hit], line: int | None, record: int | None) -> str | None:
    """The excerpt of one event: its record, else (for a record of a line) the cut line."""
    hit = found.get((line, record))
    if hit is not None and hit.value is not None:
        shown = _show(hit.value)
        if shown is not None:
            return shown
    hit = found.get((line, None)) if line is not None else None
    return None if hit is None or hit.raw is None else _cut(hit.raw.decode("utf-8", "replace"))
