"""The report as every format reads it: a typed head and a typed, streamed list of findings.

A report may hold millions of findings that are never all in memory (they come from the
audit's spill files or from the store as a `jsonstream.Lazy`), so `Report` (findings in a
tuple) cannot be what reporters take. `TypedReport` is: its head (run, settings, packs,
summary, undecided, notices, errors ...) is validated whole against `core.report.ReportHead`
once, and its findings are validated one by one as a reporter walks them, each pass anew.
Validating a finding costs about what `json.dumps` of it costs (6.4 µs against 7.4 µs), and the
JSON report written from the model takes 1.25x the time of writing the dict (bench/RESULTS.md,
"Typed reports"): a price paid once per render for one owner of the shape, where hand-kept
dataclasses would need a second, hand-written validator for stored and published reports.

A format reads attributes, never keys: a field the writer renames fails mypy in every format
instead of a KeyError at run time, and a stored run that does not fit the model is one
located `ReportShapeError` (`findings[12].events[0].time: ...`) before any output.

`document()` gives the JSON form back (keys as set, so a stored run from an older release
round-trips to the same bytes); the JSON format, the store and the evidence archive write it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sized
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from auditor.core.jsonstream import Lazy
from auditor.core.report import (
    Finding,
    Report,
    ReportHead,
    ReportShapeError,
    problems,
    upgrade,
)

__all__ = ["FindingStream", "TypedReport"]


class _SizedIterable(Sized, Iterable[Any], Protocol):
    """A list, tuple or `Lazy` of finding dicts (or models)."""


class FindingStream:
    """The findings of a report: sized and re-iterable, each validated as it is read.

    Reporters iterate it (several times: the gate, then the rows) and never index it, so a
    stored run of any size renders in bounded memory.
    """

    def __init__(self, raw: _SizedIterable) -> None:
        self._raw = raw

    def __len__(self) -> int:
        return len(self._raw)

    def __bool__(self) -> bool:
        return len(self._raw) > 0

    def __iter__(self) -> Iterator[Finding]:
        for i, item in enumerate(self._raw):
            if isinstance(item, Finding):
                yield item
                continue
            try:
                yield Finding.model_validate(item)
            except ValidationError as exc:
                raise ReportShapeError(problems(exc, root=("findings", i))) from None

    def dumped(self) -> Lazy:
        """The findings in their JSON form, streamed (for `TypedReport.document`)."""
        return Lazy(lambda: (_dump(f) for f in self), len(self))


def _dump(model: Finding | ReportHead) -> dict[str, Any]:
    """The JSON form (lists, not tuples; keys as set): equal to the document it came from."""
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)


@dataclass(frozen=True)
class TypedReport:
    """What a `report.base.Reporter` renders (see the module docstring)."""

    head: ReportHead
    findings: FindingStream

    @classmethod
    def of(cls, data: Mapping[str, Any] | Report | TypedReport) -> TypedReport:
        """A report dict (fresh or stored; findings may be lazy), or an in-memory `Report`,
        checked against the model; `ReportShapeError` says where it does not fit."""
        if isinstance(data, TypedReport):
            return data
        if isinstance(data, Report):
            head = ReportHead.model_validate(
                data.model_dump(exclude={"findings"}, by_alias=True, exclude_unset=True)
            )
            return cls(head, FindingStream(data.findings))
        if not isinstance(data, Mapping):
            raise ReportShapeError([f"(document): must be an object, not {type(data).__name__}"])
        doc = upgrade(data)
        findings = doc.pop("findings", None)
        if findings is None:
            raise ReportShapeError(["findings: Field required"])
        try:
            head = ReportHead.model_validate(doc)
        except ValidationError as exc:
            raise ReportShapeError(problems(exc)) from None
        return cls(head, FindingStream(findings))

    def document(self) -> dict[str, Any]:
        """The `auditor.report/v1` JSON document, findings streamed (`jsonstream.write_json`)."""
        doc = _dump(self.head)
        doc["findings"] = self.findings.dumped()
        return doc
