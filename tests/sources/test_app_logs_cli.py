"""The products' own logs through the real CLI: a bundle with no audit.toml, each file detected
by its content, every face call attributed through principals.toml and judged by a pack, every
unreadable line an error with its place (exit 3)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import make_bundle
from tests.logsamples import SAMPLES, read_sample

PRODUCTS = ("double-take", "viseron", "codeproject-ai", "frigate", "zoneminder", "home-assistant")
PRINCIPALS = (
    "".join(
        f'[[principal]]\nname = "{name}"\norganisation = "Metro Police"\ncategory = "police"\n\n'
        for name in ("double-take", "viseron", "codeproject-ai", "frigate", "zoneminder")
    )
    + '[[principal]]\nname = "home-assistant"\norganisation = "Corner Shop"\n'
    + ('category = "private_entity"\n')
)
PACK = """
[pack]
id = "app-logs-test"
title = "No police face matching"
version = "1.0.0"
[pack.effective]
from = 2019-01-01
[[pack.sources]]
id = "s"
title = "s"
confidence = "P"

[[rules]]
id = "R1"
severity = "high"
title = "Police face matching ({operation})"
message = "{organisation} ran {operation}"
principals = ["police"]
operations = ["identification_1toN", "verification_1to1", "enrolment"]
"""


def test_audit_of_a_bundle_of_product_logs(
    tmp_path: Path, cli: Callable[..., Any], db_url: str
) -> None:
    logs = {
        f"logs/{p.relative_to(SAMPLES).as_posix()}": p.read_bytes()
        for product in PRODUCTS
        for p in sorted((SAMPLES / product).iterdir())
        if p.suffix in (".log", ".txt")
    }
    bundle = make_bundle(tmp_path / "b", logs, principals=PRINCIPALS)
    assert not (bundle / "audit.toml").exists()
    (tmp_path / "pack.toml").write_text(PACK)
    out = tmp_path / "r.json"
    res = cli(
        "audit",
        bundle,
        "--no-frames",
        "--db",
        db_url,
        "--format",
        "json",
        "--output",
        out,
        "--policy",
        tmp_path / "pack.toml",
    )
    assert res.exit_code == 3, res.output  # findings, and lines that could not be read
    report = json.loads(out.read_text())
    sources = {i["path"]: i["source"] for i in report["inputs"] if i["kind"] == "log"}
    assert sources == {
        "logs/codeproject-ai/dashboard-copy.txt": "codeproject_ai",
        "logs/codeproject-ai/log-2025-03-16.txt": "codeproject_ai",
        "logs/double-take/container-stdout.log": "doubletake_log",
        "logs/double-take/messages.log": "doubletake_log",
        "logs/frigate/frigate.log": "frigate_log",
        "logs/home-assistant/home-assistant.log": "home_assistant",
        "logs/home-assistant/states-paste.txt": "ha_states",
        "logs/viseron/viseron-2023.log": "viseron",
        "logs/viseron/viseron.log": "viseron",
        "logs/zoneminder/mlapi-console.log": "zoneminder",
        "logs/zoneminder/zmesdetect_m16.log": "zoneminder",
    }
    # every error is a line of a file, as the sources report it
    expected = sorted(
        (rel, i.line, i.message)
        for rel in logs
        for i in read_sample(rel.removeprefix("logs/")).issues
    )
    assert sorted((e["file"], e["line"], e["message"]) for e in report["errors"]) == expected
    assert len(expected) == 9
    # console lines with no time anywhere are events all the same, each with a notice, and
    # cannot be judged (they were 5 more errors before: a face call is never an input error
    # for lacking a time)
    untimed = [n for n in report["notices"] if "has no time" in n["message"]]
    assert len(untimed) == 5, report["notices"]
    # one finding per police face match (Home Assistant's are a shop's: no finding)
    per_file = Counter(f["events"][0]["file"] for f in report["findings"])
    assert per_file == {
        "logs/double-take/messages.log": 5,
        "logs/double-take/container-stdout.log": 1,
        "logs/viseron/viseron-2023.log": 5,
        "logs/viseron/viseron.log": 5,
        "logs/codeproject-ai/log-2025-03-16.txt": 3,
        "logs/frigate/frigate.log": 2,
        "logs/zoneminder/zmesdetect_m16.log": 2,
    }
    finding = next(
        f for f in report["findings"] if f["events"][0]["file"] == "logs/double-take/messages.log"
    )
    assert finding["events"][0]["line"] == 19


def test_a_text_pattern_for_the_file_wins_over_detection(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    """audit.toml's `[[text]]` pattern naming a file is the user's word on its shape."""
    bundle = make_bundle(
        tmp_path / "b",
        {"logs/frigate.log": (SAMPLES / "frigate/frigate.log").read_bytes()},
        audit_toml=(
            '[[text]]\nglob = "logs/frigate.log"\n'
            "pattern = '^\\[(?P<time>[^\\]]+)\\] (?P<operation>frigate\\.events) '\n"
            'time_format = "%Y-%m-%d %H:%M:%S"\n'
        ),
    )
    out = tmp_path / "r.json"
    res = cli("audit", bundle, "--no-frames", "--no-store", "--format", "json", "--output", out)
    assert res.exit_code == 0, res.output
    report = json.loads(out.read_text())
    assert [i["source"] for i in report["inputs"] if i["kind"] == "log"] == ["text"]
    assert report["findings"] == [] and report["errors"] == []


def test_verify_reproduces_product_log_findings(
    tmp_path: Path, cli: Callable[..., Any], db_url: str
) -> None:
    """Export and verify: an evidence archive publishes every line an event rests on (its
    `record_lines`: a Double Take dump and its `processing` line, a Viseron CompreFace answer and
    its `Face found` lines, ZoneMinder's `Using model` line), so each finding is reproduced from
    the archive alone; `verify REPORT BUNDLE` reproduces them from the whole files."""
    (tmp_path / "pack.toml").write_text(PACK)
    pack = ("--policy", tmp_path / "pack.toml")
    logs = {
        f"logs/{p.relative_to(SAMPLES).as_posix()}": p.read_bytes()
        for product in PRODUCTS
        for p in sorted((SAMPLES / product).iterdir())
    }
    bundle = make_bundle(tmp_path / "b", logs, principals=PRINCIPALS)
    out = tmp_path / "r.json"
    res = cli(
        "audit", bundle, "--no-frames", "--db", db_url, "--format", "json", "--output", out, *pack
    )
    assert res.exit_code == 3, res.output
    report = json.loads(out.read_text())
    total = len(report["findings"])
    assert total == 23 + 5, (
        Counter
    )  # and the MQTT samples beside them: 3 + 2(f["events"][0]["file"] for f in report["findings"])
    res = cli("verify", out, bundle, *pack)
    # reproduced; exit 3 as the re-run meets the samples' broken lines again
    assert res.exit_code == 3 and "verify: reproduced" in res.output, res.output
    assert f"{total} of {total} finding(s) reproduced" in res.output, res.output
    archive = tmp_path / "ev.zip"
    res = cli("export", report["run"]["id"], "--db", db_url, "--output", archive, *pack)
    assert res.exit_code == 0, res.output
    res = cli("verify", archive)
    assert f"{total} of {total} finding(s) reproduced" in res.output, res.output
    # the cut-off dump is published as it is, so the re-run meets the same cut (exit 3)
    assert res.exit_code == 3, res.output
    reruns = [line for line in res.output.splitlines() if "input error in the re-run" in line]
    assert reruns == [
        "  input error in the re-run: logs/double-take/messages.log:78: result dump of "
        "1687782570.555555-zz99yy cut off by the end of the file: read as far as it goes"
    ]
    # only the lines behind the findings are published: not the start-up configuration dump
    import zipfile

    with zipfile.ZipFile(archive) as zf:
        published = [json.loads(line) for line in zf.read("records.jsonl").splitlines()]
    dt = sorted(r["line"] for r in published if r["file"] == "logs/double-take/messages.log")
    # 17-53: a result; 54: an attempt without one; 58: training; the rest: two more results
    assert dt == [17, *range(19, 55), 58, 60, *range(62, 74), 76, *range(78, 90)]


def test_record_lines_text_and_its_reading_by_the_evidence_pack() -> None:
    import pytest

    from auditor.evidence_pack.records import RecordError, _record_lines
    from auditor.sources.applog import record_lines

    assert record_lines(19, [17, 19, 20, 21, 23]) == "17,19-21,23"
    assert record_lines(5, [5]) is None and record_lines(5, []) is None
    assert _record_lines("logs/x.log", {"record_lines": "17,19-21,23"}) == [17, 19, 20, 21, 23]
    assert _record_lines("f", {}) == []
    for bad in ("x", "3-1", "0", "1-200000"):
        with pytest.raises(RecordError, match="f: bad record_lines"):
            _record_lines("f", {"record_lines": bad})
