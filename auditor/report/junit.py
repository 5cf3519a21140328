"""`--format junit`: JUnit XML for CI test-report views (GitLab, Jenkins, GitHub test actions).

One `<testsuite>` per pack, one `<testcase>` per rule of the pack, named by the rule's title
without placeholders. A test case fails when the rule has findings that fail the gate (at or
above `--fail-on`, not baselined); its `<failure>` lists them, one per line. A rule that does not
fail but could not judge some events (the log lacks a field it needs) is `<skipped>`, never
green: what it could not judge is not a pass. Findings that do not fail the gate (baselined, or
below `--fail-on`) and undecided events of a failing rule are listed in the case's
`<system-out>`. Unreadable inputs make an extra `auditor.inputs` suite whose case errors, so an
incomplete audit never shows as all green.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from auditor.report.base import RenderOptions
from auditor.report.common import (
    gate_failing,
    location_text,
    plain_title,
    rules_of,
    undecided_by_rule,
)

#: Characters XML 1.0 cannot carry at all (log content may contain them).
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(value: object) -> str:
    return _BAD_XML.sub("\ufffd", "" if value is None else str(value))


def _line(f: dict[str, Any]) -> str:
    ev = f["events"][0]
    flags = [s for s, on in (("attempt", f["attempt"]), ("baselined", f.get("baselined"))) if on]
    return (
        f"[{f['severity']}] {f['id']} {ev['time']} {ev['organisation']} ({ev['category']}) "
        f"{ev['operation']} at {location_text(ev)}"
        + (f" ({', '.join(flags)})" if flags else "")
        + f": {f['message']}"
    )


def _undecided_text(count: int, fields: list[str]) -> str:
    """`6 events lack country, region, locality` (the skipped case's message)."""
    events = f"{count} event{'' if count == 1 else 's'}"
    if not fields:
        return f"{events} could not be judged"
    return f"{events} lack{'s' if count == 1 else ''} {', '.join(fields)}"


def _reasons(report: dict[str, Any], pack: str, rule: str) -> str:
    """The cannot-decide groups of one rule, one per line, with a sample location."""
    lines = []
    for u in report.get("undecided") or []:
        if (u["pack"], u["rule"]) == (pack, rule):
            where = ", ".join(location_text(s) for s in u.get("sample") or [])
            lines.append(
                f"{u.get('count', 1)} x {u['reason']}" + (f" (e.g. {where})" if where else "")
            )
    return "\n".join(lines)


def _el(parent: ET.Element, tag: str, **attrs: object) -> ET.Element:
    return ET.SubElement(parent, tag, {k: _x(v) for k, v in attrs.items()})


def to_junit(report: dict[str, Any]) -> ET.Element:
    """The `<testsuites>` element."""
    run = report["run"]
    root = ET.Element("testsuites", {"name": _x(f"auditor: {report['bundle']['name']}")})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    undecided = undecided_by_rule(report)
    # one line of text per finding, not the finding itself: the findings may be streamed
    by_rule: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for f in report["findings"]:
        by_rule.setdefault((f["pack"], f["rule"]), []).append(
            {"severity": f["severity"], "baselined": f.get("baselined"), "line": _line(f)}
        )
    packs: dict[str, list[dict[str, Any]]] = {}
    for pack, rule in rules_of(report):
        packs.setdefault(pack["id"], []).append(rule)
    for f in report["findings"]:  # findings of rules a stored pack no longer lists
        rules = packs.setdefault(f["pack"], [])
        if not any(r["id"] == f["rule"] for r in rules):
            rules.append({"id": f["rule"], "title": f["title"], "severity": f["severity"]})
    meta = {p["id"]: p for p in report["packs"]}
    for pack_id, rules in packs.items():
        pack = meta.get(pack_id, {})
        failed = {
            r["id"]
            for r in rules
            if any(gate_failing(report, f) for f in by_rule.get((pack_id, r["id"]), []))
        }
        skipped = sum(1 for r in rules if r["id"] not in failed and (pack_id, r["id"]) in undecided)
        suite = _el(
            root,
            "testsuite",
            name=pack_id,
            tests=len(rules),
            failures=len(failed),
            errors=0,
            skipped=skipped,
            time="0",
            timestamp=run["started"],
        )
        props = _el(suite, "properties")
        for key in ("version", "sha256", "path", "status", "title"):
            if pack.get(key):
                _el(props, "property", name=key, value=pack[key])
        for rule in rules:
            found = by_rule.get((pack_id, rule["id"]), [])
            case = _el(
                suite,
                "testcase",
                classname=pack_id,
                name=f"{rule['id']}: {plain_title(rule['title'])}",
                time="0",
            )
            failing = [f for f in found if gate_failing(report, f)]
            passing = [f for f in found if not gate_failing(report, f)]
            if failing:
                worst = failing[0]["severity"]
                fail = _el(
                    case,
                    "failure",
                    type=worst,
                    message=f"{len(failing)} finding(s) fail the gate "
                    f"(--fail-on {report['settings'].get('fail_on', 'low')})",
                )
                fail.text = _x("\n".join(f["line"] for f in failing))
            count, fields = undecided.get((pack_id, rule["id"]), (0, []))
            if count and not failing:
                skip = _el(case, "skipped", message=_undecided_text(count, fields))
                skip.text = _x(_reasons(report, pack_id, rule["id"]))
            notes = []
            if passing:
                notes.append(
                    "Findings that do not fail the gate (baselined or below "
                    "--fail-on):\n" + "\n".join(f["line"] for f in passing)
                )
            if count and failing:
                notes.append(
                    f"Not judged: {_undecided_text(count, fields)}:\n"
                    + _reasons(report, pack_id, rule["id"])
                )
            if notes:
                _el(case, "system-out").text = _x("\n\n".join(notes))
        totals["tests"] += len(rules)
        totals["failures"] += len(failed)
        totals["skipped"] += skipped
    if report["errors"]:
        suite = _el(
            root,
            "testsuite",
            name="auditor.inputs",
            tests=1,
            failures=0,
            errors=1,
            skipped=0,
            time="0",
            timestamp=run["started"],
        )
        case = _el(
            suite, "testcase", classname="auditor.inputs", name="every input is readable", time="0"
        )
        err = _el(
            case,
            "error",
            type="incomplete",
            message=f"{len(report['errors'])} input error(s): the audit is incomplete",
        )
        err.text = _x(
            "\n".join(
                location_text({"file": e["file"], "record": e.get("record"), "line": e.get("line")})
                + f": {e['message']}"
                for e in report["errors"]
            )
        )
        totals["tests"] += 1
        totals["errors"] += 1
    # `<testsuites>` has no `skipped` attribute in the Jenkins xunit schema (junit-10.xsd):
    # the skipped count is on each suite only
    for key, value in totals.items():
        if key != "skipped":
            root.set(key, str(value))
    root.set("time", "0")
    return root


class JUnitReporter:
    """See `Reporter.render`."""

    name = "junit"
    extension = "xml"

    def render(self, report: dict[str, Any], options: RenderOptions) -> str:
        """See `Reporter.render`."""
        root = to_junit(report)
        ET.indent(root, space="  ")
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            + ET.tostring(root, encoding="unicode")
            + "\n"
        )
