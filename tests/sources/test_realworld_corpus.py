"""The real-world-shaped corpus (fixtures/realworld): every file read as a new user would (no
audit.toml, detected by content), its face-matching operations counted against expected.toml.

The files follow formats that products' users really published (SOURCES.md names where each
was seen). The test is strict both ways: a file not listed in GAPS must give exactly the
expected matching operations, and a listed gap must give exactly what it gives today, so a fix
(or a regression) makes the test fail until the table is updated. GAPS is the team's public
list of what the reader still misses; SILENT marks the gaps that leave no trace at all (no
input error, no suspected event), the worst kind: the issue "Real logs as they are" is not done
while any remains.
"""

from __future__ import annotations

import collections
import tomllib
from pathlib import Path
from typing import Any

import pytest

from auditor.config.bundle import SourceSettings
from auditor.sources import ReadJob, read_file

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "realworld"
MATCHING = ("identification_1toN", "verification_1to1", "enrolment")
EXPECTED: list[dict[str, Any]] = tomllib.loads((ROOT / "expected.toml").read_text())["file"]

#: shapes no source reads (the sweep flags their face calls; the file is one error)
_FREE_TEXT = frozenset({"freetext", "route-docs", "flask-routes"})
#: path -> (matching operations found today, silent: no issue and no suspected event)
GAPS: dict[str, tuple[dict[str, int], bool]] = {}


def _read(path: str) -> tuple[dict[str, int], bool]:
    result = read_file(ReadJob(str(ROOT), path, "auto", SourceSettings()))
    kinds = collections.Counter(e.kind.value for e in result.events)
    traced = bool(result.issues) or kinds["suspected_face_matching"] > 0
    return {k: kinds[k] for k in MATCHING if kinds[k]}, traced


@pytest.mark.parametrize("entry", EXPECTED, ids=[e["path"] for e in EXPECTED])
def test_each_file_gives_its_expected_matching_operations(entry: dict[str, Any]) -> None:
    found, traced = _read(entry["path"])
    want = {k: v for k, v in entry.get("events", {}).items() if k in MATCHING and v}
    if entry["path"] in GAPS:
        today, silent = GAPS[entry["path"]]
        assert found != want, "this gap is closed: remove it from GAPS"
        assert (found, not traced) == (today, silent), "the gap changed: update GAPS"
    else:
        assert found == want


def test_the_gap_list_names_only_corpus_files() -> None:
    assert set(GAPS) <= {e["path"] for e in EXPECTED}


def test_coverage_figure() -> None:
    """The figure quoted in docs/bundle.md and the changelog: files read as expected and
    matching operations found (per kind, at most the expected count)."""
    wanted = found = 0
    for entry in EXPECTED:
        want = {k: v for k, v in entry.get("events", {}).items() if k in MATCHING}
        got = GAPS.get(entry["path"], (want, False))[0]
        wanted += sum(want.values())
        found += sum(min(got.get(k, 0), v) for k, v in want.items())
    assert (len(EXPECTED) - len(GAPS), len(EXPECTED), found, wanted) == (51, 51, 143, 143)


def test_attempts_are_failed_calls() -> None:
    """mlapi's 500 and 401 face requests and Frigate's "returned no result" are attempts."""
    mlapi = read_file(ReadJob(str(ROOT), "zoneminder/mlapi-console.log", "auto", SourceSettings()))
    assert [(e.line, e.outcome, e.error_code) for e in mlapi.events] == [
        (17, "succeeded", None),
        (21, "failed", "500"),
        (22, "failed", "401"),
    ]
    assert mlapi.events[0].time.isoformat() == "2024-05-11T17:29:28+00:00"
    frigate = read_file(ReadJob(str(ROOT), "frigate/frigate.log", "auto", SourceSettings()))
    last = frigate.events[-1]
    assert (last.line, last.outcome, last.error_code, last.event_id) == (
        12,
        "failed",
        "no_result",
        "1755678106.412203-8cz1qa",
    )


def test_a_dlib_call_that_returned_early_is_one_identification() -> None:
    """pyzm's face_dlib banner with no `Returning:` line after it: the call ran, found no face."""
    zm = read_file(ReadJob(str(ROOT), "zoneminder/zmesdetect_m2.log", "auto", SourceSettings()))
    assert [(e.line, e.attr("faces"), e.attr("match_count")) for e in zm.events] == [
        (15, "1", "1"),
        (19, "0", "0"),
    ]


