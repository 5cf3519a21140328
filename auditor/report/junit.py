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
from dataclasses import dataclass, field
from typing import NamedTuple

from auditor.core import gate
from auditor.core.report import Finding, PackEntry
from auditor.core.reportdoc import TypedReport
from auditor.report.base import RenderOptions
from auditor.report.common import (
    first_event,
    location_text,
    plain_title,
    rules_of,
    undecided_by_rule,
)

#: Characters XML 1.0 cannot carry at all (log content may contain them).
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(value: object) -> str:
    return _BAD_XML.sub("\ufffd", "" if value is None else str(value))


def _line(f: Finding) -> str:
    ev = first_event(f)
    flags = [s for s, on in (("attempt", f.attempt), ("baselined", f.baselined)) if on]
    return (
        f"[{f.severity}] {f.id} {ev.time} {ev.organisation} ({ev.category}) "
        f"{ev.operation} at {location_text(ev)}"
        + (f" ({', '.join(flags)})" if flags else "")
        + f": {f.message}"
    )


def _undecided_text(count: int, fields: list[str]) -> str:
    """`6 events lack country, region, locality` (the skipped case's message)."""
    events = f"{count} event{'' if count == 1 else 's'}"
    if not fields:
        return f"{events} could not be judged"
    return f"{events} lack{'s' if count == 1 else ''} {', '.join(fields)}"


def _reasons(report: TypedReport, pack: str, rule: str) -> str:
    """The cannot-decide groups of one rule, one per line, with a sample location."""
    lines = []
    for u in report.head.undecided:
        if (u.pack, u.rule) == (pack, rule):
            where = ", ".join(location_text(s) for s in u.sample)
            lines.append(f"{u.count} x {u.reason}" + (f" (e.g. {where})" if where else ""))
    return "\n".join(lines)


def _el(parent: ET.Element, tag: str, **attrs: object) -> ET.Element:
    return ET.SubElement(parent, tag, {k: _x(v) for k, v in attrs.items()})


class _Rule(NamedTuple):
    """A test case: a rule of a pack (or of a stored finding whose pack no longer lists it)."""

    id: str
    title: str


@dataclass(frozen=True)
class _Line:
    """One finding as its test case shows it (the findings themselves may be streamed)."""

    fails: bool
    severity: str
    text: str


@dataclass
class _Totals:
    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    undecided: dict[tuple[str, str], tuple[int, list[str]]] = field(default_factory=dict)


def _cases(
    report: TypedReport,
) -> tuple[dict[str, list[_Rule]], dict[tuple[str, str], list[_Line]]]:
    """Every pack's rules in report order, and each rule's finding lines (one pass)."""
    fail_on = report.head.settings.fail_on
    lines: dict[tuple[str, str], list[_Line]] = {}
    packs: dict[str, list[_Rule]] = {}
    for pack, rule in rules_of(report):
        packs.setdefault(pack.id, []).append(_Rule(rule.id, rule.title))
    for f in report.findings:
        fails = gate.fails(f.severity, fail_on, f.baselined)
        lines.setdefault((f.pack, f.rule), []).append(_Line(fails, f.severity, _line(f)))
        rules = packs.setdefault(f.pack, [])
        if not any(r.id == f.rule for r in rules):
            rules.append(_Rule(f.rule, f.title))
    return packs, lines


