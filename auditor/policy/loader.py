"""Load and validate pack files, collecting every problem with its file:line.

Validation is strict: an unknown key, a bad date or a misspelt operation kind would otherwise
silently let a prohibited search through. `check_pack` collects all problems of a file (for
`auditor policy lint`, like pySigma's `collect_errors`); `load_pack` raises the first one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import auditor.policy.schema as S
import auditor.policy.template as template
from auditor.config import tomlfile
from auditor.config.principals import CATEGORIES
from auditor.core.errors import ConfigError, Location
from auditor.core.models import OperationKind, Severity
from auditor.policy.duties import REGISTRY
from auditor.policy.locate import Locator, field_name
from auditor.policy.pack import Duration, Duty, Pack, Rule, RuleException, Source, Window
from auditor.policy.zones import valid_zone

P = tuple[str | int, ...]


@dataclass
class PackCheck:
    """The outcome of checking one file: the pack (None if any problem) and every problem."""

    pack: Pack | None
    errors: list[ConfigError] = field(default_factory=list)


class _Checker:
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


def load_pack(path: Path, display: str | None = None) -> Pack:
    """Read and validate one pack file; raises the first problem as a located ConfigError."""
    check = check_pack(path, display)
    if check.pack is None:
        raise check.errors[0]
    return check.pack


def check_pack(path: Path, display: str | None = None) -> PackCheck:
    """Every problem of one pack file (syntax errors stop at the first, being fatal)."""
    try:
        doc = tomlfile.load(path, display or str(path))
    except ConfigError as exc:
        return PackCheck(None, [exc])
    c = _Checker(doc.display, doc.lines)
    pack = _pack(c, doc.data, doc.display, hashlib.sha256(path.read_bytes()).hexdigest())
    errors = sorted(c.errors, key=lambda e: e.location.line or 0 if e.location else 0)
    return PackCheck(None if errors else pack, errors)


def _pack(c: _Checker, data: dict[str, Any], display: str, sha: str) -> Pack | None:
    c.keys(data, "top", ())
    meta = data.get("pack")
    if not isinstance(meta, dict):
        c.add("missing [pack] table", ("pack",))
        return None
    m: P = ("pack",)
    c.keys(meta, "pack", m)
    pid, title, version = (c.text(meta, k, m, True) for k in ("id", "title", "version"))
    if pid and not all(ch.isalnum() or ch in "-_." for ch in pid):
        c.add("id may hold letters, digits, - _ . only", (*m, "id"))
    status = c.choice(meta, "status", S.STATUSES, m, "in_force")
    last_verified = meta.get("last_verified", "")
    last_verified = (
        last_verified.isoformat() if isinstance(last_verified, date) else str(last_verified)
    )

    instrument = c.table(meta, "instrument", m)
    c.keys(instrument, "pack.instrument", (*m, "instrument"))
    c.choice(instrument, "kind", S.INSTRUMENT_KINDS, (*m, "instrument"))
    c.choice(instrument, "binding", S.BINDINGS, (*m, "instrument"))

    eff = c.table(meta, "effective", m)
    ep: P = (*m, "effective")
    c.keys(eff, "pack.effective", ep)
    start = c.day(eff, "from", ep)
    if "from" not in eff:
        c.add("needs [pack.effective] with from = YYYY-MM-DD", ep)
    until = c.day(eff, "until", ep)
    if start and until and until <= start:
        c.add("until must be after from", (*ep, "until"))
    end_condition = c.choice(eff, "end_condition", S.END_CONDITIONS, ep) or None
    precision = c.choice(eff, "precision", S.PRECISIONS, ep, "day")
    dates_conf = c.choice(eff, "confidence", S.CONFIDENCE, ep, "P")
    if status == "expired" and until is None:
        c.add("an expired pack needs effective.until", (*ep, "until"))

    jur = c.table(meta, "jurisdiction", m)
    jp: P = (*m, "jurisdiction")
    c.keys(jur, "pack.jurisdiction", jp)
    territory = tuple(
        (k, c.strings(jur, k, jp)) for k in ("country", "region", "locality") if k in jur
    )
    anchor = c.choice(jur, "anchor", S.ANCHORS, jp)
    timezone = c.zone(jur, jp) or "UTC"
    zones = c.zone_map(jur, jp)

    lin = c.table(meta, "lineage", m)
    c.keys(lin, "pack.lineage", (*m, "lineage"))
    lineage = tuple(
        (k, c.strings(lin, k, (*m, "lineage"))) for k in S.KEYS["pack.lineage"] if k in lin
    )

    defs = c.table(meta, "definitions", m)
    kinds = {k.value for k in OperationKind}
    definitions = []
    for term in defs:
        values = c.strings(defs, term, (*m, "definitions"))
        for op in values:
            if op not in kinds:
                c.add(f"unknown operation kind {op!r}", (*m, "definitions", term))
        definitions.append((term, values))

    sources = tuple(_source(c, i, s) for i, s in enumerate(c.tables(meta, "sources", m)))
    ids = [s.id for s in sources]
    for i, sid in enumerate(ids):
        if sid and sid in ids[:i]:
            c.add(f"duplicate source id {sid!r}", (*m, "sources", i, "id"))

    rules_raw = data.get("rules")
    if (
        not isinstance(rules_raw, list)
        or not rules_raw
        or not all(isinstance(r, dict) for r in rules_raw)
    ):
        c.add("a pack needs at least one [[rules]] table", ("rules",))
        rules_raw = []
    rules = tuple(_rule(c, i, r, set(ids)) for i, r in enumerate(rules_raw))
    rids = [r.id for r in rules]
    for i, rid in enumerate(rids):
        if rid and rid in rids[:i]:
            c.add(f"duplicate rule id {rid!r}", ("rules", i, "id"))
    if start is None:
        return None
    return Pack(
        id=pid,
        title=title,
        version=version,
        status=status,
        effective_from=start,
        effective_until=until,
        end_condition=end_condition,
        rules=rules,
        sources=sources,
        path=display,
        sha256=sha,
        instrument=tuple(sorted((str(k), str(v)) for k, v in instrument.items())),
        summary=c.text(meta, "summary", m),
        last_verified=last_verified,
        dates_confidence=dates_conf,
        precision=precision,
        jurisdiction=territory,
        anchor=anchor,
        lineage=lineage,
        caveats=c.strings(meta, "caveats", m),
        definitions=tuple(definitions),
        verified_by=c.text(meta, "verified_by", m),
        effective_note=c.text(eff, "note", ep),
        timezone=timezone,
        zones=zones,
    )


def _source(c: _Checker, i: int, raw: dict[str, Any]) -> Source:
    p: P = ("pack", "sources", i)
    c.keys(raw, "pack.sources", p)
    sid, title = c.text(raw, "id", p, True), c.text(raw, "title", p, True)
    conf = c.choice(raw, "confidence", S.CONFIDENCE, p, "S")
    if "confidence" not in raw:
        c.add("a source needs confidence = P, S or U", p)
    kind = c.choice(raw, "kind", S.SOURCE_KINDS, p, "secondary")
    when = raw.get("date", "")
    return Source(
        sid,
        title,
        c.text(raw, "url", p),
        conf,
        kind,
        when.isoformat() if isinstance(when, date) else str(when),
        c.text(raw, "publisher", p),
        c.text(raw, "pinpoint", p),
    )


def _rule(c: _Checker, i: int, raw: dict[str, Any], sources: set[str]) -> Rule:
    p: P = ("rules", i)
    c.keys(raw, "rules", p)
    rid, title, message = (c.text(raw, k, p, True) for k in ("id", "title", "message"))
    kind = c.choice(raw, "kind", S.RULE_KINDS, p, "prohibit")
    severity = Severity.LOW
    if "severity" not in raw:
        c.add("missing severity (low, medium, high or critical)", (*p, "severity"))
    else:
        try:
            severity = Severity.parse(str(raw["severity"]))
        except ValueError as exc:
            c.add(str(exc), (*p, "severity"))
    for key, text in (("title", title), ("message", message)):
        for problem in template.problems(text, S.TEMPLATE_FIELDS):
            c.add(problem, (*p, key))
    principals = c.strings(raw, "principals", p, ("any",))
    for who in principals:
        if who != "any" and who not in CATEGORIES:
            c.add(f"unknown principal category {who!r}", (*p, "principals"))
    services = c.strings(raw, "services", p, ("any",))
    operations = _operations(c, raw, p)
    modality = c.strings(raw, "modality", p, ("any",))
    for mod in modality:
        if mod not in S.MODALITIES:
            c.add(
                f"modality must be one of {', '.join(S.MODALITIES)} (got {mod!r})", (*p, "modality")
            )
    attempts = raw.get("include_attempts", True)
    if not isinstance(attempts, bool):
        c.add("must be true or false", (*p, "include_attempts"))
    confidence = c.choice(raw, "confidence", S.CONFIDENCE, p, "P")
    window = c.window(c.table(raw, "effective", p), (*p, "effective"))
    ctx_raw = c.table(raw, "context", p)
    c.keys(ctx_raw, "rules.context", (*p, "context"))
    context = tuple(
        (k, c.strings(ctx_raw, k, (*p, "context"))) for k in S.CONTEXT_FIELDS if k in ctx_raw
    )
    exceptions = tuple(
        _exception(c, (*p, "exceptions", j), e, sources)
        for j, e in enumerate(c.tables(raw, "exceptions", p))
    )
    duties = tuple(
        _duty(c, (*p, "duties", j), d, sources) for j, d in enumerate(c.tables(raw, "duties", p))
    )
    if kind == "require" and not duties:
        c.add("a require rule needs at least one [[rules.duties]] table", (*p, "kind"))
    if kind == "prohibit" and duties:
        c.add('a prohibit rule takes no duties (use kind = "require")', (*p, "duties"))
    return Rule(
        id=rid,
        kind=kind,
        severity=severity,
        title=title,
        message=message,
        principals=principals,
        services=services,
        operations=operations,
        exceptions=exceptions,
        modality=modality,
        include_attempts=bool(attempts),
        confidence=confidence,
        window=window,
        cite=c.cites(raw, p, sources),
        context=context,
        purposes=c.strings(raw, "purposes", p),
        needs=c.strings(raw, "needs", p),
        duties=duties,
        note=c.text(raw, "note", p),
        organisations=c.strings(raw, "organisations", p),
    )


def _operations(c: _Checker, raw: dict[str, Any], p: P) -> tuple[OperationKind, ...]:
    names = c.strings(raw, "operations", p)
    if not names:
        c.add("needs at least one operation kind", (*p, "operations"))
    known = {k.value: k for k in OperationKind}
    for name in names:
        if name not in known:
            c.add(f"unknown operation kind {name!r} ({', '.join(known)})", (*p, "operations"))
    return tuple(known[n] for n in names if n in known)


def _exception(c: _Checker, p: P, raw: dict[str, Any], sources: set[str]) -> RuleException:
    c.keys(raw, "rules.exceptions", p)
    exc = RuleException(
        id=c.text(raw, "id", p, True),
        organisations=c.strings(raw, "organisations", p),
        purposes=c.strings(raw, "purposes", p),
        required_evidence=c.strings(raw, "required_evidence", p),
        note=c.text(raw, "note", p),
        principals=c.strings(raw, "principals", p),
        window=c.window(c.table(raw, "effective", p), (*p, "effective")),
        confidence=c.choice(raw, "confidence", S.CONFIDENCE, p, "P"),
        cite=c.cites(raw, p, sources),
        on_behalf_of=c.strings(raw, "on_behalf_of", p),
    )
    for key in ("principals", "on_behalf_of"):
        for who in getattr(exc, key):
            if who not in CATEGORIES:
                c.add(f"unknown principal category {who!r}", (*p, key))
    if not (
        exc.organisations
        or exc.purposes
        or exc.required_evidence
        or exc.principals
        or exc.on_behalf_of
    ):
        c.add(
            "an exception must name organisations, principals, on_behalf_of, purposes or "
            "required_evidence",
            p,
        )
    return exc


def _duty(c: _Checker, p: P, raw: dict[str, Any], sources: set[str]) -> Duty:
    c.keys(raw, "rules.duties", p)
    dtype = c.choice(raw, "type", S.DUTY_TYPES, p)
    if "type" not in raw:
        c.add(f"a duty needs type = one of {', '.join(S.DUTY_TYPES)}", p)
    allowed = S.DUTY_PARAMS.get(dtype, frozenset()) | S.DUTY_COMMON
    for key in sorted(set(raw) - allowed):
        if key in S.KEYS["rules.duties"] and dtype:
            c.add(f"{key!r} does not apply to a {dtype} duty", (*p, key))
    d: dict[str, Any] = dict(S.DUTY_DEFAULTS.get(dtype, {}))
    mr = raw.get("min_reviewers", d.get("min_reviewers", 1))
    if not isinstance(mr, int) or isinstance(mr, bool) or mr < 1:
        c.add("must be a whole number of at least 1", (*p, "min_reviewers"))
        mr = 1
    kinds = {}
    for key in ("before_use", "within_deadline"):
        kinds[key] = c.strings(raw, key, p, tuple(d.get(key, ())))  # type: ignore[arg-type]
        for k in kinds[key]:
            if k not in S.AUTHORISATION_KINDS[:2]:
                c.add(f"{key} kinds are grant or request (got {k!r})", (*p, key))
    refusal_ends = raw.get("refusal_ends", False)
    if not isinstance(refusal_ends, bool):
        c.add("must be true or false", (*p, "refusal_ends"))
        refusal_ends = False
    numeric = dtype == "number_range"
    low, high = (_number(c, raw, k, p) if numeric else None for k in ("min", "max"))
    duty = Duty(
        type=dtype,
        deadline=c.duration(raw, "deadline", p),
        deadline_if=c.text(raw, "deadline_if", p),
        before_use=kinds["before_use"],
        within_deadline=kinds["within_deadline"],
        refusal_ends=refusal_ends,
        low=low,
        high=high,
        min=None if numeric else c.duration(raw, "min", p),
        link=c.strings(raw, "link", p, tuple(d.get("link", ()))),
        min_reviewers=mr,
        fields=c.strings(raw, "fields", p),
        start_field=c.text(raw, "start_field", p) or str(d.get("start_field", "")),
        end_field=c.text(raw, "end_field", p) or str(d.get("end_field", "")),
        max=None if numeric else c.duration(raw, "max", p),
        field=c.text(raw, "field", p) or str(d.get("field", "")),
        other=c.text(raw, "other", p),
        time_field=c.text(raw, "time_field", p) or str(d.get("time_field", "")),
        recipient=c.text(raw, "recipient", p),
        confidence=c.choice(raw, "confidence", S.CONFIDENCE, p, "P"),
        cite=c.cites(raw, p, sources),
        note=c.text(raw, "note", p),
    )
    kind = REGISTRY.get(dtype)
    if kind is not None and not kind.complete(duty):
        c.add(f"a {dtype} duty needs {kind.requires}", p)
    if low is not None and high is not None and high < low:
        c.add("max must not be less than min", (*p, "max"))
    return duty


def _number(c: _Checker, raw: dict[str, Any], key: str, p: P) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        c.add("must be a number such as 0.5 (number_range)", (*p, key))
        return None
    return float(value)
