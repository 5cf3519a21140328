"""SARIF that GitHub code scanning places: a start line for every CloudTrail result, paths that
resolve in the repository (`--sarif-root`), the tool's page, and GitHub's upload limits."""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from report_helpers import DEMO, GOLDEN_PACKS
from test_report_sarif import assert_valid, sarif

from auditor.core.gate import severity_rank
from auditor.core.jsonstream import write_json
from auditor.core.reportdoc import TypedReport
from auditor.report import REPORTERS, RenderOptions
from auditor.report.sarif import to_sarif
from auditor.report.sarif_github import MAX_GZIP_BYTES, MAX_RESULTS, check_root


def _doc(log: dict[str, Any]) -> dict[str, Any]:
    """A `to_sarif` log (with its lazy parts) as the JSON a reader gets."""
    buf = io.StringIO()
    write_json(log, buf)
    data: dict[str, Any] = json.loads(buf.getvalue())
    return data


def _record_at(path: Path, line: int) -> Any:
    """The JSON record that starts on `line` of the file."""
    text = path.read_text(encoding="utf-8").split("\n")
    rest = "\n".join(text[line - 1 :]).lstrip()
    assert rest.startswith("{"), f"{path.name}:{line} does not start a record"
    return json.JSONDecoder().raw_decode(rest)[0]


def test_every_result_has_the_line_its_record_starts_on(demo_report: dict[str, Any]) -> None:
    run = sarif(demo_report)["runs"][0]
    cloudtrail = 0
    for res, finding in zip(run["results"], demo_report["findings"], strict=True):
        ev = finding["events"][0]
        region = res["locations"][0]["physicalLocation"]["region"]
        assert region == {"startLine": ev["start_line"]}
        if ev["source"] == "cloudtrail":
            cloudtrail += 1
            assert ev["line"] is None  # a record of the pretty-printed demo trail
            rec = _record_at(DEMO / ev["file"], region["startLine"])
            assert rec["eventID"] == ev["event_id"]
    assert cloudtrail == 5


