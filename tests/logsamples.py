"""Helpers for the source tests on fixtures/logs-samples (samples in the products' shapes)."""

from __future__ import annotations

from pathlib import Path

from auditor.config.bundle import SourceSettings
from auditor.sources import FileResult, ReadJob, read_file

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "logs-samples"


def read_sample(
    rel: str, settings: SourceSettings | None = None, root: Path = SAMPLES
) -> FileResult:
    """Read one sample through the real entry point (sniffing included)."""
    return read_file(ReadJob(str(root), rel, "auto", settings or SourceSettings()))


def rows(result: FileResult) -> list[tuple[object, ...]]:
    """(line, record, service, operation, kind, principal, outcome) of every event."""
    return [
        (e.line, e.record, e.service, e.operation, e.kind.value, e.principal.id, e.outcome)
        for e in result.events
    ]


def issues(result: FileResult) -> list[tuple[int | None, int | None, str]]:
    """(line, record, message) of every input issue."""
    return [(i.line, i.record, i.message) for i in result.issues]
