"""Double Take's MQTT result payloads (matches and cameras topics)."""

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
    assert dict(living.attributes) == {"attempts": "3", "best_confidence": "66.07",
                                       "camera": "living-room", "detector": "compreface",
                                       "match_count": "1"}
    assert (back.attr("match_count"), back.attr("zones")) == ("0", "porch")
    assert garage.time.isoformat() == "2021-03-05T02:58:57+00:00"  # the older `time` text
    assert living.event_id == "1623906078.684285-5l9hw6"
    assert issues(result) == [(5, None, "missing or bad timestamp: 'yesterday'")]


def test_topic_wrappers(tmp_path: Path) -> None:
    payload = json.loads(Path(__file__).parent.parent.joinpath(
        "fixtures/logs-samples/double-take/mqtt-matches.jsonl").read_text().splitlines()[0])
    lines = [{"topic": "double-take/matches/david", "payload": payload},
             {"topic": "double-take/errors", "payload": {"message": "timeout"}},
             {"topic": "double-take/cameras/x", "payload": {"camera": "x", "attempts": 1}}]
    (tmp_path / "mqtt.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    result = read_sample("mqtt.jsonl", root=tmp_path)
    assert result.source == "doubletake" and result.records == 2
    assert len(result.events) == 1
    assert issues(result) == [(3, None, "not a Double Take result (no match or matches)")]
