"""SARIF `tool.driver.rules`: one reportingDescriptor per rule of every pack used.

Apart from the results because a rule says what the pack says, and the pack is input: its
help is written twice, as plain text and as Markdown in which every character Markdown or
HTML acts on is escaped, and only checked http(s) links (`common.web_url`) become links, so a
pack cannot put markup or a `javascript:` link into a code-scanning view.
"""

from __future__ import annotations

from typing import Any

from auditor.core.report import PackEntry, PackRule
from auditor.report.common import help_uri, markdown_text, template_text, web_url

LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
#: GitHub code scanning reads this property to rank results (CVSS-like 0.0-10.0).
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}


def _rule_help(pack: PackEntry, rule: PackRule, title: str) -> dict[str, str]:
    """The rule's help in plain text and in Markdown (pack text escaped, links checked)."""
    citation = pack.citation
    cited = [s for s in pack.sources if s.id in set(rule.cite)]
    lines = [
        f"{title}.",
        "",
        f"Pack {pack.id} {pack.version} ({pack.status}): {pack.title}.",
    ]
    md = [
        f"**{markdown_text(title)}**",
        "",
        f"Pack {markdown_text(pack.id)} {markdown_text(pack.version)} "
        f"({markdown_text(pack.status)}): {markdown_text(pack.title)}.",
    ]
    if citation:
        lines += ["", f"Citation: {citation}"]
        md += ["", f"Citation: {markdown_text(citation)}"]
    if cited:
        lines += ["", "Sources:"] + [
            f"- [{s.confidence}] {s.title} {s.url if web_url(s.url) else ''}".rstrip()
            for s in cited
        ]
        md += ["", "Sources:", ""] + [
            f"- \\[{markdown_text(s.confidence)}\\] "
            + (
                f"[{markdown_text(s.title)}](<{s.url}>)"
                if web_url(s.url)
                else markdown_text(s.title)
            )
            for s in cited
        ]
    return {"text": "\n".join(lines), "markdown": "\n".join(md)}


def sarif_rule(pack: PackEntry, rule: PackRule, rule_id: str) -> dict[str, Any]:
    title = template_text(rule.title)
    out: dict[str, Any] = {
        "id": rule_id,
        "name": f"{pack.id}/{rule.id}",
        "shortDescription": {"text": title},
        "fullDescription": {"text": f"{title} ({rule.kind} rule of {pack.title})."},
        "help": _rule_help(pack, rule, title),
        "defaultConfiguration": {"level": LEVELS.get(rule.severity, "warning")},
        "properties": {
            "pack": pack.id,
            "packVersion": pack.version,
            "severity": rule.severity,
            "confidence": rule.confidence,
            "kind": rule.kind,
            "security-severity": SECURITY_SEVERITY.get(rule.severity, "5.5"),
            "tags": ["face-recognition", "moratorium", pack.id],
        },
    }
    uri = help_uri(pack, rule)
    if uri:
        out["helpUri"] = uri
    return out
