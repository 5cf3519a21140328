"""JUnit XML: parses, one suite per pack, one case per rule, failures list the findings."""

from __future__ import annotations

import copy
import re
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from report_helpers import DEMO, GOLDEN_PACKS, ROOT

from auditor.core.reportdoc import TypedReport
from auditor.report import REPORTERS, RenderOptions
from auditor.report.common import plain_title


def junit(report: dict[str, Any]) -> ET.Element:
    text = REPORTERS["junit"].render(TypedReport.of(report), RenderOptions())
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text.encode("utf-8"))


def test_suites_cases_and_failures(demo_report: dict[str, Any]) -> None:
    root = junit(demo_report)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [p["id"] for p in demo_report["packs"]]
    for suite, pack in zip(suites, demo_report["packs"], strict=True):
        cases = suite.findall("testcase")
        assert [c.get("name", "").split(":")[0] for c in cases] == [r["id"] for r in pack["rules"]]
        assert suite.get("tests") == str(len(cases))
        failed = [c for c in cases if c.find("failure") is not None]
        assert suite.get("failures") == str(len(failed))
        props = {p.get("name"): p.get("value") for p in suite.iter("property")}
        assert props["sha256"] == pack["sha256"] and props["version"] == pack["version"]
    amazon = root.find("testsuite[@name='amazon-rekognition-police-2020']")
    assert amazon is not None
    failure = amazon.find("testcase/failure")
    assert failure is not None and failure.get("type") == "high"
    lines = (failure.text or "").splitlines()
    mine = [f for f in demo_report["findings"] if f["pack"] == "amazon-rekognition-police-2020"]
    assert len(lines) == len(mine)
    for line, finding in zip(lines, mine, strict=True):
        assert finding["id"] in line and finding["events"][0]["operation"] in line
    failing = {f["pack"] for f in demo_report["findings"]}  # one failing rule per pack here
    assert root.get("failures") == str(len(failing)) and root.get("errors") == "0"
    assert root.get("tests") == str(sum(len(p["rules"]) for p in demo_report["packs"]))


def test_baselined_findings_do_not_fail(demo_report: dict[str, Any]) -> None:
    report = copy.deepcopy(demo_report)
    for f in report["findings"]:
        f["baselined"] = True
    root = junit(report)
    assert root.find(".//failure") is None and root.get("failures") == "0"
    out = root.find(".//testcase/system-out")
    assert out is not None and "(baselined)" in (out.text or "")


def test_fail_on_above_the_findings_passes(demo_report: dict[str, Any]) -> None:
    report = copy.deepcopy(demo_report)
    report["settings"]["fail_on"] = "critical"
    root = junit(report)
    assert root.find(".//failure") is None


def test_input_errors_make_an_error_case_and_control_chars_survive(
    demo_report: dict[str, Any],
) -> None:
    report = copy.deepcopy(demo_report)
    report["run"]["status"] = "incomplete"
    report["errors"] = [
        {
            "file": "logs/x.jsonl",
            "line": 2,
            "record": None,
            "message": "malformed JSON \x00\x1b[31m <b>&amp;</b>",
        }
    ]
    report["findings"][0]["message"] = "bell \x07 and <tag> & 'quotes' \"too\""
    root = junit(report)
    suite = root.find("testsuite[@name='auditor.inputs']")
    assert suite is not None and suite.get("errors") == "1"
    error = suite.find("testcase/error")
    assert error is not None and "logs/x.jsonl:2" in (error.text or "")
    assert "<b>&amp;</b>" in (error.text or "")
    assert root.get("errors") == "1"
    failure = root.find(".//failure")
    assert failure is not None and "<tag> & 'quotes'" in (failure.text or "")


def test_a_rule_that_could_not_judge_is_skipped_not_green(demo_report: dict[str, Any]) -> None:
    report = copy.deepcopy(demo_report)
    sample = dict(report["undecided"][0]["sample"][0])
    report["undecided"] = report["undecided"] + [
        {
            "pack": "microsoft-face-police-2020",
            "rule": "MS-FACE-002",
            "reason": "no country, region or locality in the log",
            "missing": ["country", "region"],
            "count": 4,
            "sample": [sample],
        },
        {
            "pack": "microsoft-face-police-2020",
            "rule": "MS-FACE-002",
            "reason": "no locality either",
            "missing": ["region", "locality"],
            "count": 2,
            "sample": [],
        },
    ]
    root = junit(report)
    suite = root.find("testsuite[@name='microsoft-face-police-2020']")
    assert suite is not None and suite.get("skipped") == "1"
    case = suite.find("testcase[@name='MS-FACE-002: Real-time facial recognition on a mobile "
                      "camera by law enforcement']")  # fmt: skip
    assert case is not None and case.find("failure") is None
    skipped = case.find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "6 events lack country, region, locality"
    lines = (skipped.text or "").splitlines()
    assert lines[0].startswith("4 x no country, region or locality in the log (e.g. logs/")
    assert lines[1] == "2 x no locality either"
    assert root.get("skipped") is None  # not an attribute of <testsuites> in junit-10.xsd
    # the other cases of the pack are unchanged: judged, green or failing
    assert [c.find("skipped") for c in suite.findall("testcase") if c is not case] == [None] * 4


