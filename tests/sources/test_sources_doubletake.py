"""Double Take's MQTT result payloads and Frigate's face-recognition MQTT updates."""

from __future__ import annotations

import json
from pathlib import Path

from tests.logsamples import issues, read_sample, rows


def test_double_take_payloads() -> None:
    result = read_sample("double-take/mqtt-matches.jsonl")
    assert result.source == "doubletake" and result.records == 4
    # line 2 repeats line 1's event on the cameras topic: one search, not two
    assert rows(result) == [
        (1, None, "compreface", "recognize", "identification_1toN", "double-take", "succeeded"),
        (3, None, "deepstack", "recognize", "identification_1toN", "double-take", "succeeded"),
        (4, None, "compreface", "recognize", "identification_1toN", "double-take", "succeeded"),
    ]
    living, back, garage = result.events
    assert dict(living.attributes) == {
        "attempts": "3",
        "best_confidence": "66.07",
        "camera": "living-room",
        "detector": "compreface",
        "match_count": "1",
    }
    assert (back.attr("match_count"), back.attr("zones")) == ("0", "porch")
    assert garage.time.isoformat() == "2021-03-05T02:58:57+00:00"  # the older `time` text
    assert living.event_id == "1623906078.684285-5l9hw6"
    assert issues(result) == [(5, None, "missing or bad timestamp: 'yesterday'")]


def test_topic_wrappers(tmp_path: Path) -> None:
    payload = json.loads(
        Path(__file__)
        .parents[2]
        .joinpath("fixtures/logs-samples/double-take/mqtt-matches.jsonl")
        .read_text()
        .splitlines()[0]
    )
    lines = [
        {"topic": "double-take/matches/david", "payload": payload},
        {"topic": "double-take/errors", "payload": {"message": "timeout"}},
        {"topic": "double-take/cameras/x", "payload": {"camera": "x", "attempts": 1}},
    ]
    (tmp_path / "mqtt.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    result = read_sample("mqtt.jsonl", root=tmp_path)
    assert result.source == "doubletake" and result.records == 2
    assert len(result.events) == 1
    assert issues(result) == [(3, None, "not a Double Take result (no match or matches)")]


def test_frigate_face_recognition_updates() -> None:
    result = read_sample("frigate/tracked_object_update.jsonl")
    assert result.source == "frigate" and result.records == 3  # the lpr update counts
    assert rows(result) == [
        (1, None, "frigate", "face_recognition", "identification_1toN", "frigate", "succeeded"),
        (2, None, "frigate", "face_recognition", "identification_1toN", "frigate", "succeeded"),
    ]
    named, unnamed = result.events
    assert dict(named.attributes) == {
        "best_score": "0.950",
        "camera": "front_door_cam",
        "match_count": "1",
        "tracked_object_id": "1773738000.475377-mxklsc",
    }
    assert unnamed.attr("match_count") == "0"
    assert named.time.isoformat() == "2026-03-17T09:00:03.748393+00:00"
    assert issues(result) == [(4, None, "missing or bad timestamp: 'later'")]


def test_frigate_topic_wrapper(tmp_path: Path) -> None:
    msg = {
        "type": "face",
        "id": "x",
        "name": "A",
        "score": 0.9,
        "camera": "c",
        "timestamp": 1773738003.5,
    }
    (tmp_path / "f.jsonl").write_text(
        json.dumps({"topic": "frigate/tracked_object_update", "payload": msg})
        + "\n"
        + json.dumps({"topic": "frigate/tracked_object_update", "payload": [1]})
        + "\n"
    )
    result = read_sample("f.jsonl", root=tmp_path)
    assert result.source == "frigate" and len(result.events) == 1
    assert issues(result) == [(2, None, "not a Frigate tracked-object update (no type)")]


def test_a_capture_of_every_topic_swallows_no_frigate_update(tmp_path: Path) -> None:
    """`mosquitto_sub -t '#' -v`-style capture as JSON lines (topic + payload): Double Take's
    results, Frigate's face updates (read by the frigate source), Frigate's events (no
    recognition: counted) and a topic no source reads (an error at its line)."""
    samples = Path(__file__).parents[2] / "fixtures/logs-samples"
    dt = json.loads((samples / "double-take/mqtt-matches.jsonl").read_text().splitlines()[0])
    faces = [
        json.loads(x)
        for x in (samples / "frigate/tracked_object_update.jsonl").read_text().splitlines()[:2]
    ]
    lines = [
        {"topic": "double-take/matches/alex", "payload": dt},
        {"topic": "frigate/tracked_object_update", "payload": faces[0]},
        {"topic": "frigate/events", "payload": {"type": "new", "before": {}, "after": {}}},
        {"topic": "frigate/tracked_object_update", "payload": faces[1]},
        {"topic": "garage/door", "payload": {"state": "open"}},
    ]
    (tmp_path / "capture.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    result = read_sample("capture.jsonl", root=tmp_path)
    assert result.source == "doubletake"
    assert [(e.line, e.source, e.kind.value) for e in result.events] == [
        (1, "doubletake", "identification_1toN"),
        (2, "frigate", "identification_1toN"),
        (4, "frigate", "identification_1toN"),
    ]
    assert issues(result) == [
        (
            5,
            None,
            "a message of topic 'garage/door' that no source reads, in a Double Take capture",
        )
    ]
