"""Read TOML files and point errors at the line they are about.

`tomllib` reports syntax errors with a line but forgets positions once parsed. Validation errors
("rule 3 has no severity") must still say `pack.toml:41: ...`, so `TomlDoc` keeps the text and
finds the line of a table or key again on demand. It understands `[table]`, `[[array]]` and
`key = value` lines, which covers the files this project reads.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.core.errors import ConfigError, Location

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_\-.]+)\s*=""")
_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclass
class TomlDoc:
    """A parsed TOML file plus what is needed to locate its parts."""

    path: Path | None
    display: str
    data: dict[str, Any]
    lines: list[str]

    def line_of(
        self, table: str | None = None, index: int | None = None, key: str | None = None
    ) -> int | None:
        """Line of `[table]` / the `index`-th `[[table]]`, or of `key` inside it (1-based)."""
        start, end = 0, len(self.lines)
        if table is not None:
            found = None
            seen = -1
            for no, text in enumerate(self.lines):
                m = _HEADER.match(text)
                if not m:
                    continue
                name = m.group(2).strip()
                if found is not None:
                    # the table ends at the next header that is not a sub-table of it
                    if not name.startswith(table + "."):
                        end = no
                        break
                    continue
                if name == table:
                    seen += 1
                    if index is None or seen == index:
                        found = no
            if found is None:
                return None
            start = found
        if key is None:
            return start + 1 if table is not None else None
        for no in range(start, end):
            text = self.lines[no]
            if table is not None and no > start and _HEADER.match(text):
                # keys of sub-tables ([rules.x]) belong to them, not to us
                break
            m = _KEY.match(text)
            if m and m.group(1).strip("\"'") == key:
                return no + 1
        return start + 1 if table is not None else None

    def error(
        self,
        message: str,
        table: str | None = None,
        index: int | None = None,
        key: str | None = None,
        field: str | None = None,
    ) -> ConfigError:
        """A ConfigError located at the table/key, naming `field` (e.g. `rules[2].severity`)."""
        line = self.line_of(table, index, key)
        return ConfigError(message, Location(self.display, line, None, field))


def load(path: Path, display: str | None = None) -> TomlDoc:
    """Parse `path`; a syntax error becomes a ConfigError with the file and line."""
    shown = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", Location(shown)) from None
    return parse(raw, shown, path)


def parse(raw: bytes, shown: str, path: Path | None = None) -> TomlDoc:
    """Parse TOML bytes already read (a bundle file in object storage has no local path)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError("not valid UTF-8", Location(shown, line)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _TOML_POS.search(msg)
        at = int(m.group(1)) if m else None
        msg = _TOML_POS.sub("", msg).strip()
        raise ConfigError(f"invalid TOML: {msg}", Location(shown, at)) from None
    return TomlDoc(path, shown, data, text.splitlines())
