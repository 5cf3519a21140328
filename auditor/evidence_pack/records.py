"""The exact log records behind findings, cut out of a bundle (`sparse` puts them back).

An evidence archive publishes only the records that findings rest on, never whole logs. Each
record keeps its location (file, line, record index) and its shape, so that `verify` can rebuild
a *sparse* bundle in which every published record sits at exactly the place it had: the same
file name, the same line number, the same index in its `Records` array. Everything else in that
file is filler the sources skip (blank lines) or count without judging (a filler CloudTrail
record no catalogue entry knows). The real sources then parse the sparse files, so the events,
and with them the findings' ids, come out exactly as in the original audit.

Shapes:
- `line`: the event is located by line alone (JSON lines, text, one CloudTrail record a line):
  the raw bytes of that line are published as they are.
- `line-record`: a `{"Records":[...]}` document on one line (S3 delivery files): the record at
  that index is published (re-serialised JSON: its content, not its original bytes).
- `document-record`: a pretty-printed CloudTrail document: likewise, by index.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from auditor.config.bundlefs import BundleFS, PathEscape
from auditor.core.errors import AuditorError
from auditor.core.report import EventRef
from auditor.sources import locate

#: The largest record an archive may publish (a bigger one is refused, never cut).
MAX_RECORD_BYTES = 8 * 1024 * 1024
#: How far into a file a record is looked for: the report's excerpts look as far (one locator).
MAX_LINE = locate.MAX_LINE
#: The highest record index an archive may publish.
MAX_SPARSE_INDEX = 5_000_000


class RecordError(AuditorError):
    """A record could not be cut out of its file, or an archive's record is malformed."""


@dataclass(frozen=True)
class Record:
    """One published log record and where it was."""

    file: str
    line: int | None
    record: int | None
    source: str | None
    raw: bytes

    @property
    def shape(self) -> str:
        if self.record is None:
            return "line"
        return "document-record" if self.line is None else "line-record"

    def as_dict(self) -> dict[str, Any]:
        """One line of records.jsonl: text when UTF-8, base64 otherwise; hashed either way."""
        try:
            text, encoding = self.raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = base64.b64encode(self.raw).decode("ascii"), "base64"
        return {
            "file": self.file,
            "line": self.line,
            "record": self.record,
            "source": self.source,
            "shape": self.shape,
            "encoding": encoding,
            "sha256": hashlib.sha256(self.raw).hexdigest(),
            "raw": text,
        }

    @classmethod
    def from_dict(cls, obj: Any, where: str) -> Record:
        """Parse one records.jsonl entry; anything odd is a RecordError naming `where`."""
        if not isinstance(obj, dict):
            raise RecordError(f"{where}: not a JSON object")
        file, line, record = obj.get("file"), obj.get("line"), obj.get("record")
        source, encoding, raw, digest = (
            obj.get("source"),
            obj.get("encoding"),
            obj.get("raw"),
            obj.get("sha256"),
        )
        if not isinstance(file, str) or not is_log_path(file):
            raise RecordError(
                f"{where}: file must be a plain path under logs/ (no '..', '.', empty, absolute "
                "or backslashed parts)"
            )
        for name, value, least in (("line", line, 1), ("record", record, 0)):
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < least
            ):
                raise RecordError(f"{where}: {name} must be an integer of at least {least} or null")
        if line is None and record is None:
            raise RecordError(f"{where}: a record needs a line or a record index")
        if record is not None and record > MAX_SPARSE_INDEX:
            raise RecordError(f"{where}: record index {record} is beyond {MAX_SPARSE_INDEX:,}")
        if line is not None and line > MAX_LINE:
            raise RecordError(f"{where}: line {line} is beyond {MAX_LINE:,}")
        if source is not None and not isinstance(source, str):
            raise RecordError(f"{where}: source must be a string")
        if not isinstance(raw, str) or encoding not in ("utf-8", "base64"):
            raise RecordError(f"{where}: raw must be text with encoding utf-8 or base64")
        try:
            data = (
                raw.encode("utf-8") if encoding == "utf-8" else base64.b64decode(raw, validate=True)
            )
        except (ValueError, UnicodeEncodeError) as exc:
            raise RecordError(f"{where}: raw cannot be decoded: {exc}") from None
        if len(data) > MAX_RECORD_BYTES:
            raise RecordError(f"{where}: record larger than {MAX_RECORD_BYTES:,} bytes")
        if digest != hashlib.sha256(data).hexdigest():
            raise RecordError(f"{where}: the record's bytes do not match its sha256")
        return cls(file, line, record, source, data)


