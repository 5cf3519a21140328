"""The loader's collector of located problems: every check appends a ConfigError with the
file, line and field (`auditor policy lint` shows them all at once)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import auditor.policy.schema as S
from auditor.core.errors import ConfigError, Location
from auditor.policy.locate import Locator, field_name
from auditor.policy.pack import Duration, Window
from auditor.policy.zones import valid_zone

#: A path into the TOML data: table keys and array indexes.
P = tuple[str | int, ...]


class Checker:
    """Collects located problems while the loader walks the data."""

    def __init__(self, display: str, lines: list[str]) -> None:
        self.display = display
        self.locator = Locator(lines)
        self.errors: list[ConfigError] = []

    def add(self, message: str, path: P) -> None:
        line = self.locator.line(path)
        self.errors.append(
            ConfigError(message, Location(self.display, line, None, field_name(path) or None))
        )

    def keys(self, raw: dict[str, Any], table: str, path: P) -> None:
        for key in sorted(set(raw) - set(S.KEYS[table])):
            self.add(f"unknown key {key!r} (known: {', '.join(S.KEYS[table])})", (*path, key))

    def text(self, raw: dict[str, Any], key: str, path: P, required: bool = False) -> str:
        value = raw.get(key)
        if value is None:
            if required:
                self.add(f"missing {key}", (*path, key))
            return ""
        if not isinstance(value, str) or (required and not value):
            self.add("must be a non-empty string" if required else "must be a string", (*path, key))
            return ""
        return value

    def choice(
        self, raw: dict[str, Any], key: str, allowed: tuple[str, ...], path: P, default: str = ""
    ) -> str:
        value = raw.get(key, default)
        if value == default and key not in raw:
            return default
        if value not in allowed:
            self.add(f"{key} must be one of {', '.join(allowed)} (got {value!r})", (*path, key))
            return default
        return str(value)

    def strings(
        self, raw: dict[str, Any], key: str, path: P, default: tuple[str, ...] = ()
    ) -> tuple[str, ...]:
        value = raw.get(key)
        if value is None:
            return default
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.add("must be a list of non-empty strings", (*path, key))
            return default
        return tuple(value)

    def table(self, raw: dict[str, Any], key: str, path: P) -> dict[str, Any]:
        value = raw.get(key, {})
        if not isinstance(value, dict):
            self.add("must be a table", (*path, key))
            return {}
        return value

    def tables(self, raw: dict[str, Any], key: str, path: P) -> list[dict[str, Any]]:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.add("must be an array of tables", (*path, key))
            return []
        return value

    def day(self, raw: dict[str, Any], key: str, path: P) -> datetime | None:
        value = raw.get(key)
        if value is None:
            return None
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        self.add("must be a TOML date such as 2020-06-10 (not a string)", (*path, key))
        return None

    def duration(self, raw: dict[str, Any], key: str, path: P) -> Duration | None:
        if key not in raw:
            return None
        try:
            return Duration.parse(raw[key])
        except ValueError as exc:
            self.add(str(exc), (*path, key))
            return None

    def window(self, raw: dict[str, Any], path: P, table: str = "effective") -> Window:
        self.keys(raw, table, path)
        start, until = self.day(raw, "from", path), self.day(raw, "until", path)
        if start and until and until <= start:
            self.add("until must be after from", (*path, "until"))
        conf = self.choice(raw, "confidence", S.CONFIDENCE, path, "P")
        return Window(start, until, conf, self.text(raw, "note", path), self.zone(raw, path))

    def zone(self, raw: dict[str, Any], path: P, key: str = "timezone") -> str:
        name = self.text(raw, key, path)
        if name and not valid_zone(name):
            self.add(
                f"unknown IANA time zone {name!r} (e.g. America/New_York, Europe/Brussels)",
                (*path, key),
            )
            return ""
        return name

    def zone_map(self, raw: dict[str, Any], path: P) -> tuple[tuple[str, str], ...]:
        table = self.table(raw, "zones", path)
        out = []
        for place, name in table.items():
            if not isinstance(name, str) or not valid_zone(name):
                self.add(f"unknown IANA time zone {name!r} for {place!r}", (*path, "zones", place))
                continue
            out.append((str(place), name))
        return tuple(out)

    def cites(self, raw: dict[str, Any], path: P, sources: set[str]) -> tuple[str, ...]:
        cite = self.strings(raw, "cite", path)
        for c in cite:
            if c not in sources:
                self.add(f"cites unknown source {c!r}", (*path, "cite"))
        return cite
