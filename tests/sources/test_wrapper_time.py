"""The wrapper's time dates the inner lines that carry none, and RFC 3164 syslog times get a
year: console output (Double Take, ZoneMinder, morgan's `tiny`) inside journald, syslog or
`docker logs --timestamps` is read as face calls instead of "no time" errors."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor.config import tomlfile
from auditor.config.bundle import SourceSettings
from auditor.config.settings import ConfigErrors, parse
from auditor.evidence_pack.sparse import pin_years, syslog_years
from tests.logsamples import read_sample

ZM = (
    "{stamp} nvr01 zm_detect.py[20731]: DBG1 [zmesdetect_m2] [|---------- Dlib Face recognition"
    " (input image: 800w*450h) ----------|]\n"
    "{stamp} nvr01 zm_detect.py[20731]: DBG2 [zmesdetect_m2] [Face Dlib:Returning: "
    "[[322, 140, 441, 301]], ['alice'], [1]]\n"
)


def _syslog(tmp_path: Path, stamp: str, mtime: datetime) -> Path:
    path = tmp_path / "syslog"
    path.write_text(ZM.format(stamp=stamp))
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def _settings(text: str, tmp_path: Path) -> SourceSettings:
    path = tmp_path / "audit.toml"
    path.write_text(text)
    return parse(tomlfile.load(path, "audit.toml"), ("wrapped", "httplog"))[1]


def test_a_year_less_syslog_time_takes_the_year_of_the_file(tmp_path: Path) -> None:
    _syslog(tmp_path, "May 11 17:29:28", datetime(2024, 6, 1, tzinfo=UTC))
    result = read_sample("syslog", root=tmp_path)
    assert result.issues == []
    (event,) = result.events
    assert (event.source, event.line, event.kind.value) == ("zoneminder", 2, "identification_1toN")
    assert event.time == datetime(2024, 5, 11, 17, 29, 28, tzinfo=UTC)
    assert event.attr("syslog_year") == "2024"
    assert event.attr("syslog_year_from") == "file modification time"


def test_a_date_after_the_file_was_written_is_of_the_year_before(tmp_path: Path) -> None:
    """A file rotated on 3 January holds lines of 31 December: of the year before."""
    _syslog(tmp_path, "Dec 31 23:59:58", datetime(2025, 1, 3, 6, 25, tzinfo=UTC))
    (event,) = read_sample("syslog", root=tmp_path).events
    assert event.time == datetime(2024, 12, 31, 23, 59, 58, tzinfo=UTC)


def test_audit_toml_gives_the_year(tmp_path: Path) -> None:
    _syslog(tmp_path, "May  1 07:00:00", datetime(2024, 6, 1, tzinfo=UTC))
    settings = _settings('[[sources]]\nglob = "sys*"\nsyslog_year = 2019\n', tmp_path)
    (event,) = read_sample("syslog", settings, root=tmp_path).events
    assert event.time == datetime(2019, 5, 1, 7, 0, tzinfo=UTC)
    assert event.attr("syslog_year_from") == "audit.toml"


def test_a_bad_syslog_year_is_a_located_error(tmp_path: Path) -> None:
    try:
        _settings('[[sources]]\nglob = "*"\nsyslog_year = "2024"\n', tmp_path)
    except ConfigErrors as exc:
        text = str(exc)
    else:
        raise AssertionError("a string year was accepted")
    assert "audit.toml:3" in text and "syslog_year" in text and "1970 to 9999" in text


def test_an_evidence_archive_pins_the_year_it_used(tmp_path: Path) -> None:
    """The sparse bundle `verify` writes is new: each file whose year came from its
    modification time gets one in that year again, so its lines are dated alike."""
    report: dict[str, Any] = {
        "findings": [
            {
                "events": [
                    {
                        "file": "logs/syslog",
                        "attributes": {
                            "syslog_year": "2024",
                            "syslog_year_from": "file modification time",
                        },
                    }
                ]
            },
            {"events": [{"file": "logs/other.log", "attributes": {"syslog_year": "2019"}}]},
        ]
    }
    assert syslog_years(report) == {"logs/syslog": 2024}
    (tmp_path / "logs").mkdir()
    sparse = _syslog(tmp_path / "logs", "Dec 31 23:59:58", datetime.now(UTC))
    pin_years(tmp_path, syslog_years(report))
    (event,) = read_sample("logs/syslog", root=tmp_path).events
    assert sparse.name == "syslog"
    assert event.time == datetime(2024, 12, 31, 23, 59, 58, tzinfo=UTC)


def _journald(tmp_path: Path, messages: list[tuple[str, str, int]]) -> None:
    rows = [
        {
            "__REALTIME_TIMESTAMP": str(micros),
            "_SYSTEMD_UNIT": "docker.service",
            "CONTAINER_NAME": name,
            "SYSLOG_IDENTIFIER": name,
            "MESSAGE": text,
        }
        for name, text, micros in messages
    ]
    (tmp_path / "journal.json").write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_console_lines_in_journald_take_its_time_and_containers_keep_their_readers(
    tmp_path: Path,
) -> None:
    """Docker's journald driver files every container under `docker.service`: the container
    name keeps Double Take's lines with its reader and DeepStack's with httplog."""
    _journald(
        tmp_path,
        [
            ("double-take", "info: alice: queuing 2 file(s) for training", 1710407000000000),
            (
                "deepstack",
                "[GIN] 2024/03/14 - 09:03:21 | 200 |  2.1s |  192.0.2.44 | "
                'POST  "/v1/vision/face/register"',
                1710407001000000,
            ),
            ("api", "POST /face/v1.0/identify 200 186 - 12.345 ms", 1710407002500000),
        ],
    )
    result = read_sample("journal.json", root=tmp_path)
    assert result.issues == []
    assert [(e.line, e.source, e.operation, e.time.isoformat()) for e in result.events] == [
        (1, "doubletake_log", "train", "2024-03-14T09:03:20+00:00"),
        (2, "httplog", "face.register", "2024-03-14T09:03:21+00:00"),
        (3, "httplog", "Identify", "2024-03-14T09:03:22.500000+00:00"),
    ]
    assert result.events[0].attr("wrapped_stream") == "double-take"


def test_an_eventbridge_cloudtrail_event_is_a_cloudtrail_record(tmp_path: Path) -> None:
    detail = {
        "eventVersion": "1.08",
        "eventTime": "2024-05-11T10:02:51Z",
        "eventSource": "rekognition.amazonaws.com",
        "eventName": "SearchFacesByImage",
        "awsRegion": "us-east-1",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/a"},
        "requestParameters": {"collectionId": "watchlist"},
        "eventID": "e-1",
    }
    event = {
        "version": "0",
        "id": "x",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.rekognition",
        "detail": detail,
    }
    (tmp_path / "eb.jsonl").write_text(json.dumps(event) + "\n")
    result = read_sample("eb.jsonl", root=tmp_path)
    assert result.issues == []
    assert [(e.source, e.operation, e.kind.value) for e in result.events] == [
        ("cloudtrail", "SearchFacesByImage", "identification_1toN")
    ]
