"""Baselines: findings a person has accepted, for a while, with a reason and a name.

A baseline file lists finding fingerprints (`findings[].id`, stable across runs over the same
record). A listed finding is still reported, marked `baselined`, but does not fail the gate. Every
entry carries who accepted it, why, and an expiry date: once that date has passed the entry stops
suppressing and the run warns about it, so an exception cannot quietly become permanent.

The file is JSON (`auditor.baseline/v1`), written by `auditor baseline create REPORT.json` and
meant to be reviewed and committed beside the pipeline it gates. The format is in docs/reports.md.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from auditor.core.errors import ConfigError, Location
from auditor.core.report import Report

SCHEMA = "auditor.baseline/v1"
#: The largest baseline file read (about 50,000 entries); a bigger one is refused unread.
MAX_BASELINE_BYTES = 16 * 1024 * 1024


# The typed shape of the file: the shipped JSON Schema is generated from these models
# (`baseline_schema`, `make schemas`); `load` reads files with located messages of its own and
# takes its required and optional keys from `EntryModel`.
class EntryModel(BaseModel):
    """One accepted finding: who accepted it, why, and until when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fingerprint: str = Field(pattern=r"\S", description="the accepted finding's id (findings[].id)")
    reason: str = Field(pattern=r"\S", description="why the finding is accepted")
    who: str = Field(pattern=r"\S", description="who accepted it")
    expires: date = Field(description="the last day (UTC, YYYY-MM-DD) the entry suppresses it")
    pack: str = Field("", description="context for the reviewer, not used for matching")
    rule: str = Field("", description="context for the reviewer, not used for matching")
    title: str = Field("", description="context for the reviewer, not used for matching")
    time: str = Field("", description="the finding's first event time, for the reviewer")
    created: str = Field("", description="the day the entry was made (YYYY-MM-DD)")


class BaselineModel(BaseModel):
    """Findings a person has accepted for a while (`auditor baseline create`)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    schema_: Literal["auditor.baseline/v1"] = Field(alias="schema")
    entries: tuple[EntryModel, ...]


_REQUIRED = tuple(n for n, f in EntryModel.model_fields.items() if f.is_required())
_OPTIONAL = tuple(n for n, f in EntryModel.model_fields.items() if not f.is_required())


def baseline_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of `auditor.baseline/v1`, generated from the models."""
    schema = BaselineModel.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://auditor.invalid/schemas/auditor.baseline-v1.json"
    schema["title"] = SCHEMA
    return schema


@dataclass(frozen=True)
class BaselineEntry:
    """One accepted finding."""

    fingerprint: str
    reason: str
    who: str
    #: Last day (UTC) on which the entry suppresses its finding.
    expires: date
    #: Context for the person reviewing the file; not used for matching.
    pack: str = ""
    rule: str = ""
    title: str = ""
    time: str = ""
    created: str = ""

    def expired(self, today: date) -> bool:
        """True once `today` is after the expiry date."""
        return today > self.expires

    def as_dict(self) -> dict[str, str]:
        """The entry as written in the file."""
        out = {
            "fingerprint": self.fingerprint,
            "reason": self.reason,
            "who": self.who,
            "expires": self.expires.isoformat(),
        }
        for key in _OPTIONAL:
            value = getattr(self, key)
            if value:
                out[key] = value
        return out


@dataclass(frozen=True)
class Baseline:
    """A loaded baseline file."""

    path: str
    entries: tuple[BaselineEntry, ...]


@dataclass(frozen=True)
class Application:
    """What a baseline did to one run's findings."""

    #: Finding ids that a live entry suppresses.
    suppressed: frozenset[str]
    #: Entries past their expiry date (they suppress nothing).
    expired: tuple[BaselineEntry, ...]

    def warnings(self) -> list[str]:
        """One line per expired entry, for stderr and the report's notices."""
        out = []
        for e in self.expired:
            what = " ".join(x for x in (e.pack, e.rule) if x)
            out.append(
                f"baseline entry {e.fingerprint}"
                + (f" ({what})" if what else "")
                + f" expired on {e.expires.isoformat()} (accepted by {e.who}: {e.reason});"
                " it no longer suppresses its finding"
            )
        return out


def _parse_date(value: object, where: Location) -> date:
    if not isinstance(value, str):
        raise ConfigError("must be a date string YYYY-MM-DD", where)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{value!r} is not a date (YYYY-MM-DD)", where) from None


def parse_expiry(text: str) -> date:
    """`--expires` value; raises ConfigError when it is not YYYY-MM-DD."""
    return _parse_date(text, Location("--expires"))


