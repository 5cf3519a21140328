"""Home Assistant's event JSON (listener output, WebSocket captures) and pasted state rows."""

from __future__ import annotations

from pathlib import Path

from auditor.sources import sniff
from tests.logsamples import issues, read_sample

REALWORLD = Path(__file__).resolve().parents[2] / "fixtures" / "realworld"


def test_listener_output_concatenated_documents() -> None:
    result = read_sample("home-assistant/detect_face-events.json", root=REALWORLD)
    assert result.source == "ha_events" and result.records == 4 and issues(result) == []
    assert [
        (e.line, e.kind.value, e.attr("matched_names"), e.attr("entity_id")) for e in result.events
    ] == [
        (1, "identification_1toN", "alice", "image_processing.dlib_face_front_door"),
        (15, "identification_1toN", "bob", "image_processing.face_counter_hall"),
        # `unknown`: a recognition that matched nobody is an identification all the same
        (46, "identification_1toN", None, "image_processing.face_counter_hall"),
    ]
    assert result.events[1].time.isoformat() == "2024-05-11T12:04:41.233377+00:00"
    assert result.events[1].event_id == "01HXQ50B7G2H4J6K8M0N2P4Q6S"
    assert [e.attr("match_count") for e in result.events] == ["1", "1", "0"]


def test_websocket_capture_protocol_messages_are_counted_and_left() -> None:
    result = read_sample("home-assistant/websocket-events.jsonl")
    assert result.source == "ha_events"
    assert result.records == 8  # 3 protocol messages, a state change, 4 face events
    assert [(e.line, e.kind.value, e.operation) for e in result.events] == [
        (5, "identification_1toN", "image_processing.detect_face"),
        (6, "identification_1toN", "image_processing.detect_face"),
        (7, "enrolment", "deepstack_face.teach_face"),
    ]
    assert result.events[2].attr("subject") == "erin"
    assert issues(result) == [(8, None, "image_processing.detect_face event with a bad time_fired")]


def test_detection_by_content() -> None:
    assert sniff("x.json", b'{"type": "auth_required", "ha_version": "2024.5.2"}\n') == "ha_events"
    assert sniff(
        "x.json", b'{\n    "event_type": "state_changed",\n    "time_fired": "x"\n}\n'
    ) == ("ha_events")
    assert sniff("x.txt", b"image_processing.face_hall\t1\tfaces: []\n") == "ha_states"
    # a WebSocket message that is not Home Assistant's is not taken for it
    assert sniff("x.json", b'{"type": "auth_required", "version": 2}\n') != "ha_events"


def test_state_rows_one_scan_each() -> None:
    result = read_sample("home-assistant/states-paste.txt")
    assert result.source == "ha_states" and result.records == 4
    (scan,) = result.events
    assert (scan.line, scan.kind.value, scan.operation, scan.time.isoformat()) == (
        1,
        "identification_1toN",
        "scan",
        "2024-05-11T12:04:12+00:00",
    )
    # the nested `prediction` block is DeepStack's raw answer for the same face: not counted
    assert (scan.attr("matched_names"), scan.attr("faces"), scan.attr("record_lines")) == (
        "dana",
        "1",
        "1-25",
    )
    assert [(n.line, n.message.split(":")[0]) for n in result.notices] == [
        (28, "image_processing.deepstack_face_garage")
    ]
    assert issues(result) == [
        (34, None, "image_processing.deepstack_face_hall: unreadable last_detection")
    ]


def test_state_row_attributes_that_are_not_yaml_are_located(tmp_path: Path) -> None:
    (tmp_path / "s.txt").write_text(
        "image_processing.face_a\t1\tfaces:\n  - name: [unclosed\n"
        "last_detection: 2024-05-11_12-00-00\n"
    )
    result = read_sample("s.txt", root=tmp_path)
    assert result.events == []
    assert [(line, msg) for line, _, msg in issues(result)] == [
        (3, "image_processing.face_a: attributes are not YAML")  # where YAML saw the problem
    ]
