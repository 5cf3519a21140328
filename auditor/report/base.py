"""The reporter interface: one module per output format renders a `core.reportdoc.TypedReport`.

`report.findings` is a sized, re-iterable stream of typed findings (read back from spill files or
the store and validated one by one): reporters iterate it and never index or slice it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TextIO

from auditor.core.reportdoc import TypedReport


@dataclass(frozen=True)
class RenderOptions:
    """Presentation choices that do not change what was found."""

    color: bool = False
    show_faces: bool = False
    #: The bundle folder, so human reports can show frame thumbnails (None: no thumbnails).
    bundle_root: str | None = None
    #: CSV only: start with a UTF-8 byte order mark, which spreadsheet programs (Excel) need
    #: to read the file as UTF-8 rather than the locale's code page.
    csv_bom: bool = False
    #: SARIF: the bundle folder's path relative to the repository root (`sarif.check_root`),
    #: so code scanning finds the files; None keeps paths bundle-relative.
    sarif_root: str | None = None
    #: Where a format says what its reader should know (the command line prints it on stderr).
    warn: Callable[[str], None] | None = None
    #: Columns the terminal table may use (None: `report.table.DEFAULT_WIDTH`).
    width: int | None = None


class Reporter(Protocol):
    """An output format. `render` must be deterministic for a given report."""

    name: str
    extension: str

    def render(self, report: TypedReport, options: RenderOptions) -> str:
        """The whole document as text."""


class StreamingReporter(Reporter, Protocol):
    """A format that can write itself piece by piece (JSON, SARIF, CSV): the command line
    prefers `write`, so a report with millions of findings never becomes one string."""

    def write(self, report: TypedReport, options: RenderOptions, out: TextIO) -> None:
        """Write the same text `render` returns to `out`."""
