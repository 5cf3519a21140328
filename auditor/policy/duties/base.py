"""What every duty type shares: the verdict (`Outcome`), event field access, the index of linked
events, and the duty-type registry.

A duty type is one subclass of `DutyType` (auditor/policy/duties/*.py): its parameters with their
defaults, what the loader must see to accept it, the check, the words `policy show` prints and
its row of the duties table in docs/packs.md. Subclasses register themselves by name when their
module is imported; the loader, `policy show`, the engine and a docs test read the registry, so a
new duty type is written in one place. Checks are pure: an event, a duty and the index in, an
`Outcome` out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import ClassVar

from auditor.core.models import Event, OperationKind
from auditor.core.timefmt import parse_time
from auditor.policy.pack import Duty


@dataclass(frozen=True)
class Outcome:
    """The verdict of one duty on one event."""

    ok: bool
    reason: str = ""
    related: tuple[Event, ...] = ()
    missing: tuple[str, ...] = ()

    @property
    def undecided(self) -> bool:
        """True when the duty could not be checked for lack of fields."""
        return bool(self.missing)


OK = Outcome(True)


@lru_cache(maxsize=65536)
def norm(text: str) -> str:
    """Compare values loosely: case, spaces, `-` and `_` do not matter."""
    return "_".join(text.replace("-", " ").split()).casefold()


def value_of(event: Event, name: str) -> str | None:
    """An event field by name: event_id, organisation, principal, category or an attribute."""
    if name == "event_id":
        return event.event_id
    if name == "organisation":
        return event.principal.organisation
    if name == "principal":
        return event.principal.id
    if name == "category":
        return event.principal.category
    value = event.attr(name)
    return value if value not in (None, "") else None


def parse_when(text: str) -> datetime:
    """An ISO-8601 date or time from a log field, as UTC (naive means UTC)."""
    return parse_time(text)


class EventIndex:
    """Events that duties link to, keyed by the linking field values the packs name.

    Built from a list (`EventIndex(events)`, every field available) or fed one event at a time
    (`EventIndex(fields=...)` then `add`), in which case only the named fields are indexed and
    no list of events is kept: memory is one entry per (indexed event, field value).
    """

    def __init__(self, events: Iterable[Event] = (), fields: Iterable[str] | None = None) -> None:
        self.events = list(events)
        self._by_field: dict[str, dict[str, list[Event]]] = {}
        self._fixed = fields is not None
        for name in fields or ():
            self._by_field[name] = defaultdict(list)

    def add(self, event: Event) -> None:
        """Index one event under every field named at construction (streaming form)."""
        for name, table in self._by_field.items():
            value = value_of(event, name)
            if value is not None:
                table[value].append(event)

    def __len__(self) -> int:
        """Indexed entries (an event counts once per field value it is indexed under)."""
        return sum(len(v) for table in self._by_field.values() for v in table.values())

    def _field(self, name: str) -> dict[str, list[Event]]:
        if name not in self._by_field:
            table: dict[str, list[Event]] = defaultdict(list)
            for e in self.events:
                value = value_of(e, name)
                if value is not None:
                    table[value].append(e)
            self._by_field[name] = table
        return self._by_field[name]

    def linked(self, event: Event, link: tuple[str, ...], kind: OperationKind) -> list[Event]:
        """Events of `kind` sharing a linking field value with `event` (no duplicates)."""
        out: list[Event] = []
        seen = {id(event)}  # identity, as before, but in O(1) per candidate rather than O(len(out))
        for spec in link:
            theirs, _, ours = spec.partition(":")
            value = value_of(event, ours or theirs)
            if value is None:
                continue
            for other in self._field(theirs).get(value, []):
                if other.kind is kind and id(other) not in seen:
                    seen.add(id(other))
                    out.append(other)
        return out


def truthy(value: str | None) -> bool:
    """A log's yes: `true`, `yes`, `1` (any case); absent or anything else is no."""
    return value is not None and norm(value) in ("true", "yes", "1")


#: Every duty type by name, in definition order (filled by `DutyType.__init_subclass__`).
REGISTRY: dict[str, DutyType] = {}


class DutyType:
    """One duty type: subclass it, set the class attributes, implement `check`.

    `params` maps each parameter the type accepts (beyond type, note, cite, confidence and
    recipient) to its default, None when it has none. `linked` is the kind of event the check
    looks up in the index (None: it reads the event alone). `requires` names what a duty of this
    type must set (the loader's message when `complete` is false). `doc` is the type's "met when"
    cell of the duties table in docs/packs.md (a test checks the row is there verbatim).
    """

    name: ClassVar[str] = ""
    params: ClassVar[dict[str, object]] = {}
    linked: ClassVar[OperationKind | None] = None
    requires: ClassVar[str] = ""
    doc: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            if cls.name in REGISTRY:
                raise TypeError(f"duty type {cls.name!r} defined twice")
            REGISTRY[cls.name] = cls()

    def complete(self, duty: Duty) -> bool:
        """Does the duty set what this type needs (`requires`)?"""
        return True

    def check(self, event: Event, duty: Duty, index: EventIndex) -> Outcome:
        """The verdict of this duty on one event."""
        raise NotImplementedError

    def describe(self, duty: Duty) -> list[str]:
        """The parameter phrases `auditor policy show` prints for the duty."""
        return []

    @classmethod
    def doc_row(cls) -> str:
        """The type's row of the duties table in docs/packs.md."""
        return f"| `{cls.name}` | {cls.doc} | {', '.join(map(_param, cls.params.items()))} |"


def _param(item: tuple[str, object]) -> str:
    """`link` (default `authorisation_ref`, `case_ref`): a parameter and its default."""
    name, default = item
    if default is None or default is False:
        return f"`{name}`"
    values = default if isinstance(default, tuple) else (default,)
    return f"`{name}` (default {', '.join(f'`{v}`' for v in values)})"


def check(event: Event, duty: Duty, index: EventIndex) -> Outcome:
    """Apply one duty to one event."""
    return REGISTRY[duty.type].check(event, duty, index)


def links(duty: Duty) -> str:
    """The linking fields of a duty, for messages (`authorisation_ref/case_ref`)."""
    return "/".join(spec.partition(":")[0] for spec in duty.link)
