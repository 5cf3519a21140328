"""`auditor policy export --format sigma`: a pack's CloudTrail-expressible rules as Sigma rules.

A rule is expressible when CloudTrail alone can show it: a `prohibit` rule on Rekognition (or
any service) without context, modality, purpose or `needs` filters, whose principals can be
named by ARN or account. Principals come from a bundle's principals.toml and are inlined as an
allowlist (ARN globs become Sigma wildcards; an account becomes `:ACCOUNT:` inside the ARN).
Entries of other categories that come earlier in the file (first match wins) become a filter.
Exceptions CloudTrail cannot show (purposes, evidence) and the time window go into the
description and `falsepositives`. No ATT&CK or other tags are written, so `sigma check` needs
no network. YAML is written by hand: strings are JSON-quoted, which YAML reads as-is.
"""

from __future__ import annotations

import json
import tomllib
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from auditor.catalogue.operations import CATALOGUE
from auditor.config import principals as principals_mod
from auditor.policy.pack import Pack, Rule, organisation_matches

LEVELS = {"low": "low", "medium": "medium", "high": "high", "critical": "critical"}
_NAMESPACE = uuid.UUID("6f1c2a0e-7d4b-5f3e-9a8c-2b1d0e4f6a71")


@dataclass(frozen=True)
class Entry:
    """One `[[principal]]` of principals.toml, as written (globs kept)."""

    organisation: str
    category: str
    arn: str | None = None
    account: str | None = None
    name: str | None = None
    #: Category of the organisation this principal acts for (principals.toml on_behalf_of).
    acting_for: str | None = None
    #: Name of that organisation (rules naming `organisations` bind those acting for them).
    acting_for_org: str | None = None


@dataclass(frozen=True)
class SigmaRule:
    """One exported rule: a file name and its YAML text."""

    filename: str
    text: str


