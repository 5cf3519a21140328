"""Policy packs: one TOML file per real-world instrument, loaded into frozen dataclasses.

Validation is strict and located: an unknown key, a bad date or a misspelt operation kind is a
`ConfigError` naming `file:line` and the field (`rules[2].severity`), because a typo in a pack
would otherwise silently let a prohibited search through. The format is documented in
docs/packs.md.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from auditor import tomlfile
from auditor.models import OperationKind, Severity
from auditor.principals import CATEGORIES

RULE_KINDS = ("prohibit", "require", "notify")
STATUSES = ("in_force", "expired", "superseded", "pending", "announced", "unverified")
CONFIDENCE = ("P", "S", "U")
MODALITIES = ("real_time", "near_real_time", "post", "any")
TEMPLATE_FIELDS = {"principal", "organisation", "category", "operation", "service", "kind", "time",
                   "outcome", "pack", "rule"}


@dataclass(frozen=True)
class RuleException:
    """A case a rule does not cover. All the conditions it names must hold for it to apply."""

    id: str
    organisations: tuple[str, ...] = ()
    purposes: tuple[str, ...] = ()
    required_evidence: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Rule:
    """One rule of a pack."""

    id: str
    kind: str
    severity: Severity
    title: str
    message: str
    principals: tuple[str, ...]
    services: tuple[str, ...]
    operations: tuple[OperationKind, ...]
    exceptions: tuple[RuleException, ...] = ()
    modality: str = "any"
    include_attempts: bool = True
    confidence: str = "P"
    effective_from: datetime | None = None
    effective_until: datetime | None = None
    cite: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    """A cited source of a pack, with the research confidence of what it supports."""

    id: str
    title: str
    url: str
    confidence: str
    kind: str = "secondary"
    date: str = ""


@dataclass(frozen=True)
class Pack:
    """A loaded, validated policy pack."""

    id: str
    title: str
    version: str
    status: str
    effective_from: datetime
    effective_until: datetime | None
    end_condition: str | None
    rules: tuple[Rule, ...]
    sources: tuple[Source, ...]
    path: str
    sha256: str
    instrument: tuple[tuple[str, str], ...] = ()
    summary: str = ""
    last_verified: str = ""


_PACK_KEYS = {"id", "title", "version", "status", "summary", "last_verified", "instrument",
              "effective", "sources", "jurisdiction", "lineage"}
_RULE_KEYS = {"id", "kind", "severity", "title", "message", "principals", "services", "operations",
              "exceptions", "modality", "include_attempts", "confidence", "effective", "cite"}
_EXC_KEYS = {"id", "organisations", "purposes", "required_evidence", "note"}


def _start(value: object) -> datetime:
    """A pack date means the start of that day in UTC."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise ValueError("must be a TOML date such as 2020-06-10")


