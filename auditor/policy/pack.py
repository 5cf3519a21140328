"""Policy packs as values: frozen dataclasses the loader builds and the engine reads.

One TOML file per real-world instrument (docs/packs.md). `load_pack` lives in
`auditor.policy.loader`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from auditor.core.models import OperationKind, Severity

_RANK = {"U": 0, "S": 1, "P": 2}


def weakest(*marks: str) -> str:
    """The least certain of several confidence marks (U < S < P)."""
    return min(marks, key=lambda m: _RANK.get(m, 0)) if marks else "P"


def organisation_matches(patterns: tuple[str, ...], organisation: str) -> bool:
    """Is the organisation one of `patterns` (loosely compared; a trailing `*` is a prefix)?

    An order against one company (FTC v. Rite Aid) or an ordinance binding one county's
    departments names organisations, not a category (rule key `organisations`).
    """

    def loose(text: str) -> str:
        return "_".join(text.replace("-", " ").split()).casefold()

    org = loose(organisation)
    return any(
        org.startswith(loose(p[:-1])) if p.endswith("*") else org == loose(p) for p in patterns
    )


_DURATION = re.compile(
    r"^P(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+)S)?)?$"
)


@dataclass(frozen=True)
class Duration:
    """An ISO-8601 duration; years and months are calendar steps, the rest a fixed timedelta."""

    text: str
    years: int = 0
    months: int = 0
    rest: timedelta = timedelta(0)

    @classmethod
    def parse(cls, text: str) -> Duration:
        """`PT24H`, `P3Y`, `P1Y6M`, `PT12H30M`; raises ValueError on anything else."""
        m = _DURATION.match(text) if isinstance(text, str) else None
        if not m or text in ("P", "PT") or text.endswith("T"):
            raise ValueError(f"{text!r} is not an ISO-8601 duration such as PT24H or P3Y")
        g = {k: int(v) if v else 0 for k, v in m.groupdict().items()}
        rest = timedelta(weeks=g["w"], days=g["d"], hours=g["h"], minutes=g["mi"], seconds=g["s"])
        return cls(text, g["y"], g["mo"], rest)

    def after(self, when: datetime) -> datetime:
        """`when` plus this duration (month ends clamp: Jan 31 + P1M = Feb 28/29)."""
        month = when.month - 1 + self.months + 12 * self.years
        year, month = when.year + month // 12, month % 12 + 1
        day = when.day
        while True:
            try:
                moved = when.replace(year=year, month=month, day=day)
                break
            except ValueError:
                day -= 1
        return moved + self.rest


@dataclass(frozen=True)
class Window:
    """An effective period: from (inclusive) .. until (exclusive), with its confidence.

    The bounds are local midnights labelled UTC; `contains` is given the event's wall-clock
    time in the period's zone (`auditor.policy.zones.wall`). `timezone` overrides the pack's.
    """

    start: datetime | None = None
    until: datetime | None = None
    confidence: str = "P"
    note: str = ""
    timezone: str = ""

    def contains(self, when: datetime) -> bool:
        """Is `when` inside the period?"""
        return (self.start is None or when >= self.start) and (
            self.until is None or when < self.until
        )


@dataclass(frozen=True)
class RuleException:
    """A case a rule does not cover. All the conditions it names must hold for it to apply."""

    id: str
    organisations: tuple[str, ...] = ()
    purposes: tuple[str, ...] = ()
    required_evidence: tuple[str, ...] = ()
    note: str = ""
    principals: tuple[str, ...] = ()
    window: Window = Window()
    confidence: str = "P"
    cite: tuple[str, ...] = ()
    #: Categories of the organisation the principal acts for (event field on_behalf_of_category).
    on_behalf_of: tuple[str, ...] = ()


@dataclass(frozen=True)
class Duty:
    """What a require/notify rule demands of each event it covers (docs/packs.md, duties)."""

    type: str
    deadline: Duration | None = None
    link: tuple[str, ...] = ()
    min_reviewers: int = 1
    fields: tuple[str, ...] = ()
    start_field: str = ""
    end_field: str = ""
    max: Duration | None = None
    field: str = ""
    other: str = ""
    time_field: str = ""
    recipient: str = ""
    #: Shortest window (max_window).
    min: Duration | None = None
    #: Bounds of a number_range duty (inclusive).
    low: float | None = None
    high: float | None = None
    #: Event field that must be true for `deadline` to apply (otherwise: before the use).
    deadline_if: str = ""
    #: Authorisation record kinds that count at or before the use (authorisation).
    before_use: tuple[str, ...] = ("grant",)
    #: Kinds that count up to the use plus `deadline`, where it applies (authorisation).
    within_deadline: tuple[str, ...] = ("request", "grant")
    #: A refusal at or before the use voids earlier requests and grants (authorisation).
    refusal_ends: bool = False
    confidence: str = "P"
    cite: tuple[str, ...] = ()
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
    modality: tuple[str, ...] = ("any",)
    include_attempts: bool = True
    confidence: str = "P"
    window: Window = Window()
    cite: tuple[str, ...] = ()
    context: tuple[tuple[str, tuple[str, ...]], ...] = ()
    purposes: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    duties: tuple[Duty, ...] = ()
    note: str = ""
    #: principal organisations the rule binds (an order against one company); empty = any.
    organisations: tuple[str, ...] = ()

    @property
    def effective_from(self) -> datetime | None:
        """Start of the rule's own period (None: the pack's)."""
        return self.window.start

    @property
    def effective_until(self) -> datetime | None:
        """End of the rule's own period (None: the pack's)."""
        return self.window.until


@dataclass(frozen=True)
class Source:
    """A cited source of a pack, with the research confidence of what it supports."""

    id: str
    title: str
    url: str
    confidence: str
    kind: str = "secondary"
    date: str = ""
    publisher: str = ""
    pinpoint: str = ""


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
    dates_confidence: str = "P"
    precision: str = "day"
    jurisdiction: tuple[tuple[str, tuple[str, ...]], ...] = ()
    anchor: str = ""
    lineage: tuple[tuple[str, tuple[str, ...]], ...] = ()
    caveats: tuple[str, ...] = ()
    definitions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    verified_by: str = ""
    effective_note: str = ""
    #: IANA zone whose calendar the dates follow (docs/packs.md, local dates).
    timezone: str = "UTC"
    #: Place (locality, ISO 3166-2 region or country) -> zone, for multi-zone jurisdictions.
    zones: tuple[tuple[str, str], ...] = ()

    @cached_property
    def window(self) -> Window:
        """The pack's effective period."""
        return Window(self.effective_from, self.effective_until, self.dates_confidence)
