"""audit.toml: what the log sources need from it, checked strictly and with every problem located.

A typo in audit.toml (an unknown key in `[[text]]`, `source = "cloudtrial"`, a number where a
glob belongs) would otherwise silently change what is audited. So every key is known, every value
has a checked type, and all problems are collected and reported together as
`audit.toml:LINE: field: message` (exit 2), as packs are.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import regex

from auditor.config import logformat, tomlfile
from auditor.core.errors import ConfigError, ConfigErrors


@dataclass(frozen=True)
class JsonlMapping:
    """A field mapping for JSON-lines logs of another shape: our field -> their dotted path."""

    glob: str
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class TextPattern:
    """A regular expression with named groups that turns one plain-text log line into a record."""

    glob: str
    pattern: str
    time_format: str | None = None


@dataclass(frozen=True)
class HttpLogFormat:
    """An access-log line format (Apache LogFormat or nginx log_format) for the `httplog` source.

    `glob` "*" (none given) applies it to every file read as an access log; an explicit glob
    also makes `httplog` read the files it names, whatever their first line looks like."""

    glob: str
    format: str


@dataclass(frozen=True)
class SourceSettings:
    """What the log sources need from audit.toml; plain data so it travels to worker processes."""

    frame_prefixes: tuple[tuple[str, str], ...] = ()
    jsonl_mappings: tuple[JsonlMapping, ...] = ()
    text_patterns: tuple[TextPattern, ...] = ()
    overrides: tuple[tuple[str, str], ...] = ()
    timezone: str = "UTC"
    httplog_formats: tuple[HttpLogFormat, ...] = ()
    #: `[[sources]] syslog_year`: (glob, year) for RFC 3164 syslog times, which have no year
    syslog_years: tuple[tuple[str, int], ...] = ()

    def syslog_year_for(self, rel: str) -> int | None:
        """The declared year of the RFC 3164 times in this file, if audit.toml gives one."""
        for glob, year in self.syslog_years:
            if fnmatch.fnmatchcase(rel, glob):
                return year
        return None

    def mapping_for(self, rel: str) -> JsonlMapping | None:
        """The first JSONL mapping whose glob matches the bundle-relative path."""
        for mapping in self.jsonl_mappings:
            if fnmatch.fnmatchcase(rel, mapping.glob):
                return mapping
        return None

    def source_override(self, rel: str) -> str | None:
        """A source forced by `[[sources]]` in audit.toml for this path, if any."""
        for glob, name in self.overrides:
            if fnmatch.fnmatchcase(rel, glob):
                return name
        for fmt in self.httplog_formats:
            if fmt.glob != "*" and fnmatch.fnmatchcase(rel, fmt.glob):
                return "httplog"
        return None

    def httplog_formats_for(self, rel: str) -> tuple[str, ...]:
        """The `[[httplog]]` formats that apply to a bundle-relative path, in file order."""
        return tuple(f.format for f in self.httplog_formats if fnmatch.fnmatchcase(rel, f.glob))


#: Keys each part of audit.toml may have; anything else is a located error.
KEYS: dict[str, tuple[str, ...]] = {
    "": ("name", "timezone", "frames", "jsonl", "text", "sources", "httplog", "description"),
    "jsonl": ("glob", "fields"),
    "text": ("glob", "pattern", "time_format"),
    "sources": ("glob", "source", "syslog_year"),
    "httplog": ("glob", "format"),
}
#: Field names a `[jsonl.fields]` mapping may use: the core fields, and any snake_case
#: attribute name (country, camera, warrant_ref, ...) that rules can then ask for.
_MAPPABLE = re.compile(r"^[a-z][a-z0-9_]*$")


class _Collect:
    """Gathers located problems so that one run of the loader reports all of them."""

    def __init__(self, doc: tomlfile.TomlDoc) -> None:
        self.doc = doc
        self.errors: list[ConfigError] = []

    def add(
        self,
        message: str,
        table: str | None = None,
        index: int | None = None,
        key: str | None = None,
        field: str | None = None,
    ) -> None:
        self.errors.append(self.doc.error(message, table, index, key, field))

    def string(
        self, entry: dict[str, Any], key: str, table: str, index: int, required: bool = False
    ) -> str | None:
        value = entry.get(key)
        where = f"{table}[{index}].{key}"
        if value is None:
            if required:
                self.add(f"needs a `{key}` string", table, index, field=where)
            return None
        if not isinstance(value, str) or (required and not value):
            self.add(
                f"must be a {'non-empty ' if required else ''}string, not {type(value).__name__}",
                table,
                index,
                key=key,
                field=where,
            )
            return None
        return value

    def known(self, entry: dict[str, Any], table: str, index: int) -> None:
        for key in sorted(set(entry) - set(KEYS[table])):
            self.add(
                f"unknown key {key!r} (known: {', '.join(KEYS[table])})",
                table,
                index,
                key=key,
                field=f"{table}[{index}].{key}",
            )


def parse(
    doc: tomlfile.TomlDoc, known_sources: Collection[str]
) -> tuple[str | None, SourceSettings]:
    """(bundle name or None, settings) from audit.toml; raises ConfigErrors with every problem.

    `known_sources` are the names a `source = "..."` override may use: the sources registry
    owns them, and this layer sits below it, so the caller passes them in. Each table is read
    by its own function into the one `_Collect`, so every problem of the file is reported at
    once, located."""
    c = _Collect(doc)
    data = doc.data
    for key in sorted(set(data) - set(KEYS[""])):
        c.add(f"unknown setting {key!r} (known: {', '.join(KEYS[''])})", key=key, field=key)
    name = _name(c, data)
    tz = _timezone(c, data)
    prefixes = _frames(c, data)
    mappings = _jsonl(c)
    patterns = _text(c)
    overrides, years = _sources(c, known_sources)
    formats = _httplog_formats(c)
    if c.errors:
        raise ConfigErrors(c.errors)
    return name, SourceSettings(
        tuple(prefixes),
        tuple(mappings),
        tuple(patterns),
        tuple(overrides),
        tz,
        httplog_formats=formats,
        syslog_years=tuple(years),
    )


def _name(c: _Collect, data: dict[str, Any]) -> str | None:
    """`name` (and a check of `description`): the bundle's name shown in reports."""
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        c.add(f"must be a string, not {type(name).__name__}", key="name", field="name")
        name = None
    if not isinstance(data.get("description", ""), str):
        c.add("must be a string", key="description", field="description")
    return name


