"""SARIF 2.1.0: valid against the official schema shipped in the repo, and mapped as documented."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
from report_helpers import DEMO, GOLDEN_PACKS, ROOT

from auditor.core.reportdoc import TypedReport
from auditor.report import REPORTERS, RenderOptions
from auditor.report.sarif import FINGERPRINT_KEY

SCHEMA_FILE = ROOT / "auditor" / "report" / "schemas" / "sarif-schema-2.1.0.json"


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )


def assert_valid(doc: dict[str, Any]) -> None:
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def sarif(report: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        REPORTERS["sarif"].render(TypedReport.of(report), RenderOptions())
    )
    return data


def test_shipped_schema_is_the_oasis_sarif_2_1_0_schema() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    assert "runs" in schema["required"]


def test_demo_sarif_is_valid(demo_report: dict[str, Any]) -> None:
    doc = sarif(demo_report)
    assert_valid(doc)
    assert doc["version"] == "2.1.0" and len(doc["runs"]) == 1


def test_the_schema_rejects_a_broken_log(demo_report: dict[str, Any]) -> None:
    """The validator is not vacuous: a result without a message is refused."""
    doc = sarif(demo_report)
    del doc["runs"][0]["results"][0]["message"]
    assert list(_validator().iter_errors(doc))


def test_rules_list_every_rule_of_every_pack(demo_report: dict[str, Any]) -> None:
    driver = sarif(demo_report)["runs"][0]["tool"]["driver"]
    expected = [(p["id"], r["id"]) for p in demo_report["packs"] for r in p["rules"]]
    assert [(r["properties"]["pack"], r["id"]) for r in driver["rules"]] == expected
    assert {p["id"] for p in demo_report["packs"]} == set(GOLDEN_PACKS)
    amazon = next(r for r in driver["rules"] if r["id"] == "AMZ-REK-001")
    pack = next(p for p in demo_report["packs"] if p["id"] == "amazon-rekognition-police-2020")
    assert pack["citation"] and pack["citation"] in amazon["help"]["text"]
    assert amazon["helpUri"].startswith("https://")
    assert amazon["shortDescription"]["text"] == "Police <operation> on Amazon Rekognition"
    assert amazon["defaultConfiguration"]["level"] == "error"


def test_results_locations_levels_fingerprints(demo_report: dict[str, Any]) -> None:
    run = sarif(demo_report)["runs"][0]
    results = run["results"]
    assert len(results) == len(demo_report["findings"])
    for res, finding in zip(results, demo_report["findings"], strict=True):
        assert res["partialFingerprints"] == {FINGERPRINT_KEY: finding["id"]}
        assert (
            res["level"]
            == {"critical": "error", "high": "error", "medium": "warning", "low": "note"}[
                finding["severity"]
            ]
        )
        assert run["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == res["ruleId"]
        loc = res["locations"][0]["physicalLocation"]
        ev = finding["events"][0]
        assert loc["artifactLocation"] == {"uri": ev["file"], "uriBaseId": "BUNDLEROOT"}
        if ev["line"] is not None:
            assert loc["region"] == {"startLine": ev["line"]}
        else:
            assert res["locations"][0]["logicalLocations"][0]["name"] == f"record {ev['record']}"
        assert res["message"]["text"] == finding["message"]
    jsonl = next(
        r
        for r in results
        if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(".jsonl")
    )
    assert jsonl["locations"][0]["physicalLocation"]["region"]["startLine"] == 1
    inv = run["invocations"][0]
    assert inv["exitCode"] == 1 and inv["executionSuccessful"] is True
    hashes = {a["location"]["uri"]: a["hashes"]["sha-256"] for a in run["artifacts"]}
    for item in demo_report["inputs"]:
        if item["kind"] == "log":
            assert hashes[item["path"]] == item["sha256"]


def test_baselined_incomplete_and_odd_paths_stay_valid(demo_report: dict[str, Any]) -> None:
    report = copy.deepcopy(demo_report)
    for f in report["findings"]:
        f["baselined"] = True
    report["findings"][0]["events"][0]["file"] = "logs/odd name #1 %.jsonl"
    report["errors"] = [
        {
            "file": "logs/bad.jsonl",
            "line": 3,
            "record": None,
            "message": "malformed JSON: unexpected character",
        }
    ]
    report["run"]["status"] = "incomplete"
    doc = sarif(report)
    assert_valid(doc)
    run = doc["runs"][0]
    assert all(r["suppressions"][0]["status"] == "accepted" for r in run["results"])
    uri = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "logs/odd%20name%20%231%20%25.jsonl"
    inv = run["invocations"][0]
    assert inv["exitCode"] == 3 and inv["executionSuccessful"] is False
    note = inv["toolExecutionNotifications"][0]
    assert note["level"] == "error" and "malformed JSON" in note["message"]["text"]
    assert note["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    # all findings accepted: the gate passes
    report["run"]["status"] = "complete"
    report["errors"] = []
    assert sarif(report)["runs"][0]["invocations"][0]["exitCode"] == 0


def test_fingerprints_stable_across_runs(
    tmp_path: Path, session_db: str, run_cli: Callable[..., Any]
) -> None:
    """Two real audits of the same bundle: same fingerprints and results, valid files."""
    docs = []
    for n in (1, 2):
        out = tmp_path / f"run{n}.sarif"
        result = run_cli(
            "audit", DEMO, "--db", session_db, "--policy", GOLDEN_PACKS[0], "-f", "sarif", "-o", out
        )
        assert result.exit_code == 1, result.stderr
        docs.append(json.loads(out.read_text(encoding="utf-8")))
        assert_valid(docs[-1])
    runs = [d["runs"][0] for d in docs]
    assert runs[0]["automationDetails"] != runs[1]["automationDetails"]
    assert runs[0]["results"] == runs[1]["results"]
    prints = [[r["partialFingerprints"][FINGERPRINT_KEY] for r in run["results"]] for run in runs]
    assert prints[0] == prints[1] and len(set(prints[0])) == len(prints[0]) > 0


def test_rule_ids_shared_by_two_packs_are_qualified(demo_report: dict[str, Any]) -> None:
    report = copy.deepcopy(demo_report)
    twin = copy.deepcopy(report["packs"][0])
    twin["id"] = "twin-pack"
    report["packs"].append(twin)
    doc = sarif(report)
    assert_valid(doc)
    ids = [r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]]
    assert len(ids) == len(set(ids))
    assert f"twin-pack/{twin['rules'][0]['id']}" in ids
    result = doc["runs"][0]["results"][0]
    assert result["ruleId"] == f"{report['packs'][0]['id']}/{report['packs'][0]['rules'][0]['id']}"