def read_principals(path: Path, display: str) -> list[Entry]:
    """principals.toml validated by the bundle loader, then read raw to keep the globs."""
    resolved = principals_mod.load(path, display).rules
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [
        Entry(
            e["organisation"],
            e["category"],
            e.get("arn"),
            e.get("account"),
            e.get("name"),
            r.on_behalf_of_category,
            r.on_behalf_of,
        )
        for e, r in zip(data.get("principal", []), resolved, strict=True)
    ]


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _matchers(entries: list[Entry]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for e in entries:
        if e.arn and "[" not in e.arn:
            prefix = e.arn[:-1]
            suffix = (
                "|startswith"
                if e.arn.endswith("*") and not any(ch in prefix for ch in "*?")
                else ""
            )
            value = prefix if suffix else e.arn
            out["userIdentity.arn" + suffix].append(value)
            out["userIdentity.sessionContext.sessionIssuer.arn" + suffix].append(value)
        elif e.account:
            out["userIdentity.arn|contains"].append(f":{e.account}:")
        elif e.name and e.name.startswith("arn:"):
            out["userIdentity.arn"].append(e.name.replace("*", "\\*").replace("?", "\\?"))
    return {k: sorted(set(v)) for k, v in sorted(out.items()) if v}


def expressible(pack: Pack, rule: Rule) -> str | None:
    """Why the rule cannot be exported, or None when it can."""
    if rule.kind != "prohibit":
        return f"a {rule.kind} rule links events or fields CloudTrail does not carry"
    if rule.context or "any" not in rule.modality or rule.purposes or rule.needs:
        return "its context, modality, purpose or needs filters are not CloudTrail fields"
    if pack.jurisdiction:
        return "its pack's territory (country, region, locality) is not a CloudTrail field"
    if "any" not in rule.services and "rekognition" not in rule.services:
        return "it covers no AWS service"
    if not _operations(rule):
        return "no Rekognition operation has the kinds it covers"
    return None


def _operations(rule: Rule) -> list[str]:
    return sorted(
        op
        for (svc, op), kind in CATALOGUE.items()
        if svc == "rekognition" and kind in rule.operations
    )


def _principal_blocks(
    pack: Pack, rule: Rule, entries: list[Entry] | None
) -> tuple[dict[str, dict[str, list[str]]], str | None]:
    if "any" in rule.principals and not rule.organisations:
        return {}, None
    if entries is None:
        return {}, "its principals need an allowlist: pass --principals FILE"
    excepted = {
        o.casefold()
        for e in rule.exceptions
        for o in e.organisations
        if not (e.purposes or e.required_evidence or e.principals or e.on_behalf_of)
    }
    covered = [
        e
        for e in entries
        if (
            "any" in rule.principals
            or e.category in rule.principals
            or e.acting_for in rule.principals
        )
        and e.organisation.casefold() not in excepted
        and (
            not rule.organisations
            or any(
                organisation_matches(rule.organisations, org)
                for org in (e.organisation, e.acting_for_org)
                if org
            )
        )
    ]
    matchers = _matchers(covered)
    if not matchers:
        who = ", ".join((*rule.principals, *rule.organisations))
        return {}, f"principals.toml names no ARN or account of {who}"
    last = max(i for i, e in enumerate(entries) if e in covered and _matchers([e]))
    others = _matchers([e for e in entries[:last] if e not in covered])
    blocks = {f"principal_{i}": {k: v} for i, (k, v) in enumerate(matchers.items())}
    blocks.update({f"other_{i}": {k: v} for i, (k, v) in enumerate(others.items())})
    return blocks, None


def export_sigma(pack: Pack, entries: list[Entry] | None) -> tuple[list[SigmaRule], list[str]]:
    """(rules, notes): one Sigma rule per expressible rule; a note for each one left out."""
    rules: list[SigmaRule] = []
    notes: list[str] = []
    for rule in pack.rules:
        why = expressible(pack, rule)
        blocks: dict[str, dict[str, list[str]]] = {}
        if why is None:
            blocks, why = _principal_blocks(pack, rule, entries)
        if why is not None:
            notes.append(f"{pack.id} {rule.id}: not exported: {why}")
            continue
        rules.append(SigmaRule(_filename(pack, rule), _yaml(pack, rule, blocks)))
    return rules, notes


def _filename(pack: Pack, rule: Rule) -> str:
    name = f"aws_cloudtrail_{pack.id}_{rule.id}".lower().replace("-", "_").replace(".", "_")
    return name[:86] + ".yml"


def _description(pack: Pack, rule: Rule) -> tuple[str, list[str]]:
    until = pack.effective_until.date().isoformat() if pack.effective_until else "open-ended"
    start = (rule.window.start or pack.effective_from).date().isoformat()
    end = rule.window.until.date().isoformat() if rule.window.until else until
    text = (
        f"{pack.title}. Rule {rule.id} ({rule.kind}, confidence {rule.confidence}) of pack "
        f"{pack.id} {pack.version}, in effect {start} .. {end}: Sigma cannot test the time "
        "window, so check eventTime. Exported by auditor policy export."
    )
    caveats = []
    for e in rule.exceptions:
        if e.purposes or e.required_evidence or e.principals or e.on_behalf_of:
            what = ", ".join(
                [
                    *e.purposes,
                    *e.required_evidence,
                    *e.principals,
                    *(f"acting for {c}" for c in e.on_behalf_of),
                ]
            )
            caveats.append(f"Exception {e.id} ({what}) is not visible in CloudTrail")
    return text, caveats


def _yaml(pack: Pack, rule: Rule, blocks: dict[str, dict[str, list[str]]]) -> str:
    description, caveats = _description(pack, rule)
    refs = list(
        dict.fromkeys(s.url for s in pack.sources if s.url and (not rule.cite or s.id in rule.cite))
    )
    lines = [
        f"title: {_q(f'{pack.title} ({rule.id})'[:250])}",
        f"id: {uuid.uuid5(_NAMESPACE, f'{pack.id}/{rule.id}/{pack.version}')}",
        "status: experimental",
        f"description: {_q(description)}",
    ]
    if refs:
        lines += ["references:"] + [f"    - {_q(r)}" for r in refs]
    lines.append("author: auditor policy export")
    if len(pack.last_verified) == 10:
        lines.append(f"date: {pack.last_verified}")
    lines += [
        "logsource:",
        "    product: aws",
        "    service: cloudtrail",
        "detection:",
        "    selection:",
        '        eventSource: "rekognition.amazonaws.com"',
        "        eventName:",
    ]
    lines += [f"            - {_q(op)}" for op in _operations(rule)]
    for name, matcher in blocks.items():
        lines.append(f"    {name}:")
        for key, values in matcher.items():
            lines.append(f"        {key}:")
            lines += [f"            - {_q(v)}" for v in values]
    condition = "selection"
    if any(n.startswith("principal_") for n in blocks):
        condition += " and 1 of principal_*"
    if any(n.startswith("other_") for n in blocks):
        condition += " and not 1 of other_*"
    if not rule.include_attempts:
        lines += ["    failed:", "        errorCode|exists: true"]
        condition += " and not failed"
    lines.append(f"    condition: {condition}")
    lines += ["falsepositives:"] + [f"    - {_q(c)}" for c in caveats or ["Unknown"]]
    lines.append(f"level: {LEVELS[rule.severity.label]}")
    return "\n".join(lines) + "\n"


def as_document(rules: list[SigmaRule]) -> str:
    """Several rules as one multi-document YAML stream."""
    return "---\n".join(r.text for r in rules)
