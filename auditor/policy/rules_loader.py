"""Loading a pack's rules: the `[[rules]]` tables with their exceptions and duties."""

from __future__ import annotations

from typing import Any

import auditor.policy.schema as S
import auditor.policy.template as template
from auditor.config.principals import CATEGORIES
from auditor.core.models import OperationKind, Severity
from auditor.policy.checker import Checker, P
from auditor.policy.duties import REGISTRY
from auditor.policy.pack import Duty, Rule, RuleException


def load_rule(c: Checker, i: int, raw: dict[str, Any], sources: set[str]) -> Rule:
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


def _operations(c: Checker, raw: dict[str, Any], p: P) -> tuple[OperationKind, ...]:
    names = c.strings(raw, "operations", p)
    if not names:
        c.add("needs at least one operation kind", (*p, "operations"))
    known = {k.value: k for k in OperationKind}
    for name in names:
        if name not in known:
            c.add(f"unknown operation kind {name!r} ({', '.join(known)})", (*p, "operations"))
    return tuple(known[n] for n in names if n in known)


def _exception(c: Checker, p: P, raw: dict[str, Any], sources: set[str]) -> RuleException:
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


def _duty(c: Checker, p: P, raw: dict[str, Any], sources: set[str]) -> Duty:
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
        kinds[key] = c.strings(raw, key, p, tuple(d.get(key, ())))
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


def _number(c: Checker, raw: dict[str, Any], key: str, p: P) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        c.add("must be a number such as 0.5 (number_range)", (*p, key))
        return None
    return float(value)
