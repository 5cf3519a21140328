"""Home Assistant's log: `image_processing.detect_face` events of its face integrations."""

from __future__ import annotations

from pathlib import Path

from auditor.sources.appdetect import app_log_kind
from tests.logsamples import issues, read_sample


def test_detect_face_events_by_kind() -> None:
    result = read_sample("home-assistant/home-assistant.log")
    assert result.source == "home_assistant" and result.records == 9
    assert [(e.line, e.kind.value, e.operation) for e in result.events] == [
        (4, "identification_1toN", "image_processing.detect_face"),
        (5, "identification_1toN", "image_processing.detect_face"),
        (6, "face_detection", "image_processing.detect_face"),
        (7, "enrolment", "deepstack_face.teach_face"),
    ]
    alex, unknown, detect_only, taught = result.events
    assert alex.principal.id == "home-assistant"
    assert dict(alex.attributes) == {
        "entity_id": "image_processing.dlib_face_front_door",
        "match_count": "1",
        "matched_names": "Alex",
    }
    assert (unknown.attr("match_count"), unknown.attr("matched_names")) == ("0", None)
    assert detect_only.attr("entity_id") == "image_processing.microsoft_face_detect_hall"
    assert taught.attr("subject") == "Alex"
    assert alex.time.isoformat() == "2024-05-01T10:05:03+00:00"
    assert issues(result) == [(8, None, "face event without an entity_id")]


def test_negatives_and_the_older_layout(tmp_path: Path) -> None:
    (tmp_path / "home-assistant.log").write_text(
        "2019-12-30 10:00:00 INFO (MainThread) [homeassistant.bootstrap] Home Assistant "
        "initialized in 5.12s\n"
        "2019-12-30 10:00:01 DEBUG (MainThread) [homeassistant.core] Bus:Handling <Event "
        "state_changed[L]: entity_id=image_processing.opencv_frontdoor, old_state=None>\n"
        "2019-12-30 10:00:02 DEBUG (MainThread) [homeassistant.core] Bus:Handling <Event "
        "image_processing.detect_face[L]: name=Kim, confidence=80.1, "
        "entity_id=image_processing.face_hall>\n"
        "2019-12-30 10:00:03 WARNING (bad line\n"
    )
    result = read_sample("home-assistant.log", root=tmp_path)
    assert result.source == "home_assistant" and result.records == 3
    assert [(e.line, e.attr("best_confidence")) for e in result.events] == [(3, "80.1")]
    assert issues(result) == [(4, None, "Home Assistant log line not in its layout")]
    assert app_log_kind(b"2024-05-01 10:00:00.123 INFO (MainThread) [homeassistant.setup] x\n") == (
        "home_assistant"
    )
