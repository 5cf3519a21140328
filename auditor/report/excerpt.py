"""Log excerpts for the HTML report: the raw record behind each finding, bounded in size.

Read at render time from the bundle folder (paths checked to stay inside it): the line for
line-located events (JSON lines, text logs, one-record-per-line CloudTrail), or the record of a
CloudTrail `Records` document by index. Each file is read at most once per report, and big files
or excerpts are cut rather than loaded whole. The text is shown escaped, never interpreted.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from auditor.bundle import PathEscape, safe_relpath

MAX_CHARS = 3000
MAX_DOC_BYTES = 32 * 1024 * 1024
MAX_LINE_SCAN = 2_000_000


def _cut(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS] + f" … [{len(text):,} chars, cut]"


def _open(path: Path) -> Any:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return path.open("r", encoding="utf-8", errors="replace")


def _lines(path: Path, wanted: set[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    last = max(wanted)
    with _open(path) as fh:
        for n, text in enumerate(fh, start=1):
            if n in wanted:
                out[n] = _cut(text.rstrip("\r\n"))
            if n >= last or n >= MAX_LINE_SCAN:
                break
    return out


def _records(path: Path, wanted: set[int]) -> dict[int, str]:
    if path.stat().st_size > MAX_DOC_BYTES:
        return {}
    with _open(path) as fh:
        doc = json.load(fh)
    records = doc.get("Records") if isinstance(doc, dict) else doc
    if not isinstance(records, list):
        return {}
    return {i: _cut(json.dumps(records[i], indent=2, sort_keys=True, ensure_ascii=False))
            for i in wanted if 0 <= i < len(records)}


def excerpts(bundle_root: str, events: Iterable[dict[str, Any]]) -> dict[tuple[str, int | None,
                                                                                int | None], str]:
    """(file, record, line) -> excerpt text for every event that can be found again."""
    root = Path(bundle_root).resolve()
    by_file: dict[str, list[dict[str, Any]]] = {}
    for ev in events:
        by_file.setdefault(ev["file"], []).append(ev)
    out: dict[tuple[str, int | None, int | None], str] = {}
    for file, evs in sorted(by_file.items()):
        try:
            path = root / safe_relpath(root, file)
        except PathEscape:
            continue
        if not path.is_file():
            continue
        lines = {e["line"] for e in evs if e.get("line") is not None}
        records = {e["record"] for e in evs
                   if e.get("line") is None and e.get("record") is not None}
        try:
            found_lines = _lines(path, lines) if lines else {}
            found_records = _records(path, records) if records else {}
        except (OSError, ValueError, EOFError):
            continue
        for e in evs:
            key = (file, e.get("record"), e.get("line"))
            if e.get("line") is not None and e["line"] in found_lines:
                out[key] = found_lines[e["line"]]
            elif e.get("line") is None and e.get("record") in found_records:
                out[key] = found_records[e["record"]]
    return out