def is_log_path(file: str) -> bool:
    """A path as the audit writes it: `logs/` then plain names; checked as a path, not a prefix,
    so `logs/x/../../principals.toml` is refused like `../principals.toml`."""
    if not file.startswith("logs/") or "\\" in file or "\x00" in file or len(file) > 4096:
        return False
    parts = file.split("/")
    return len(parts) >= 2 and all(p not in ("", ".", "..") for p in parts)


# -- cutting records out of a bundle ------------------------------------------------------------


def _published(hit: locate.Hit | None, where: str) -> bytes:
    """The bytes an archive publishes for one located record: a line as it is, a record of a
    document re-serialised (its content, not its original bytes)."""
    if hit is None:
        raise RecordError(f"{where}: record not found in the file")
    if hit.raw is not None:
        return hit.raw
    try:
        data: bytes = orjson.dumps(hit.value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError as exc:
        raise RecordError(f"{where}: the record cannot be written again: {exc}") from None
    return data


def cut(fs: BundleFS, events: Iterable[EventRef], sources: dict[str, str | None]) -> list[Record]:
    """The records behind report events (located by file, line, record), each file read once.

    Paths stay inside the bundle; a record that cannot be found again is a RecordError (an
    archive that silently lacks evidence is worse than none).
    """
    wanted: dict[str, set[tuple[int | None, int | None]]] = {}
    for ev in events:
        keys = wanted.setdefault(ev.file, set())
        keys.add((ev.line, ev.record))
        keys.update((n, None) for n in _record_lines(ev.file, ev.attributes))
    out: list[Record] = []
    for file in sorted(wanted):
        try:
            rel = fs.safe(file)
            fs.check(rel)
        except FileNotFoundError:
            raise RecordError(f"{file}: not in the bundle any more") from None
        except PathEscape as exc:
            raise RecordError(f"{file}: {exc}") from None
        keys = wanted[file]
        try:
            found = _cut_file(fs, rel, file, keys)
        except (OSError, EOFError, ValueError) as exc:
            raise RecordError(f"{file}: cannot be read again: {exc}") from None
        out.extend(
            Record(file, line, record, sources.get(file), found[(line, record)])
            for line, record in sorted(keys, key=_sort_key)
        )
    return out


def _record_lines(file: str, attributes: Mapping[str, str]) -> list[int]:
    """The other lines an event rests on, from its `record_lines` attribute (`16,19-49`): the
    sources of multi-line logs (a Double Take result dump) name them; each is published too."""
    text = attributes.get("record_lines")
    if text is None:
        return []
    out: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        try:
            lo, hi = int(first), int(last or first)
        except ValueError:
            raise RecordError(f"{file}: bad record_lines {text!r}") from None
        if not 1 <= lo <= hi or hi - lo > 100_000:
            raise RecordError(f"{file}: bad record_lines {text!r}")
        out.extend(range(lo, hi + 1))
    return out


def _sort_key(key: tuple[int | None, int | None]) -> tuple[int, int]:
    return (key[0] if key[0] is not None else -1, key[1] if key[1] is not None else -1)


def _cut_file(
    fs: BundleFS, rel: str, file: str, keys: set[tuple[int | None, int | None]]
) -> dict[tuple[int | None, int | None], bytes]:
    found = locate.find(fs, rel, keys)
    out: dict[tuple[int | None, int | None], bytes] = {}
    for key in keys:
        where = f"{file}:{key[0]}" if key[0] is not None else f"{file} record {key[1]}"
        out[key] = _published(found.get(key), where)
        if len(out[key]) > MAX_RECORD_BYTES:
            raise RecordError(f"{file}: a record is larger than {MAX_RECORD_BYTES:,} bytes")
    return out
