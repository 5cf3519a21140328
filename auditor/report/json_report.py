"""`--format json`: the `auditor.report/v1` document itself, keys sorted, two-space indent.

Written from the typed model (`TypedReport.document`), keys as they were set, so the JSON of a
run read back from the store is the JSON its audit wrote.

Written streaming (`write`): findings go out one by one from the audit's spill files, so the
report of a million findings never sits in memory; `render` gives the same bytes as a string.
"""

from __future__ import annotations

import io
from typing import TextIO

from auditor.core.jsonstream import write_json
from auditor.core.reportdoc import TypedReport
from auditor.report.base import RenderOptions


class JsonReporter:
    """See `Reporter.render`."""

    name = "json"
    extension = "json"

    def write(self, report: TypedReport, options: RenderOptions, out: TextIO) -> None:
        """See `Reporter.write`."""
        write_json(report.document(), out)

    def render(self, report: TypedReport, options: RenderOptions) -> str:
        """See `Reporter.render`."""
        buf = io.StringIO()
        self.write(report, options, buf)
        return buf.getvalue()
