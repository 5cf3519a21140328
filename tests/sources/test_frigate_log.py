"""Frigate's own log: the face processor's `Detected best face` lines (0.16+)."""

from __future__ import annotations

from pathlib import Path

from auditor.sources.appdetect import app_log_kind
from tests.logsamples import issues, read_sample, rows


def test_face_results_in_container_output() -> None:
    result = read_sample("frigate/frigate.log")
    assert result.source == "frigate_log" and result.records == 8  # line 1: s6, no logger
    assert rows(result) == [
        (4, None, "frigate", "face_recognition", "identification_1toN", "frigate", "succeeded"),
        (6, None, "frigate", "face_recognition", "identification_1toN", "frigate", "succeeded"),
    ]
    named, unknown = result.events
    assert dict(named.attributes) == {
        "best_score": "0.930",
        "match_count": "1",
        "matched_names": "alex",
    }
    assert named.time.isoformat() == "2025-05-01T10:02:10+00:00"
    assert dict(unknown.attributes) == {"best_score": "0.420", "match_count": "0"}
    assert issues(result) == [(7, None, "unreadable Frigate face result: no name and probability")]


def test_plain_log_lines_and_negatives(tmp_path: Path) -> None:
    (tmp_path / "frigate.txt").write_text(
        "[2025-05-01 10:00:01] frigate.app                    INFO    : Starting Frigate\n"
        "[2025-05-01 10:00:02] frigate.data_processing.real_time.face DEBUG   : "
        "Detected no faces for person object.\n"
        "[2025-05-01 10:00:03] frigate.data_processing.real_time.face DEBUG   : "
        "Not processing face due to existing sub label: Ana.\n"
        "[2025-05-01 10:00:04] frigate.events                 DEBUG   : Detected best face for "
        "person as: not-the-face-logger with probability 0.9\n"
        "[2025-05-01 10:00:05] frigate.data_processing.real_time.face DEBUG   : "
        "Detected best face for person as: Ana Li with probability 0.88\n"
        "[2025-05-01 10:00:06] frigate.broken\n"
    )
    result = read_sample("frigate.txt", root=tmp_path)
    assert result.source == "frigate_log" and result.records == 5
    assert [(e.line, e.attr("matched_names")) for e in result.events] == [(5, "Ana Li")]
    assert issues(result) == [(6, None, "Frigate log line not in the logger's layout")]
    assert app_log_kind(b"[2025-05-01 10:00:01] frigate.app   INFO    : Starting\n") == (
        "frigate_log"
    )


def test_development_builds_before_0_16(tmp_path: Path) -> None:
    (tmp_path / "frigate.log").write_text(
        "[2025-01-20 09:00:00] frigate.postprocessing.face_processor DEBUG   : Detected best face "
        "for person as: Ana with probability 0.91 and overall face score 0.8\n"
        "[2024-12-31 09:00:00] frigate.embeddings.maintainer DEBUG   : Detected best face for "
        "person as: unknown with probability 0.3 and overall face score 0.2\n"
    )
    result = read_sample("frigate.log", root=tmp_path)
    assert [(e.line, e.attr("matched_names"), e.attr("best_score")) for e in result.events] == [
        (1, "Ana", "0.910"),
        (2, None, "0.300"),
    ]
    assert result.issues == []
