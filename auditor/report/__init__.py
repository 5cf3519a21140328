"""Output formats, one module each, listed in `REPORTERS` (a test walks the registry)."""

from __future__ import annotations

from auditor.report.base import RenderOptions, Reporter
from auditor.report.csv_report import CsvReporter
from auditor.report.html import HtmlReporter
from auditor.report.json_report import JsonReporter
from auditor.report.junit import JUnitReporter
from auditor.report.sarif import SarifReporter
from auditor.report.table import TableReporter

REPORTERS: dict[str, Reporter] = {
    "table": TableReporter(),
    "json": JsonReporter(),
    "sarif": SarifReporter(),
    "junit": JUnitReporter(),
    "csv": CsvReporter(),
    "html": HtmlReporter(),
}

__all__ = ["REPORTERS", "RenderOptions", "Reporter"]
