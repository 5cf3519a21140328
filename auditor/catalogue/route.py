"""One entry of the HTTP route catalogue, shared by the table modules (`routes`, `selfhosted`)."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.core.models import OperationKind

ANY: frozenset[str] = frozenset()
GET = frozenset({"GET"})
POST = frozenset({"POST"})
PUT = frozenset({"PUT"})
PATCH = frozenset({"PATCH"})
DELETE = frozenset({"DELETE"})
WRITE = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class Route:
    """One endpoint: service, path pattern, methods (empty = any), operation name and kind."""

    service: str
    pattern: str
    operation: str
    kind: OperationKind
    methods: frozenset[str] = ANY
    #: A concrete request path the tests check against this entry.
    example: str = ""
