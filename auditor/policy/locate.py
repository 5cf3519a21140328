"""Find the line of any part of a pack file, named by a path such as ("rules", 2, "severity").

Packs nest arrays of tables (`[[rules]]` holding `[[rules.exceptions]]`), so "the second
exception of the fourth rule" is only found by walking headers inside the rule's own span.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_\-.]+)\s*=""")

Path = tuple[str | int, ...]


def field_name(path: Path) -> str:
    """("rules", 2, "exceptions", 0, "id") -> "rules[2].exceptions[0].id"."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


class Locator:
    """Line numbers (1-based) of tables and keys in one TOML text."""

    def __init__(self, lines: list[str]) -> None:
        # blank out the inside of multi-line strings, so a summary line reading `x = 1` or
        # `[note]` is never taken for a key or a table header
        self.lines = []
        quote: str | None = None
        for text in lines:
            opened = quote
            for q in ('"""', "'''"):
                if (quote in (None, q)) and text.count(q) % 2:
                    quote = None if quote == q else q
            self.lines.append("" if opened else text)
        self.headers: list[tuple[int, str]] = []
        for no, text in enumerate(self.lines):
            m = _HEADER.match(text)
            if m and not _KEY.match(text):
                self.headers.append((no, m.group(1).strip().replace(" ", "")))
        self._header_lines = {no for no, _ in self.headers}

    def _nth(self, name: str, n: int, lo: int, hi: int) -> int | None:
        seen = -1
        for no, hname in self.headers:
            if lo <= no < hi and hname == name:
                seen += 1
                if seen == n:
                    return no
        return None

    def _end(self, start: int, name: str, hi: int) -> int:
        for no, hname in self.headers:
            if start < no < hi and (hname == name or not hname.startswith(name + ".")):
                return no
        return hi

    def _key(self, start: int, key: str) -> int | None:
        for no in range(start, len(self.lines)):
            if no > start and no in self._header_lines:
                return None
            m = _KEY.match(self.lines[no])
            if m and m.group(1).strip("\"'") == key:
                return no + 1
        return None

    def line(self, path: Path) -> int | None:
        """Best line for `path`: the key's line, else its table's header, else None."""
        lo, hi = 0, len(self.lines)
        prefix = ""
        table: int | None = None
        i = 0
        while i < len(path):
            part = path[i]
            if isinstance(part, int):
                i += 1
                continue
            name = f"{prefix}.{part}" if prefix else part
            index = path[i + 1] if i + 1 < len(path) and isinstance(path[i + 1], int) else None
            found = self._nth(name, int(index or 0), lo, hi)
            if found is None:
                break
            table, prefix = found, name
            lo, hi = found, self._end(found, name, hi)
            i += 2 if index is not None else 1
        if i < len(path) and isinstance(path[i], str):
            start = table if table is not None else 0
            if table is None:
                key_line = self._key_top(str(path[i]))
            else:
                key_line = self._key(start, str(path[i]))
            if key_line is not None:
                return key_line
        return table + 1 if table is not None else None

    def _key_top(self, key: str) -> int | None:
        first = self.headers[0][0] if self.headers else len(self.lines)
        for no in range(first):
            m = _KEY.match(self.lines[no])
            if m and m.group(1).strip("\"'") == key:
                return no + 1
        for no, name in self.headers:
            if name == key:
                return no + 1
        return None
