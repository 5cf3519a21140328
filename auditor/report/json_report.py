"""`--format json`: the `auditor.report/v1` document itself, keys sorted, two-space indent."""

from __future__ import annotations

import json
from typing import Any

from auditor.report.base import RenderOptions


class JsonReporter:
    """See `Reporter.render`."""

    name = "json"
    extension = "json"

    def render(self, report: dict[str, Any], options: RenderOptions) -> str:
        """See `Reporter.render`."""
        return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