def test_sarif_root_through_the_cli_resolves_in_the_repository(
    tmp_path: Path, session_db: str, run_cli: Callable[..., Any]
) -> None:
    """The bundle checked into a repository at ci/audit bundle/: every uri of the SARIF, read
    relative to the repository root as code scanning reads it, is a file of the checkout."""
    repo = tmp_path / "repo"
    shutil.copytree(DEMO, repo / "ci" / "audit bundle")
    out = tmp_path / "r.sarif"
    result = run_cli(
        "audit", repo / "ci" / "audit bundle", "--db", session_db, "--policy", GOLDEN_PACKS[0],
        "-f", "sarif", "-o", out, "--sarif-root", "./ci/audit bundle/",
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert_valid(doc)
    run = doc["runs"][0]
    assert run["originalUriBaseIds"]["BUNDLEROOT"] == {
        "uri": "ci/audit%20bundle/",
        "uriBaseId": "SRCROOT",
        "description": {"text": "The audit bundle folder, inside the repository."},
    }
    assert "uri" not in run["originalUriBaseIds"]["SRCROOT"]
    locations = [
        loc for r in run["results"] for loc in r["locations"] + r.get("relatedLocations", [])
    ]
    locations += [
        {"physicalLocation": {"artifactLocation": a["location"]}} for a in run["artifacts"]
    ]
    assert len(locations) > len(run["results"])
    for loc in locations:
        art = loc["physicalLocation"]["artifactLocation"]
        assert art["uriBaseId"] == "SRCROOT" and art["uri"].startswith("ci/audit%20bundle/")
        assert (repo / unquote(art["uri"])).is_file(), art["uri"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [(".", ""), ("./", ""), ("a/b/", "a/b"), ("a/./b", "a/b"), ("a\\b", "a/b"), ("a/../b", "b")],
)
def test_check_root_normalises(given: str, expected: str) -> None:
    assert check_root(given) == expected


@pytest.mark.parametrize(
    "bad", ["", " ", "/abs/bundle", "../outside", "a/../../b", "C:/x", "https://x/"]
)
def test_check_root_refuses_paths_outside_the_repository(bad: str) -> None:
    with pytest.raises(ValueError, match="--sarif-root"):
        check_root(bad)


@pytest.mark.parametrize("bad", ["/abs/bundle", "../outside"])
def test_a_root_outside_the_repository_is_a_usage_error(
    bad: str, tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    """Checked before anything is audited: exit 2, one line, nothing written."""
    out = tmp_path / "r.sarif"
    result = run_cli(
        "audit", DEMO, "--no-store", "--no-frames", "-f", "sarif", "-o", out, "--sarif-root", bad
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("auditor: error: --sarif-root"), result.stderr
    assert not out.exists()


def test_without_a_root_paths_stay_bundle_relative(demo_report: dict[str, Any]) -> None:
    run = sarif(demo_report)["runs"][0]
    assert set(run["originalUriBaseIds"]) == {"BUNDLEROOT"}
    assert "uri" not in run["originalUriBaseIds"]["BUNDLEROOT"]
    art = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert art["uriBaseId"] == "BUNDLEROOT" and art["uri"].startswith("logs/")


def test_root_of_the_repository_itself(demo_report: dict[str, Any]) -> None:
    run = to_sarif(TypedReport.of(demo_report), root="")["runs"][0]
    assert "uri" not in run["originalUriBaseIds"]["BUNDLEROOT"]
    art = list(run["results"])[0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert art == {"uri": demo_report["findings"][0]["events"][0]["file"], "uriBaseId": "SRCROOT"}


def test_information_uri_is_written_when_known(demo_report: dict[str, Any]) -> None:
    doc = _doc(to_sarif(TypedReport.of(demo_report), info_uri="https://tool.invalid/docs"))
    assert doc["runs"][0]["tool"]["driver"]["informationUri"] == "https://tool.invalid/docs"
    assert_valid(doc)


def _many(report: dict[str, Any], n: int, pad: int = 0) -> dict[str, Any]:
    """`report` with `n` findings cycled from its own (distinct ids), messages padded with
    incompressible text when `pad` is given."""
    out = copy.deepcopy(report)
    base = report["findings"]
    findings = []
    for i in range(n):
        f = dict(base[i % len(base)])
        f["id"] = f"{i:020x}"
        f["severity"] = ("low", "medium", "high", "critical")[i % 4] if i % 5 else f["severity"]
        if pad:  # a SHAKE-256 stream in base64: gzip cannot shrink it much
            noise = hashlib.shake_256(f["id"].encode()).digest(pad)
            f["message"] = f"{f['message']} {base64.b64encode(noise).decode()}"
        findings.append(f)
    out["findings"] = findings
    return out


def test_results_are_capped_most_severe_first(demo_report: dict[str, Any]) -> None:
    report = _many(demo_report, 40)
    report["findings"][3]["baselined"] = True
    limit = 13
    run = to_sarif(TypedReport.of(report), limit=limit)["runs"][0]
    results = list(run["results"])
    assert len(results) == limit == len(run["results"])
    kept = [r["properties"]["findingId"] for r in results]
    ranks = sorted(
        (severity_rank(f["severity"]), bool(f.get("baselined"))) for f in report["findings"]
    )
    assert (
        sorted(
            (severity_rank(r["properties"]["severity"]), r["properties"]["baselined"])
            for r in results
        )
        == ranks[:limit]
    )
    # report order is kept among the results written
    order = [f["id"] for f in report["findings"]]
    assert kept == sorted(kept, key=order.index)
    note = run["invocations"][0]["toolExecutionNotifications"][-1]
    assert note["level"] == "warning" and f"{limit} of 40 findings" in note["message"]["text"]
    assert_valid(_doc(to_sarif(TypedReport.of(report), limit=limit)))
    # under the limit: every finding, no notification
    whole = to_sarif(TypedReport.of(report), limit=40)["runs"][0]
    assert len(list(whole["results"])) == 40
    assert not whole["invocations"][0]["toolExecutionNotifications"]


@pytest.mark.slow  # 25,001 findings, a 40 MB file: about 30 s
def test_github_limits_warn_through_the_reporter(
    demo_report: dict[str, Any], tmp_path: Path
) -> None:
    """The real writer: 25,001 findings are capped at 25,000 with a warning; a file over
    10 MB gzipped is measured as it is written and warned about."""
    report = _many(demo_report, MAX_RESULTS + 1, pad=420)
    warnings: list[str] = []
    path = tmp_path / "big.sarif"
    with path.open("w", encoding="utf-8") as fh:
        REPORTERS["sarif"].write(TypedReport.of(report), RenderOptions(warn=warnings.append), fh)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert len(doc["runs"][0]["results"]) == MAX_RESULTS
    size = len(gzip.compress(path.read_bytes(), 6))
    assert size > MAX_GZIP_BYTES
    assert len(warnings) == 2, warnings
    assert "25,000 of 25,001 findings" in warnings[0]
    assert f"SARIF is {size / 1048576:.1f} MB gzipped" in warnings[1]
    # the demo itself: no warning
    quiet: list[str] = []
    REPORTERS["sarif"].render(TypedReport.of(demo_report), RenderOptions(warn=quiet.append))
    assert quiet == []
