"""docs/reports.md and the CI examples stay in step with the reporters."""

from __future__ import annotations

import copy
import re
from typing import Any

from report_helpers import ROOT

from auditor.core.reportdoc import TypedReport
from auditor.report import REPORTERS, RenderOptions
from auditor.report.csv_report import COLUMNS

DOC = (ROOT / "docs" / "reports.md").read_text(encoding="utf-8")


def test_every_format_and_csv_column_is_documented() -> None:
    for name, reporter in REPORTERS.items():
        assert f"| `{name}` | `report.{reporter.extension}` |" in DOC, name
    for column in COLUMNS:
        assert f"`{column}`" in DOC, column


def test_ci_examples_name_the_files_the_reporters_write() -> None:
    github = (ROOT / "docs" / "ci" / "github-actions.yml").read_text(encoding="utf-8")
    gitlab = (ROOT / "docs" / "ci" / "gitlab-ci.yml").read_text(encoding="utf-8")
    sarif = f"reports/report.{REPORTERS['sarif'].extension}"
    junit = f"reports/report.{REPORTERS['junit'].extension}"
    assert "--output-dir reports" in github and "--output-dir reports" in gitlab
    assert f"sarif_file: {sarif}" in github and "upload-sarif" in github
    assert f"junit: {junit}" in gitlab
    assert "security-events: write" in github


def test_groups_follow_severity_order(demo_report: dict[str, Any]) -> None:
    report = copy.deepcopy(demo_report)
    for finding, severity in zip(
        report["findings"], ["low", "critical", "medium", "high"] * 2, strict=False
    ):
        finding["severity"] = severity
    table = REPORTERS["table"].render(TypedReport.of(report), RenderOptions())
    marks = [table.index(f"  {s.upper()}: ") for s in ("critical", "high", "medium", "low")]
    assert marks == sorted(marks)
    html = REPORTERS["html"].render(TypedReport.of(report), RenderOptions())
    # the pack matrix's columns and each organisation's stacked bar run most severe first
    head = "".join(f'<th class="num">{s}</th>' for s in ("critical", "high", "medium", "low"))
    assert head in html
    chart = html[html.index('id="org-chart"') : html.index("</svg>", html.index('id="org-chart"'))]
    for row in chart.split("<text")[1:]:
        shown = re.findall(r'class="bar-(\w+)"', row)
        assert shown == sorted(shown, key=("critical", "high", "medium", "low").index)
    for s in ("critical", "high", "medium", "low"):
        assert f'class="bar-{s}"' in html
