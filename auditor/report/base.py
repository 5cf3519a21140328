"""The reporter interface: one module per output format renders the report dict.

`report["findings"]` is any sized, re-iterable sequence of finding dicts (a list, or a
`auditor.core.jsonstream.Lazy` read back from spill files or the store): reporters iterate it and
never index or slice it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, TextIO


@dataclass(frozen=True)
class RenderOptions:
    """Presentation choices that do not change what was found."""

    color: bool = False
    show_faces: bool = False
    #: The bundle folder, so human reports can show frame thumbnails (None: no thumbnails).
    bundle_root: str | None = None
    #: Columns the terminal table may use (None: `report.table.DEFAULT_WIDTH`).
    width: int | None = None


class Reporter(Protocol):
    """An output format. `render` must be deterministic for a given report."""

    name: str
    extension: str

    def render(self, report: dict[str, Any], options: RenderOptions) -> str:
        """The whole document as text."""


class StreamingReporter(Reporter, Protocol):
    """A format that can write itself piece by piece (JSON, SARIF, CSV): the command line
    prefers `write`, so a report with millions of findings never becomes one string."""

    def write(self, report: dict[str, Any], options: RenderOptions, out: TextIO) -> None:
        """Write the same text `render` returns to `out`."""