def _timezone(c: _Collect, data: dict[str, Any]) -> str:
    """`timezone`: an IANA name the zone database knows (UTC when absent or bad)."""
    tz = data.get("timezone", "UTC")
    if not isinstance(tz, str):
        c.add(f"must be a string, not {type(tz).__name__}", key="timezone", field="timezone")
        return "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        c.add(f"unknown timezone {tz!r}", key="timezone", field="timezone")
        return "UTC"
    return tz


def _frames(c: _Collect, data: dict[str, Any]) -> list[tuple[str, str]]:
    """`[frames]`: prefix = folder, longest prefix first (the longest one wins)."""
    frames = data.get("frames", {})
    prefixes = []
    if not isinstance(frames, dict):
        c.add("[frames] must be a table of prefix = folder", key="frames", field="frames")
        frames = {}
    for prefix, folder in frames.items():
        if not isinstance(folder, str):
            c.add("frame folder must be a string", "frames", key=prefix, field=f"frames.{prefix}")
        else:
            prefixes.append((prefix, folder))
    prefixes.sort(key=lambda p: -len(p[0]))
    return prefixes


def _jsonl(c: _Collect) -> list[JsonlMapping]:
    """`[[jsonl]]`: a glob and a `fields` table mapping our names to the file's field paths."""
    mappings = []
    for i, entry in _array(c, "jsonl"):
        c.known(entry, "jsonl", i)
        glob = c.string(entry, "glob", "jsonl", i) or "*"
        fields = entry.get("fields", {})
        if not isinstance(fields, dict) or not fields:
            c.add("needs a non-empty `fields` table", "jsonl", i, field=f"jsonl[{i}].fields")
            continue
        good = True
        for ours, theirs in fields.items():
            where = f"jsonl[{i}].fields.{ours}"
            if not _MAPPABLE.match(ours):
                c.add(
                    f"bad field name {ours!r} (snake_case: time, principal, country, ...)",
                    "jsonl.fields",
                    i,
                    key=ours,
                    field=where,
                )
                good = False
            if not isinstance(theirs, str) or not theirs:
                c.add("must name a field path", "jsonl.fields", i, key=ours, field=where)
                good = False
        if good:
            mappings.append(JsonlMapping(glob, tuple(sorted(fields.items()))))
    return mappings


