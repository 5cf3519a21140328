"""`--format json`: the `auditor.report/v1` document itself, keys sorted, two-space indent.

Written streaming (`write`): findings go out one by one from the audit's spill files, so the
report of a million findings never sits in memory; `render` gives the same bytes as a string.
"""

from __future__ import annotations

import io
from typing import Any, TextIO

from auditor.core.jsonstream import write_json
from auditor.report.base import RenderOptions


class JsonReporter:
    """See `Reporter.render`."""

    name = "json"
    extension = "json"

    def write(self, report: dict[str, Any], options: RenderOptions, out: TextIO) -> None:
        """See `Reporter.write`."""
        write_json(report, out)

    def render(self, report: dict[str, Any], options: RenderOptions) -> str:
        """See `Reporter.render`."""
        buf = io.StringIO()
        self.write(report, options, buf)
        return buf.getvalue()
