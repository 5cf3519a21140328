"""Microsoft's SARIF Multitool (`validate`, with its GitHub rules) on the SARIF auditor writes:
no error and no SARIF2017 (a location without a region) for the demo, a `--sarif-root` run,
and an incomplete, baselined run. `make test` installs the tool (scripts/install-sarif-multitool.sh)
first; without it these tests fail (they are end to end, so `make test-fast` leaves them out)."""

from __future__ import annotations

import copy
import json
import os
import platform
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from report_helpers import DEMO, GOLDEN_PACKS, ROOT

from auditor.core.reportdoc import TypedReport
from auditor.report import REPORTERS, RenderOptions
from auditor.report.sarif_github import information_uri

_PLATFORM = {"Linux": "linux", "Darwin": "darwin"}.get(platform.system(), "unknown")
MULTITOOL = Path(
    os.environ.get(
        "AUDITOR_SARIF_MULTITOOL",
        ROOT
        / ".tools"
        / "sarif-multitool"
        / "node_modules"
        / "@microsoft"
        / f"sarif-multitool-{_PLATFORM}"
        / "Sarif.Multitool",
    )
)


@pytest.fixture(scope="module")
def multitool() -> Path:
    if not os.access(MULTITOOL, os.X_OK):
        pytest.fail(f"{MULTITOOL} is absent: `make sarif-multitool` installs it (`make test` does)")
    return MULTITOOL


def validate(tool: Path, sarif: Path) -> list[dict[str, Any]]:
    """The Multitool's own results (as SARIF) for one file: one per rule broken."""
    out = sarif.with_suffix(".validation.sarif")
    done = subprocess.run(
        [str(tool), "validate", str(sarif), "--rule-kind", "Sarif;Gh", "--output", str(out),
         "--log", "ForceOverwrite"],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "DOTNET_CLI_TELEMETRY_OPTOUT": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    results: list[dict[str, Any]] = json.loads(out.read_text(encoding="utf-8-sig"))["runs"][0][
        "results"
    ]
    return results


def problems(results: list[dict[str, Any]]) -> list[str]:
    """Errors, and the warnings this project promises never to have."""
    unwanted = {"SARIF2017"}
    if information_uri() is not None:
        unwanted.add("SARIF2005")  # the tool's page is known: it must be there
    return [
        f"{r['ruleId']} {r.get('level', 'warning')}: {r['message'].get('text', r['message'])}"
        for r in results
        if r.get("level") == "error" or r["ruleId"] in unwanted
    ]


def test_the_validator_is_not_vacuous(
    multitool: Path, tmp_path: Path, demo_report: dict[str, Any]
) -> None:
    """A location without a region and a bad uri are what it reports."""
    doc = json.loads(REPORTERS["sarif"].render(TypedReport.of(demo_report), RenderOptions()))
    loc = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    del loc["region"]
    loc["artifactLocation"] = {"uri": "relative/without/base.json", "uriBaseId": "NOWHERE"}
    path = tmp_path / "broken.sarif"
    path.write_text(json.dumps(doc), encoding="utf-8")
    found = {r["ruleId"] for r in validate(multitool, path)}
    assert "SARIF2017" in found


def test_demo_sarif_from_the_cli(
    multitool: Path, tmp_path: Path, session_db: str, run_cli: Callable[..., Any]
) -> None:
    out = tmp_path / "demo.sarif"
    args: list[object] = ["audit", DEMO, "--db", session_db, "-f", "sarif", "-o", out]
    for pack in GOLDEN_PACKS:
        args += ["--policy", pack]
    assert run_cli(*args).exit_code == 1
    assert problems(validate(multitool, out)) == []


def test_sarif_root_run(multitool: Path, tmp_path: Path, demo_report: dict[str, Any]) -> None:
    path = tmp_path / "root.sarif"
    path.write_text(
        REPORTERS["sarif"].render(
            TypedReport.of(demo_report), RenderOptions(sarif_root="ci/audit bundle")
        ),
        encoding="utf-8",
    )
    assert problems(validate(multitool, path)) == []


def test_incomplete_baselined_run(
    multitool: Path, tmp_path: Path, demo_report: dict[str, Any]
) -> None:
    report = copy.deepcopy(demo_report)
    for f in report["findings"]:
        f["baselined"] = True
    report["run"]["status"] = "incomplete"
    report["errors"] = [
        {"file": "logs/bad.jsonl", "line": 3, "record": None, "message": "malformed JSON"},
        {"file": "logs/unreadable.json", "line": None, "record": None, "message": "not gzip"},
    ]
    path = tmp_path / "incomplete.sarif"
    path.write_text(
        REPORTERS["sarif"].render(TypedReport.of(report), RenderOptions()), encoding="utf-8"
    )
    assert problems(validate(multitool, path)) == []