def _entry(raw: object, index: int, display: str) -> BaselineEntry:
    def at(key: str | None = None) -> Location:
        return Location(display, field=f"entries[{index}]" + (f".{key}" if key else ""))

    if not isinstance(raw, dict):
        raise ConfigError("an entry must be a JSON object", at())
    for key in sorted(set(raw) - set(_REQUIRED) - set(_OPTIONAL)):
        raise ConfigError(f"unknown key {key!r}", at(key))
    for key in ("fingerprint", "reason", "who"):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(
                f"missing {key} (every entry needs fingerprint, reason, who and expires)", at(key)
            )
    if "expires" not in raw:
        raise ConfigError(
            "missing expires (an accepted finding must be reviewed again)", at("expires")
        )
    extra = {k: str(raw[k]) for k in _OPTIONAL if raw.get(k) is not None}
    for key in (*_REQUIRED, *_OPTIONAL):
        value = raw.get(key)
        if isinstance(value, str) and not _is_text(value):
            # JSON can spell a lone surrogate (\ud800); no UTF-8 report could show it later
            raise ConfigError("holds a lone surrogate (\\uD800-\\uDFFF), not text", at(key))
    return BaselineEntry(
        fingerprint=raw["fingerprint"].strip(),
        reason=raw["reason"].strip(),
        who=raw["who"].strip(),
        expires=_parse_date(raw["expires"], at("expires")),
        **extra,
    )


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_regular(path: Path, name: str, what: str, max_bytes: int) -> bytes:
    """The bytes of `path`, checked BEFORE it is opened: a regular file (a FIFO would block,
    /dev/zero never ends) of at most `max_bytes`. ConfigError naming `name` otherwise."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"{what} not found", Location(name)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what}: {exc.strerror or exc}", Location(name)) from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"cannot be used: {what} is not a regular file", Location(name))
    if info.st_size > max_bytes:
        raise ConfigError(
            f"cannot be used: {what} is {info.st_size:,} bytes, over the limit of "
            f"{max_bytes:,} bytes",
            Location(name),
        )
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read {what}: {exc.strerror or exc}", Location(name)) from None
    if len(data) > max_bytes:
        raise ConfigError(f"cannot be used: {what} grew over {max_bytes:,} bytes", Location(name))
    return data


def load(path: Path, display: str | None = None) -> Baseline:
    """Read and validate a baseline file; raises ConfigError (exit 2) naming the bad field."""
    name = display or str(path)
    data_bytes = read_regular(path, name, "baseline file", MAX_BASELINE_BYTES)
    try:
        text = data_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"cannot read baseline file: {exc}", Location(name)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not JSON: {exc.msg}", Location(name, line=exc.lineno)) from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ConfigError(
            f'not a baseline file (expected "schema": "{SCHEMA}")', Location(name, field="schema")
        )
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, list):
        raise ConfigError("entries must be a list", Location(name, field="entries"))
    entries = tuple(_entry(raw, i, name) for i, raw in enumerate(raw_entries))
    seen: set[str] = set()
    for i, e in enumerate(entries):
        if e.fingerprint in seen:
            raise ConfigError(
                f"fingerprint {e.fingerprint} listed twice",
                Location(name, field=f"entries[{i}].fingerprint"),
            )
        seen.add(e.fingerprint)
    return Baseline(name, entries)


def apply(baseline: Baseline, finding_ids: Iterable[str], today: date) -> Application:
    """Which findings the baseline suppresses on `today`, and which entries have expired."""
    ids = set(finding_ids)
    live = [e for e in baseline.entries if not e.expired(today)]
    return Application(
        suppressed=frozenset(e.fingerprint for e in live if e.fingerprint in ids),
        expired=tuple(e for e in baseline.entries if e.expired(today)),
    )


def entries_from_report(
    report: Report,
    *,
    reason: str,
    who: str,
    expires: date,
    created: date,
    only: Sequence[str] = (),
) -> list[BaselineEntry]:
    """Entries for the findings of a validated report (all, or those whose id starts with
    `only`)."""
    if not reason.strip() or not who.strip():
        raise ConfigError("--reason and --who must not be empty")
    findings = report.findings
    chosen = [f for f in findings if not only or any(f.id.startswith(p) for p in only)]
    for prefix in only:
        if not any(f.id.startswith(prefix) for f in findings):
            raise ConfigError(f"no finding id starts with {prefix!r}", Location("--finding"))
    return [
        BaselineEntry(
            fingerprint=f.id,
            reason=reason.strip(),
            who=who.strip(),
            expires=expires,
            pack=f.pack,
            rule=f.rule,
            title=f.title,
            time=f.events[0].time if f.events else "",
            created=created.isoformat(),
        )
        for f in chosen
    ]


def merge(
    existing: Baseline | None, new: Iterable[BaselineEntry]
) -> tuple[list[BaselineEntry], int]:
    """Existing entries kept as they are, new fingerprints appended; returns (entries, added)."""
    entries = list(existing.entries) if existing else []
    known = {e.fingerprint for e in entries}
    added = 0
    for e in new:
        if e.fingerprint not in known:
            entries.append(e)
            known.add(e.fingerprint)
            added += 1
    return entries, added


def dumps(entries: Iterable[BaselineEntry]) -> str:
    """The baseline file text: stable key order, one entry per object, trailing newline."""
    doc = {"schema": SCHEMA, "entries": [e.as_dict() for e in entries]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