def _case(
    suite: ET.Element,
    report: TypedReport,
    pack_id: str,
    rule: _Rule,
    found: list[_Line],
    undecided: tuple[int, list[str]],
) -> None:
    """One rule's `<testcase>`: failure, skipped (cannot decide) and what else to know."""
    case = _el(
        suite,
        "testcase",
        classname=pack_id,
        name=f"{rule.id}: {plain_title(rule.title)}",
        time="0",
    )
    failing = [f for f in found if f.fails]
    passing = [f for f in found if not f.fails]
    if failing:
        fail = _el(
            case,
            "failure",
            type=failing[0].severity,
            message=f"{len(failing)} finding(s) fail the gate "
            f"(--fail-on {report.head.settings.fail_on})",
        )
        fail.text = _x("\n".join(f.text for f in failing))
    count, fields = undecided
    if count and not failing:
        skip = _el(case, "skipped", message=_undecided_text(count, fields))
        skip.text = _x(_reasons(report, pack_id, rule.id))
    notes = []
    if passing:
        notes.append(
            "Findings that do not fail the gate (baselined or below "
            "--fail-on):\n" + "\n".join(f.text for f in passing)
        )
    if count and failing:
        notes.append(
            f"Not judged: {_undecided_text(count, fields)}:\n" + _reasons(report, pack_id, rule.id)
        )
    if notes:
        _el(case, "system-out").text = _x("\n\n".join(notes))


def _suite(
    root: ET.Element,
    report: TypedReport,
    pack_id: str,
    rules: list[_Rule],
    lines: dict[tuple[str, str], list[_Line]],
    totals: _Totals,
) -> None:
    """One pack's `<testsuite>`, its properties, and a case per rule."""
    failed = {r.id for r in rules if any(f.fails for f in lines.get((pack_id, r.id), []))}
    skipped = sum(1 for r in rules if r.id not in failed and (pack_id, r.id) in totals.undecided)
    suite = _el(
        root,
        "testsuite",
        name=pack_id,
        tests=len(rules),
        failures=len(failed),
        errors=0,
        skipped=skipped,
        time="0",
        timestamp=report.head.run.started,
    )
    props = _el(suite, "properties")
    pack: PackEntry | None = next((p for p in report.head.packs if p.id == pack_id), None)
    for key in ("version", "sha256", "path", "status", "title"):
        value = getattr(pack, key, None)
        if value:
            _el(props, "property", name=key, value=value)
    for rule in rules:
        found = lines.get((pack_id, rule.id), [])
        _case(
            suite, report, pack_id, rule, found, totals.undecided.get((pack_id, rule.id), (0, []))
        )
    totals.tests += len(rules)
    totals.failures += len(failed)
    totals.skipped += skipped


def _inputs_suite(root: ET.Element, report: TypedReport, totals: _Totals) -> None:
    """The `auditor.inputs` suite whose one case errors when any input was unreadable."""
    errors = report.head.errors
    suite = _el(
        root,
        "testsuite",
        name="auditor.inputs",
        tests=1,
        failures=0,
        errors=1,
        skipped=0,
        time="0",
        timestamp=report.head.run.started,
    )
    case = _el(
        suite, "testcase", classname="auditor.inputs", name="every input is readable", time="0"
    )
    err = _el(
        case,
        "error",
        type="incomplete",
        message=f"{len(errors)} input error(s): the audit is incomplete",
    )
    err.text = _x("\n".join(location_text(e) + f": {e.message}" for e in errors))
    totals.tests += 1
    totals.errors += 1


def to_junit(report: TypedReport) -> ET.Element:
    """The `<testsuites>` element."""
    root = ET.Element("testsuites", {"name": _x(f"auditor: {report.head.bundle.name}")})
    totals = _Totals(undecided=undecided_by_rule(report))
    packs, lines = _cases(report)
    for pack_id, rules in packs.items():
        _suite(root, report, pack_id, rules, lines, totals)
    if report.head.errors:
        _inputs_suite(root, report, totals)
    # `<testsuites>` has no `skipped` attribute in the Jenkins xunit schema (junit-10.xsd):
    # the skipped count is on each suite only
    for key in ("tests", "failures", "errors"):
        root.set(key, str(getattr(totals, key)))
    root.set("time", "0")
    return root


class JUnitReporter:
    """See `Reporter.render`."""

    name = "junit"
    extension = "xml"

    def render(self, report: TypedReport, options: RenderOptions) -> str:
        """See `Reporter.render`."""
        root = to_junit(report)
        ET.indent(root, space="  ")
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            + ET.tostring(root, encoding="unicode")
            + "\n"
        )