def _text(c: _Collect) -> list[TextPattern]:
    """`[[text]]`: a glob, a regular expression with `time` and `operation` groups, and an
    optional time format."""
    patterns = []
    for i, entry in _array(c, "text"):
        c.known(entry, "text", i)
        glob = c.string(entry, "glob", "text", i) or "*"
        fmt = c.string(entry, "time_format", "text", i)
        pattern = c.string(entry, "pattern", "text", i, required=True)
        if pattern is None:
            continue
        problem = _pattern_problem(pattern)
        if problem:
            c.add(problem, "text", i, key="pattern", field=f"text[{i}].pattern")
            continue
        patterns.append(TextPattern(glob, pattern, fmt))
    return patterns


def _pattern_problem(pattern: str) -> str | None:
    try:
        compiled = regex.compile(pattern)
    except (regex.error, OverflowError, ValueError) as exc:
        return f"bad regular expression: {exc}"
    missing = {"time", "operation"} - set(compiled.groupindex)
    if missing:
        return f"pattern lacks named groups: {', '.join(sorted(missing))}"
    return None


def _sources(
    c: _Collect, known_sources: Collection[str]
) -> tuple[list[tuple[str, str]], list[tuple[str, int]]]:
    """`[[sources]]`: (glob, source) overrides and (glob, syslog year) pins."""
    overrides, years = [], []
    for i, entry in _array(c, "sources"):
        c.known(entry, "sources", i)
        chosen = c.string(entry, "glob", "sources", i, required=True)
        year = _syslog_year(c, entry, i)
        if chosen is not None and year is not None:
            years.append((chosen, year))
        source = c.string(entry, "source", "sources", i, required="syslog_year" not in entry)
        if source is None:
            continue
        if source not in known_sources:
            c.add(
                f"unknown source {source!r} (known: {', '.join(known_sources)})",
                "sources",
                i,
                key="source",
                field=f"sources[{i}].source",
            )
        elif chosen is not None:
            overrides.append((chosen, source))
    return overrides, years


def _syslog_year(c: _Collect, entry: dict[str, Any], i: int) -> int | None:
    """`syslog_year`: the year of the RFC 3164 times (`May 11 17:29:26`) in the files of
    `glob`, which carry none (see `sources.wrapped`)."""
    year = entry.get("syslog_year")
    if year is None:
        return None
    if isinstance(year, bool) or not isinstance(year, int) or not 1970 <= year <= 9999:
        c.add(
            "must be a year from 1970 to 9999",
            "sources",
            i,
            key="syslog_year",
            field=f"sources[{i}].syslog_year",
        )
        return None
    return year


def _httplog_formats(c: _Collect) -> tuple[HttpLogFormat, ...]:
    """`[[httplog]]` tables: each format must parse (apachelogs) and name a request."""
    formats = []
    for i, entry in _array(c, "httplog"):
        c.known(entry, "httplog", i)
        glob = c.string(entry, "glob", "httplog", i) or "*"
        fmt = c.string(entry, "format", "httplog", i, required=True)
        if fmt is None:
            continue
        try:
            logformat.compile_format(fmt)
        except logformat.FormatError as exc:
            c.add(
                f"bad access-log format: {exc}",
                "httplog",
                i,
                key="format",
                field=f"httplog[{i}].format",
            )
            continue
        formats.append(HttpLogFormat(glob, fmt))
    return tuple(formats)


def _array(c: _Collect, key: str) -> list[tuple[int, dict[str, Any]]]:
    value = c.doc.data.get(key, [])
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        c.add(f"[[{key}]] must be an array of tables", key=key, field=key)
        return []
    return list(enumerate(value))
