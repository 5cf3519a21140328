"""The pack format as data: every table's accepted keys and every closed vocabulary.

The loader validates against these tables and docs/packs.md documents them; a test parses the
key tables out of docs/packs.md and compares them with `KEYS`, so the two cannot drift apart.
"""

from __future__ import annotations

from auditor.policy.duties import REGISTRY

RULE_KINDS = ("prohibit", "require", "notify")
STATUSES = ("in_force", "expired", "superseded", "pending", "announced", "unverified")
CONFIDENCE = ("P", "S", "U")
MODALITIES = ("real_time", "near_real_time", "post", "any")
INSTRUMENT_KINDS = (
    "statute",
    "ordinance",
    "regulation",
    "court_order",
    "vendor_terms",
    "vendor_policy",
    "corporate_pledge",
    "platform_policy",
)
BINDINGS = ("law", "contract", "court_order", "self_commitment", "platform_rule")
END_CONDITIONS = (
    "until_further_notice",
    "until_national_law",
    "until_legislative_authorisation",
    "sunset",
    "order_term",
)
PRECISIONS = ("day", "month", "year")
SOURCE_KINDS = ("primary", "secondary")
ANCHORS = ("capture_location", "actor_location", "subject_residence", "provider_account")

#: Event fields the territorial and context filters test (`[rules.context]`, `[pack.jurisdiction]`).
CONTEXT_FIELDS = (
    "country",
    "region",
    "locality",
    "space",
    "camera",
    "gallery_source",
    "remote",
    "significant_effect",
    "setting",
    "account_type",
    "inferred_attribute",
)

#: Duty types and the parameters each accepts (beyond type, note, cite, confidence), read from
#: the duty-type registry (one class per type, auditor/policy/duties/).
DUTY_PARAMS: dict[str, frozenset[str]] = {
    name: frozenset(dt.params) for name, dt in REGISTRY.items()
}
DUTY_TYPES = tuple(DUTY_PARAMS)

#: Default parameters of each duty type (documented in docs/packs.md).
DUTY_DEFAULTS: dict[str, dict[str, object]] = {
    name: {k: v for k, v in dt.params.items() if v is not None and v is not False}
    for name, dt in REGISTRY.items()
}

#: Authorisation record kinds (`before_use`, `within_deadline`).
AUTHORISATION_KINDS = ("grant", "request", "refusal")

#: Placeholders a rule's title and message may use.
TEMPLATE_FIELDS = frozenset(
    {
        "principal",
        "organisation",
        "category",
        "operation",
        "service",
        "kind",
        "time",
        "outcome",
        "pack",
        "rule",
    }
)

