"""Duties: what a `require` or `notify` rule demands of each event it covers.

Some duties read the event alone (fields present, a window at most 12 hours, consent before
capture); others link it to other events of the same audit (an authorisation within PT24H of
the use, a public post before a footage request, reviews by two distinct people). Links join
on field values (`link = ["case_ref"]`, or `theirs:ours` such as `reviewed_event:event_id`).
Every check answers ok, violated (with the reason and the related events) or undecided (with
the fields it lacked): a duty that cannot be checked is never silently passed.

Each duty type is one `DutyType` subclass (`base.py` says what it carries); importing this
package registers them all in `REGISTRY`.
"""

from __future__ import annotations

from auditor.core.models import OperationKind
from auditor.policy.duties import authorisation, linked, local
from auditor.policy.duties.authorisation import GRANT, RECORD_KINDS, REFUSAL, REQUEST, record_kind
from auditor.policy.duties.base import (
    OK,
    REGISTRY,
    DutyType,
    EventIndex,
    Outcome,
    check,
    norm,
    parse_when,
    truthy,
    value_of,
)

#: The kind of event each linking duty looks up. A duty type missing here makes the streaming
#: evaluator index events of every kind, so it stays correct, only less frugal.
LINKED_KINDS: dict[str, OperationKind] = {
    name: dt.linked for name, dt in REGISTRY.items() if dt.linked is not None
}

__all__ = [
    "GRANT",
    "LINKED_KINDS",
    "OK",
    "RECORD_KINDS",
    "REFUSAL",
    "REGISTRY",
    "REQUEST",
    "DutyType",
    "EventIndex",
    "Outcome",
    "authorisation",
    "check",
    "linked",
    "local",
    "norm",
    "parse_when",
    "record_kind",
    "truthy",
    "value_of",
]