def test_the_whole_corpus_through_the_cli(tmp_path: Path, cli: Any) -> None:
    """The corpus as one bundle's logs/, audited by the real command with no audit.toml and no
    principals.toml: every file gets the source `read_file` gives it, the matching operations
    add up to the expected ones, and each file's input errors are the ones expected.toml lists."""
    import json
    import shutil

    bundle = tmp_path / "b"
    shutil.copytree(ROOT, bundle / "logs", ignore=shutil.ignore_patterns("*.md", "*.toml"))
    out = tmp_path / "r.json"
    res = cli("audit", bundle, "--no-frames", "--no-store", "--format", "json", "--output", out)
    assert res.exit_code in (1, 3), res.output
    report = json.loads(out.read_text())
    logs = {i["path"]: i for i in report["inputs"] if i["kind"] == "log"}
    assert set(logs) == {f"logs/{e['path']}" for e in EXPECTED}
    for entry in EXPECTED:
        job = ReadJob(str(ROOT), entry["path"], "auto", SourceSettings())
        assert logs[f"logs/{entry['path']}"]["source"] == read_file(job).source, entry["path"]
    kinds = report["summary"]["kinds"]
    for kind in MATCHING:
        want = sum(e.get("events", {}).get(kind, 0) for e in EXPECTED)
        assert kinds.get(kind, 0) == want, kind
    # located errors: the deliberately broken records expected.toml lists, no more, no fewer
    # (free text carries one file-level error, "no [[text]] pattern matches", besides its hits)
    located = collections.Counter(
        e["file"] for e in report["errors"] if e["line"] is not None or e["record"] is not None
    )
    assert dict(located) == {f"logs/{e['path']}": e["errors"] for e in EXPECTED if e.get("errors")}
    unread = {e["file"] for e in report["errors"] if e["line"] is None and e["record"] is None}
    assert unread == {f"logs/{e['path']}" for e in EXPECTED if e["shape"] in _FREE_TEXT}


def test_compreface_core_json_log_one_detection_per_request() -> None:
    """compreface-core's JSONFormatter lines carry no time: each `log_response` record of a
    /find_faces request is an undated face detection; its DEBUG lines and /status are not."""
    result = read_file(ReadJob(str(ROOT), "compreface/core.jsonl", "auto", SourceSettings()))
    assert (result.source, result.records, result.issues) == ("httplog", 7, [])
    assert [(e.line, e.operation, e.outcome, e.untimed) for e in result.events] == [
        (2, "find_faces", "succeeded", True),
        (5, "find_faces", "succeeded", True),
        (6, "find_faces", "failed", True),
    ]


def test_wrapped_json_record_cut_off_and_nginx_errors_beside_access_lines() -> None:
    cut = read_file(ReadJob(str(ROOT), "wrappers/7f3c9a2e41b8-json.log", "auto", SourceSettings()))
    assert [(i.line, i.message) for i in cut.issues] == [
        (11, "unreadable Docker json-file record (cut off or malformed)")
    ]
    kube = "wrappers/kubectl-logs-prefix-timestamps.log"
    mixed = read_file(ReadJob(str(ROOT), kube, "auto", SourceSettings()))
    # line 6, nginx's `[warn] ... request: "POST /api/v1/recognition/recognize"`, is the request
    # the access line 7 logs: neither an error nor a second call
    assert mixed.issues == [] and [e.line for e in mixed.events] == [2, 3, 4, 5, 7]


def test_double_take_error_payload_is_shown_not_an_unreadable_record() -> None:
    path = "json/doubletake-mqtt-commented.json"
    result = read_file(ReadJob(str(ROOT), path, "auto", SourceSettings()))
    assert result.issues == []
    assert [(n.line, n.message) for n in result.notices] == [
        (38, "Double Take error: deepstack process error: timeout of 15000ms exceeded")
    ]


@pytest.mark.parametrize("entry", EXPECTED, ids=[e["path"] for e in EXPECTED])
def test_the_sweep_flags_each_free_text_call_once_and_no_negative(entry: dict[str, Any]) -> None:
    """The suspected sweep, file by file: one located event per face call no source reads
    (`suspected_lines`; -1 for a record located by its index), none on a negative line
    (route listings, documentation, placeholder examples, label detection)."""
    result = read_file(ReadJob(str(ROOT), entry["path"], "auto", SourceSettings()))
    swept = [e for e in result.events if e.kind.value == "suspected_face_matching"]
    lines = [-1 if e.line is None else e.line for e in swept]
    assert lines == entry.get("suspected_lines", [])
    assert len(swept) == entry["suspected"]
    assert not set(lines) & set(entry.get("negatives", []))