#: Accepted keys of each table: name -> {key: one-line meaning}. docs/packs.md mirrors this.
KEYS: dict[str, dict[str, str]] = {
    "top": {
        "pack": "the pack's metadata table",
        "rules": "the rules, an array of tables",
    },
    "pack": {
        "id": "stable id, lower-case words joined by -; the file name is <id>.toml",
        "title": "human title",
        "version": "semantic version of the pack",
        "status": "one of STATUSES",
        "summary": "a paragraph on what the instrument says",
        "last_verified": "date the facts were last checked against the sources",
        "verified_by": "who checked them",
        "instrument": "table: what kind of instrument and how binding",
        "jurisdiction": "table: territorial filters applied to every rule",
        "effective": "table: when the pack applies",
        "lineage": "table: supersedes, superseded_by, amended_by",
        "sources": "array of tables: the cited sources",
        "caveats": "list of unverified points (shown as [U])",
        "definitions": "table: the instrument's own terms -> operation kinds",
    },
    "pack.instrument": {
        "kind": "one of INSTRUMENT_KINDS",
        "binding": "one of BINDINGS",
        "issuer": "who issued it",
        "citation": "how it is cited",
    },
    "pack.jurisdiction": {
        "country": "ISO 3166-1 alpha-2 codes (event field country)",
        "region": "ISO 3166-2 codes such as US-OR (event field region)",
        "locality": "city names (event field locality)",
        "anchor": "what the territory is tested against, one of ANCHORS",
        "timezone": "IANA zone whose calendar the dates follow (default UTC)",
        "zones": "table: locality, region or country -> IANA zone (multi-zone jurisdictions)",
        "note": "free text",
    },
    "pack.effective": {
        "from": "first day the pack applies (TOML date)",
        "until": "first day it no longer applies (exclusive), or absent",
        "end_condition": "one of END_CONDITIONS when there is no fixed end",
        "precision": "how precise the dates are, one of PRECISIONS",
        "confidence": "P, S or U for the dates",
        "note": "free text",
    },
    "pack.lineage": {
        "supersedes": "pack ids this one replaces",
        "superseded_by": "pack ids that replace this one",
        "amended_by": "amending instruments (free text)",
    },
    "pack.sources": {
        "id": "id that rules cite",
        "title": "title of the source",
        "url": "address",
        "publisher": "who published it",
        "date": "publication date (text)",
        "kind": "one of SOURCE_KINDS",
        "pinpoint": "section, page or paragraph",
        "confidence": "P, S or U: what this source establishes",
    },
    "rules": {
        "id": "stable rule id, unique in the pack",
        "kind": "one of RULE_KINDS (default prohibit)",
        "severity": "low, medium, high or critical",
        "title": "finding title template",
        "message": "finding message template",
        "principals": "principal categories covered, or any",
        "services": "canonical services covered, or any",
        "organisations": "principal organisations covered (a trailing * matches a prefix)",
        "operations": "operation kinds covered",
        "modality": "one of MODALITIES, or a list of them (event field modality)",
        "include_attempts": "whether failed calls count (default true)",
        "confidence": "P, S or U for the rule itself",
        "effective": "inline table: from, until, confidence, note",
        "cite": "source ids",
        "context": "table: context filters on event fields",
        "purposes": "the rule covers only events with one of these purposes",
        "needs": "event fields without which the rule cannot decide",
        "exceptions": "array of tables: cases the rule does not cover",
        "duties": "array of tables: what a require or notify rule demands",
        "note": "free text",
    },
    "rules.context": {
        name: f"accepted values of the event field {name}" for name in CONTEXT_FIELDS
    },
    "rules.exceptions": {
        "id": "stable exception id",
        "organisations": "principal organisations it applies to",
        "principals": "principal categories it applies to",
        "on_behalf_of": "categories of the organisation the principal acts for",
        "purposes": "event purposes it applies to",
        "required_evidence": "event fields that must be present for it to apply",
        "effective": "inline table: from, until (when the exception exists)",
        "confidence": "P, S or U",
        "cite": "source ids",
        "note": "free text",
    },
    "rules.duties": {
        "type": "one of DUTY_TYPES",
        "deadline": "ISO-8601 duration, e.g. PT24H",
        "deadline_if": "event field that must be true for the deadline to apply (authorisation)",
        "link": "fields linking related events: name, or theirs:ours",
        "before_use": "authorisation record kinds that count before the use (authorisation)",
        "within_deadline": "record kinds that count within the deadline (authorisation)",
        "refusal_ends": "a refusal before the use voids earlier requests and grants",
        "min_reviewers": "distinct reviewers needed (human_review)",
        "fields": "event fields that must be present (fields)",
        "start_field": "event field where a window (or a retention clock) starts",
        "end_field": "event field where a window ends (or the purpose was satisfied)",
        "max": "ISO-8601 duration: longest window or retention; a number for number_range",
        "min": "ISO-8601 duration: shortest window; a number for number_range",
        "field": "the event field the duty reads",
        "other": "the field it must equal (field_equals); organisation = the principal's",
        "time_field": "event field with the time consent was given (prior_consent)",
        "recipient": "who the duty is owed to (notify)",
        "confidence": "P, S or U",
        "cite": "source ids",
        "note": "free text",
    },
    "effective": {
        "from": "first day (TOML date)",
        "until": "first day no longer covered (exclusive)",
        "confidence": "P, S or U for these dates",
        "timezone": "IANA zone of these dates (default: the pack's)",
        "note": "free text",
    },
}

#: Keys every duty accepts whatever its type.
DUTY_COMMON = frozenset({"type", "recipient", "confidence", "cite", "note"})
