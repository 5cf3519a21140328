"""Every registered format against its golden file on the demo bundle (`--update-goldens`)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from report_helpers import DEMO, GOLDEN, canonical, normalise

from auditor.core.reportdoc import TypedReport
from auditor.report import REPORTERS, RenderOptions
from auditor.report.html import json_sha256


@pytest.mark.parametrize("fmt", sorted(REPORTERS))
def test_golden(fmt: str, demo_report: dict[str, Any], update_goldens: bool) -> None:
    reporter = REPORTERS[fmt]
    typed = TypedReport.of(canonical(demo_report))
    text = normalise(fmt, reporter.render(typed, RenderOptions(bundle_root=str(DEMO))))
    if fmt == "html":  # the sign-off digest is of the JSON report: of its golden form here
        golden_json = normalise("json", REPORTERS["json"].render(typed, RenderOptions()))
        golden_digest = hashlib.sha256(golden_json.encode("utf-8")).hexdigest()
        text = text.replace(json_sha256(typed), golden_digest)
    path = GOLDEN / fmt / f"demo.{reporter.extension}"
    if update_goldens:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    assert path.exists(), f"no golden file {path}: run pytest --update-goldens and review it"
    expected = path.read_bytes().decode("utf-8")
    assert text == expected, f"{fmt} output differs from {path} (pytest --update-goldens)"


@pytest.mark.parametrize("fmt", sorted(REPORTERS))
def test_render_is_deterministic(fmt: str, demo_report: dict[str, Any]) -> None:
    options = RenderOptions(bundle_root=str(DEMO))
    first = REPORTERS[fmt].render(TypedReport.of(demo_report), options)
    assert first == REPORTERS[fmt].render(TypedReport.of(demo_report), options)


@pytest.mark.parametrize("fmt", sorted(set(REPORTERS) - {"json", "table"}))
def test_run_id_and_times_only_in_their_place(fmt: str, demo_report: dict[str, Any]) -> None:
    """Outside the run's own fields, two runs over the same inputs render the same bytes."""
    run = demo_report["run"]
    text = REPORTERS[fmt].render(TypedReport.of(demo_report), RenderOptions(bundle_root=str(DEMO)))
    if fmt == "html":
        # the run line, the print footer (run id) with its CSP hash, and the JSON digest
        head, rest = text.split('<p class="run" id="run">', 1)
        run_line, tail = rest.split("</p>", 1)
        assert run["id"] in run_line and run["started"] in run_line
        text = head + tail
        head, rest = text.split('<style id="page-footer">', 1)
        footer, tail = rest.split("</style>", 1)
        assert run["id"] in footer
        text = re.sub(r"'sha256-[A-Za-z0-9+/=]+'", "", head + tail)
        text = re.sub(r'data-volatile="json-sha256">[0-9a-f]{64}<', "", text)
    elif fmt == "sarif":
        text = (
            text.replace(f'"startTimeUtc": "{run["started"]}"', "")
            .replace(f'"endTimeUtc": "{run["finished"]}"', "")
            .replace(f'"id": "auditor/{run["id"]}"', "")
        )
        text = text.replace(f'"guid": "{_uuid(run["id"])}"', "")
    elif fmt == "junit":
        text = text.replace(f'timestamp="{run["started"]}"', "")
    for value in (run["id"], run["started"], run["finished"]):
        assert value not in text, f"{fmt}: run value {value} outside its place"


def _uuid(hex_id: str) -> str:
    import uuid

    return str(uuid.UUID(hex=hex_id))


def test_registry_names_match_modules() -> None:
    """Each reporter's name is its registry key, and extensions are distinct."""
    for name, reporter in REPORTERS.items():
        assert reporter.name == name
    extensions = [r.extension for r in REPORTERS.values()]
    assert len(extensions) == len(set(extensions))