def _strings(doc: tomlfile.TomlDoc, value: Any, where: str, table: str, index: int | None,
             key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise doc.error("must be a list of strings", table, index, key, field=where)
    return tuple(value)


def load_pack(path: Path, display: str | None = None) -> Pack:
    """Read and validate one pack file; raises ConfigError located at the offending line."""
    doc = tomlfile.load(path, display or str(path))
    data = doc.data
    extra = set(data) - {"pack", "rules"}
    if extra:
        key = sorted(extra)[0]
        raise doc.error(f"unknown top-level key {key!r} (expected [pack] and [[rules]])",
                        key=key, field=key)
    meta = data.get("pack")
    if not isinstance(meta, dict):
        raise doc.error("missing [pack] table", field="pack")
    for key in sorted(set(meta) - _PACK_KEYS):
        raise doc.error(f"unknown key {key!r}", "pack", key=key, field=f"pack.{key}")
    for key in ("id", "title", "version"):
        if not isinstance(meta.get(key), str) or not meta[key]:
            raise doc.error(f"missing {key}", "pack", field=f"pack.{key}")
    status = meta.get("status", "in_force")
    if status not in STATUSES:
        raise doc.error(f"unknown status {status!r} ({', '.join(STATUSES)})", "pack", key="status",
                        field="pack.status")
    eff = meta.get("effective")
    if not isinstance(eff, dict) or "from" not in eff:
        raise doc.error("needs [pack.effective] with from = YYYY-MM-DD", "pack", field="pack.effective")
    try:
        start = _start(eff["from"])
        until = _start(eff["until"]) if eff.get("until") is not None else None
    except ValueError as exc:
        raise doc.error(str(exc), "pack.effective", key="until" if "until" in eff else "from",
                        field="pack.effective") from None
    if until is not None and until <= start:
        raise doc.error("until must be after from", "pack.effective", key="until",
                        field="pack.effective.until")
    sources = tuple(_source(doc, i, s) for i, s in enumerate(_list(doc, meta.get("sources", []),
                                                                      "pack.sources")))
    rules_raw = data.get("rules")
    if not isinstance(rules_raw, list) or not rules_raw:
        raise doc.error("a pack needs at least one [[rules]] table", field="rules")
    rules = tuple(_rule(doc, i, r, {s.id for s in sources}) for i, r in enumerate(rules_raw))
    ids = [r.id for r in rules]
    for i, rid in enumerate(ids):
        if rid in ids[:i]:
            raise doc.error(f"duplicate rule id {rid!r}", "rules", i, key="id", field=f"rules[{i}].id")
    instrument = meta.get("instrument", {})
    if not isinstance(instrument, dict):
        raise doc.error("must be a table", "pack", key="instrument", field="pack.instrument")
    return Pack(
        id=meta["id"], title=meta["title"], version=meta["version"], status=status,
        effective_from=start, effective_until=until, end_condition=eff.get("end_condition"),
        rules=rules, sources=sources, path=doc.display,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        instrument=tuple(sorted((str(k), str(v)) for k, v in instrument.items())),
        summary=str(meta.get("summary", "")), last_verified=str(meta.get("last_verified", "")),
    )


def _list(doc: tomlfile.TomlDoc, value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise doc.error("must be an array of tables", where.rsplit(".", 1)[0], field=where)
    return value


def _source(doc: tomlfile.TomlDoc, i: int, raw: dict[str, Any]) -> Source:
    where = f"pack.sources[{i}]"
    for key in ("id", "title"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise doc.error(f"missing {key}", "pack.sources", i, field=f"{where}.{key}")
    conf = raw.get("confidence", "S")
    if conf not in CONFIDENCE:
        raise doc.error(f"confidence must be one of {', '.join(CONFIDENCE)}", "pack.sources", i,
                        key="confidence", field=f"{where}.confidence")
    return Source(raw["id"], raw["title"], str(raw.get("url", "")), conf, str(raw.get("kind", "secondary")),
                  str(raw.get("date", "")))


def _rule(doc: tomlfile.TomlDoc, i: int, raw: dict[str, Any], source_ids: set[str]) -> Rule:
    where = f"rules[{i}]"

    def err(message: str, key: str | None = None) -> Exception:
        return doc.error(message, "rules", i, key=key, field=f"{where}.{key}" if key else where)

    for key in sorted(set(raw) - _RULE_KEYS):
        raise err(f"unknown key {key!r}", key)
    for key in ("id", "title", "message"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise err(f"missing {key}", key)
    kind = raw.get("kind", "prohibit")
    if kind not in RULE_KINDS:
        raise err(f"kind must be one of {', '.join(RULE_KINDS)}", "kind")
    try:
        severity = Severity.parse(str(raw.get("severity", "")))
    except ValueError as exc:
        raise err(str(exc), "severity") from None
    for key in ("title", "message"):
        names = {f for _, f, _, _ in string.Formatter().parse(raw[key]) if f}
        if names - TEMPLATE_FIELDS:
            raise err(f"unknown placeholder {{{sorted(names - TEMPLATE_FIELDS)[0]}}} "
                      f"(known: {', '.join(sorted(TEMPLATE_FIELDS))})", key)
    principals = _strings(doc, raw.get("principals", ["any"]), f"{where}.principals", "rules", i,
                          "principals")
    for p in principals:
        if p != "any" and p not in CATEGORIES:
            raise err(f"unknown principal category {p!r}", "principals")
    services = _strings(doc, raw.get("services", ["any"]), f"{where}.services", "rules", i, "services")
    ops_raw = _strings(doc, raw.get("operations", []), f"{where}.operations", "rules", i, "operations")
    if not ops_raw:
        raise err("needs at least one operation kind", "operations")
    try:
        operations = tuple(OperationKind(o) for o in ops_raw)
    except ValueError:
        bad = next(o for o in ops_raw if o not in {k.value for k in OperationKind})
        raise err(f"unknown operation kind {bad!r} "
                  f"({', '.join(k.value for k in OperationKind)})", "operations") from None
    modality = raw.get("modality", "any")
    if modality not in MODALITIES:
        raise err(f"modality must be one of {', '.join(MODALITIES)}", "modality")
    confidence = raw.get("confidence", "P")
    if confidence not in CONFIDENCE:
        raise err(f"confidence must be one of {', '.join(CONFIDENCE)}", "confidence")
    cite = _strings(doc, raw.get("cite", []), f"{where}.cite", "rules", i, "cite") if "cite" in raw else ()
    for c in cite:
        if c not in source_ids:
            raise err(f"cites unknown source {c!r}", "cite")
    eff = raw.get("effective", {})
    try:
        start = _start(eff["from"]) if isinstance(eff, dict) and "from" in eff else None
        until = _start(eff["until"]) if isinstance(eff, dict) and eff.get("until") else None
    except ValueError as exc:
        raise err(str(exc), "effective") from None
    excs = []
    for j, e in enumerate(raw.get("exceptions", [])):
        ewhere = f"{where}.exceptions[{j}]"
        if not isinstance(e, dict) or not isinstance(e.get("id"), str):
            raise doc.error("an exception needs an id", "rules.exceptions", None, field=ewhere)
        for key in sorted(set(e) - _EXC_KEYS):
            raise doc.error(f"unknown key {key!r}", "rules", i, key=key, field=f"{ewhere}.{key}")
        exc_obj = RuleException(
            id=e["id"],
            organisations=tuple(_strings(doc, e.get("organisations", []), f"{ewhere}.organisations",
                                         "rules", i, "organisations")),
            purposes=tuple(_strings(doc, e.get("purposes", []), f"{ewhere}.purposes", "rules", i,
                                    "purposes")),
            required_evidence=tuple(_strings(doc, e.get("required_evidence", []),
                                             f"{ewhere}.required_evidence", "rules", i,
                                             "required_evidence")),
            note=str(e.get("note", "")),
        )
        if not (exc_obj.organisations or exc_obj.purposes or exc_obj.required_evidence):
            raise doc.error("an exception must name organisations, purposes or required_evidence",
                            "rules", i, field=ewhere)
        excs.append(exc_obj)
    return Rule(
        id=raw["id"], kind=kind, severity=severity, title=raw["title"], message=raw["message"],
        principals=principals, services=services, operations=operations, exceptions=tuple(excs),
        modality=modality, include_attempts=bool(raw.get("include_attempts", True)),
        confidence=confidence, effective_from=start, effective_until=until, cite=cite,
    )
