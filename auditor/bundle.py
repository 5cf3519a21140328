"""The audit bundle: its folders, its audit.toml, and the rule that every path stays inside it.

Logs name frames by S3 key or by relative path; both are untrusted input. `safe_relpath` is the
one gate every such reference goes through: absolute paths, `..` that climbs out, and symlinks
that lead out are refused before anything is opened.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from auditor import tomlfile
from auditor.errors import BundleError, Location

AUDIT_TOML = "audit.toml"
PRINCIPALS_TOML = "principals.toml"


class PathEscape(ValueError):
    """A reference that would leave the bundle (or is not a usable relative path)."""


def safe_relpath(root: Path, ref: str) -> str:
    """Normalise `ref` to a bundle-relative POSIX path, or raise PathEscape.

    `root` must already be resolved. A path that exists is also resolved, so a symlink inside the
    bundle that points outside it is refused too.
    """
    if not ref or "\x00" in ref:
        raise PathEscape("empty path or NUL byte")
    text = ref.replace("\\", "/")
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text) or "://" in text:
        raise PathEscape(f"absolute path {ref!r} is outside the bundle")
    parts: list[str] = []
    for part in PurePosixPath(text).parts:
        if part == "..":
            if not parts:
                raise PathEscape(f"path {ref!r} climbs out of the bundle")
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    if not parts:
        raise PathEscape(f"path {ref!r} names the bundle itself")
    norm = "/".join(parts)
    full = root.joinpath(*parts)
    if full.is_symlink() or full.exists():
        real = full.resolve()
        if not real.is_relative_to(root):
            raise PathEscape(f"path {ref!r} leads outside the bundle (symlink)")
    return norm


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
class SourceSettings:
    """What the log sources need from audit.toml; plain data so it travels to worker processes."""

    frame_prefixes: tuple[tuple[str, str], ...] = ()
    jsonl_mappings: tuple[JsonlMapping, ...] = ()
    text_patterns: tuple[TextPattern, ...] = ()
    overrides: tuple[tuple[str, str], ...] = ()
    timezone: str = "UTC"

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
        return None


@dataclass
class Bundle:
    """An audit bundle on disk, with its audit.toml read and checked."""

    root: Path
    name: str
    settings: SourceSettings
    config_file: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def files(self, folder: str) -> list[str]:
        """Bundle-relative paths of the regular files under `folder`, sorted (deterministic)."""
        base = self.root / folder
        if not base.is_dir():
            return []
        return sorted(
            path.relative_to(self.root).as_posix()
            for path in base.rglob("*")
            if path.is_file() or path.is_symlink()
        )


def open_bundle(path: Path) -> Bundle:
    """Check that `path` is a bundle folder and read its audit.toml (if any)."""
    if not path.exists():
        raise BundleError("bundle not found", Location(str(path)))
    if not path.is_dir():
        raise BundleError("bundle must be a folder", Location(str(path)))
    root = path.resolve()
    config = root / AUDIT_TOML
    if not config.is_file():
        return Bundle(root=root, name=root.name, settings=SourceSettings())
    doc = tomlfile.load(config, AUDIT_TOML)
    return Bundle(
        root=root,
        name=str(doc.data.get("name", root.name)),
        settings=_settings(doc),
        config_file=AUDIT_TOML,
    )


_KNOWN_TOP = {"name", "timezone", "frames", "jsonl", "text", "sources", "description"}
#: Field names a `[jsonl.fields]` mapping may use: the core fields, and any snake_case
#: attribute name (country, camera, warrant_ref, ...) that rules can then ask for.
_MAPPABLE = re.compile(r"^[a-z][a-z0-9_]*$")


def _settings(doc: tomlfile.TomlDoc) -> SourceSettings:
    data = doc.data
    for key in data:
        if key not in _KNOWN_TOP:
            raise doc.error(f"unknown setting {key!r}", key=key, field=key)
    tz = data.get("timezone", "UTC")
    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        raise doc.error(f"unknown timezone {tz!r}", key="timezone", field="timezone") from None

    frames = data.get("frames", {})
    if not isinstance(frames, dict):
        raise doc.error("[frames] must be a table of prefix = folder", key="frames", field="frames")
    prefixes = []
    for prefix, folder in frames.items():
        if not isinstance(folder, str):
            raise doc.error(
                "frame folder must be a string", "frames", key=prefix, field=f"frames.{prefix}"
            )
        prefixes.append((prefix, folder))
    prefixes.sort(key=lambda p: -len(p[0]))  # longest prefix wins

    mappings = []
    for i, entry in enumerate(_array(doc, "jsonl")):
        fields = entry.get("fields", {})
        if not isinstance(fields, dict) or not fields:
            raise doc.error(
                "needs a non-empty `fields` table", "jsonl", i, field=f"jsonl[{i}].fields"
            )
        for ours, theirs in fields.items():
            if not _MAPPABLE.match(ours):
                raise doc.error(
                    f"bad field name {ours!r} (snake_case: time, principal, country, ...)",
                    "jsonl.fields",
                    i,
                    key=ours,
                    field=f"jsonl[{i}].fields.{ours}",
                )
            if not isinstance(theirs, str) or not theirs:
                raise doc.error(
                    "must name a field path",
                    "jsonl.fields",
                    i,
                    key=ours,
                    field=f"jsonl[{i}].fields.{ours}",
                )
        mappings.append(
            JsonlMapping(
                str(entry.get("glob", "*")), tuple(sorted((k, str(v)) for k, v in fields.items()))
            )
        )

    patterns = []
    for i, entry in enumerate(_array(doc, "text")):
        pattern = entry.get("pattern")
        if not isinstance(pattern, str):
            raise doc.error("needs a `pattern` string", "text", i, field=f"text[{i}].pattern")
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise doc.error(
                f"bad regular expression: {exc}",
                "text",
                i,
                key="pattern",
                field=f"text[{i}].pattern",
            ) from None
        missing = {"time", "operation"} - set(compiled.groupindex)
        if missing:
            raise doc.error(
                f"pattern lacks named groups: {', '.join(sorted(missing))}",
                "text",
                i,
                key="pattern",
                field=f"text[{i}].pattern",
            )
        fmt = entry.get("time_format")
        patterns.append(
            TextPattern(str(entry.get("glob", "*")), pattern, str(fmt) if fmt is not None else None)
        )

    overrides = []
    for i, entry in enumerate(_array(doc, "sources")):
        glob, name = entry.get("glob"), entry.get("source")
        if not isinstance(glob, str) or not isinstance(name, str):
            raise doc.error(
                "needs `glob` and `source` strings", "sources", i, field=f"sources[{i}]"
            )
        overrides.append((glob, name))
    return SourceSettings(
        tuple(prefixes), tuple(mappings), tuple(patterns), tuple(overrides), str(tz)
    )


def _array(doc: tomlfile.TomlDoc, key: str) -> list[dict[str, object]]:
    value = doc.data.get(key, [])
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise doc.error(f"[[{key}]] must be an array of tables", key=key, field=key)
    return value
