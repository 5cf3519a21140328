"""JUnit XML: parses, one suite per pack, one case per rule, failures list the findings."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from typing import Any

from auditor.report import REPORTERS, RenderOptions


def junit(report: dict[str, Any]) -> ET.Element:
    text = REPORTERS["junit"].render(report, RenderOptions())
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