def test_undecided_events_of_a_failing_rule_are_listed(demo_report: dict[str, Any]) -> None:
    root = junit(demo_report)
    case = root.find("testsuite[@name='amazon-rekognition-police-2020']/testcase")
    assert case is not None and case.find("failure") is not None and case.find("skipped") is None
    out = case.find("system-out")
    assert out is not None
    assert (out.text or "").startswith(
        "Not judged: 1 event lacks principal:\n1 x unknown principal"
    )


def test_skipped_through_the_cli(
    tmp_path: Path, session_db: str, run_cli: Callable[..., Any]
) -> None:
    """--fail-on critical: the demo's police searches no longer fail, but the one by an
    unknown principal still could not be judged, so the case is skipped, not passed."""
    out = tmp_path / "r.xml"
    result = run_cli(
        "audit", DEMO, "--db", session_db, "--policy", GOLDEN_PACKS[0], "--fail-on", "critical",
        "-f", "junit", "-o", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    root = ET.fromstring(out.read_bytes())
    (case,) = root.iter("testcase")
    assert case.get("name") == "AMZ-REK-001: Police face operation on Amazon Rekognition"
    assert case.find("failure") is None
    skipped = case.find("skipped")
    assert skipped is not None and skipped.get("message") == "1 event lacks principal"
    assert "contractor-77" in (skipped.text or "")
    suite = root.find("testsuite")
    assert suite is not None and suite.get("skipped") == "1" and root.get("failures") == "0"
    out_text = case.find("system-out")
    assert out_text is not None and "below --fail-on" in (out_text.text or "")


def test_case_names_have_no_placeholders() -> None:
    """Every rule title of every shipped pack, as a case name: no `{field}`, no `<field>`, no
    empty parentheses or doubled spaces left where a placeholder was."""
    titles = [
        rule["title"]
        for path in sorted((ROOT / "seeds").glob("*.toml"))
        for rule in tomllib.loads(path.read_text(encoding="utf-8")).get("rules", [])
    ]
    assert len(titles) > 50 and sum("{" in t for t in titles) > 40
    for title in titles:
        name = plain_title(title)
        assert not re.search(r"[{}<>]|\(\s*\)|\s{2}|\s[,.)]", name), (title, name)
        assert name and name[0] == title[0]
    assert plain_title("Police {operation} on X") == "Police face operation on X"
    assert plain_title("Face recognition ({operation}) by a City department") == (
        "Face recognition by a City department"
    )


#: Attributes and children the Jenkins xunit plugin's JUnit schema (junit-10.xsd) allows.
_XUNIT = {
    "testsuites": ({"name", "time", "tests", "failures", "disabled", "errors"}, {"testsuite"}),
    "testsuite": (
        {"name", "tests", "failures", "errors", "time", "disabled", "skipped", "skips",
         "timestamp", "hostname", "id", "package", "assertions", "file", "skip", "log", "url"},
        {"testsuite", "properties", "testcase", "system-out", "system-err"},
    ),
    "properties": (set(), {"property"}),
    "property": ({"name", "value"}, set()),
    "testcase": (
        {"name", "assertions", "time", "timestamp", "classname", "status", "class", "file",
         "line", "log", "group", "url"},
        {"skipped", "error", "failure", "system-out", "system-err"},
    ),
    "failure": ({"type", "message"}, set()),
    "error": ({"type", "message"}, set()),
    "skipped": ({"type", "message"}, set()),
    "system-out": (set(), set()),
}  # fmt: skip
_REQUIRED = {"testsuite": {"tests"}, "testcase": {"name"}, "property": {"name", "value"}}


def assert_xunit_shape(root: ET.Element) -> None:
    assert root.tag == "testsuites"
    for el in root.iter():
        attrs, children = _XUNIT[el.tag]
        assert set(el.attrib) <= attrs, (el.tag, set(el.attrib) - attrs)
        assert _REQUIRED.get(el.tag, set()) <= set(el.attrib), el.tag
        assert {c.tag for c in el} <= children, (el.tag, {c.tag for c in el} - children)


def test_every_variant_keeps_the_xunit_schema_shape(demo_report: dict[str, Any]) -> None:
    assert_xunit_shape(junit(demo_report))
    report = copy.deepcopy(demo_report)
    report["settings"]["fail_on"] = "critical"
    report["errors"] = [{"file": "logs/x", "line": None, "record": None, "message": "bad"}]
    root = junit(report)
    assert root.find(".//skipped") is not None and root.find(".//error") is not None
    assert_xunit_shape(root)
    bad = ET.fromstring('<testsuites skipped="1"><testsuite tests="0"/></testsuites>')
    with pytest.raises(AssertionError):
        assert_xunit_shape(bad)
