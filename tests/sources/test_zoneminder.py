"""ZoneMinder's ML hooks (zm_detect / mlapi through pyzm): the dlib face results."""

from __future__ import annotations

from pathlib import Path

from auditor.sources.appdetect import app_log_kind
from tests.logsamples import issues, read_sample, rows


def test_zm_detect_file_log() -> None:
    result = read_sample("zoneminder/zmesdetect_m16.log")
    assert result.source == "zoneminder" and result.records == 9
    ident = "identification_1toN"
    assert rows(result) == [
        (9, None, "pyzm_face_dlib", "face_recognition", ident, "zoneminder", "succeeded"),
        (11, None, "pyzm_face_dlib", "face_recognition", ident, "zoneminder", "succeeded"),
    ]
    first, second = result.events
    assert dict(first.attributes) == {
        "faces": "1",
        "match_count": "1",
        "matched_names": "Alex Doe",
        "monitor": "16",
        "process": "zmesdetect_m16",
        "record_lines": "3,9",  # the `Using model` line names its image
    }
    assert first.frames == ("frames/16-snapshot.jpg",)  # named by `Using model: face with`
    assert first.time.isoformat() == "2020-12-19T20:20:55+00:00"
    # another process (pid) named no image; `unknown` is no match
    assert second.frames == () and (second.attr("faces"), second.attr("match_count")) == ("2", "1")
    assert issues(result) == [
        (15, None, "unreadable ZoneMinder face result: not boxes, names and confidences")
    ]


def test_mlapi_console_has_no_time() -> None:
    result = read_sample("zoneminder/mlapi-console.log")
    assert result.source == "zoneminder" and result.records == 4
    # an event all the same, undated (no date is invented), with a notice at its line
    assert [(e.line, e.untimed, e.time.year) for e in result.events] == [(4, True, 1970)]
    assert [(n.line, n.message.split(" has no time")[0]) for n in result.notices] == [
        (4, "face_recognition")
    ]
    assert issues(result) == []


def test_frame_prefix_and_four_digit_years(tmp_path: Path) -> None:
    from auditor.config.bundle import SourceSettings

    (tmp_path / "zm.log").write_text(
        "07/03/2022 21:49:40 zmesdetect_m2[692] DBG1 zm_detect.py:405 [Using model: face with "
        "/var/lib/zmeventnotification/images/2-alarm.jpg]\n"
        "07/03/2022 21:49:42 zmesdetect_m2[692] DBG2 face_dlib.py:298 [Face Dlib:Returning: "
        "[], [], []]\n"
        "07/03/2022 21:49:43 zmesdetect_m2[692] DBG1 zm_detect.py:651 [No match found]\n"
    )
    settings = SourceSettings(
        frame_prefixes=(("/var/lib/zmeventnotification/images/", "frames/zm/"),)
    )
    result = read_sample("zm.log", settings, root=tmp_path)
    (event,) = result.events
    assert event.time.isoformat() == "2022-07-03T21:49:42+00:00"
    assert event.frames == ("frames/zm/2-alarm.jpg",)
    assert (event.attr("faces"), event.attr("match_count")) == ("0", "0")
    assert app_log_kind(b"DBG1 [zm_mlapi] [perf: processor:cpu]\n") == "zoneminder"


def test_event_server_lines_and_iso_dates(tmp_path: Path) -> None:
    """zmeventnotification's own lines (`.INF [main:582]`) are counted; an ISO-locale date works."""
    (tmp_path / "zmes.log").write_text(
        "11/27/2018 07:50:00.429519 zmeventnotification[15222].INF [main:582] [processAlarms: "
        "EID:83549 Monitor:USBCAM (id):3 cause:Motion]\n"
        "2019-10-12 13:00:02.600407 zmesdetect_m2[4219] DBG2 face_dlib.py:298 [Face Dlib:"
        "Returning: [[1, 2, 3, 4]], ['Kim Lee'], [1]]\n"
    )
    result = read_sample("zmes.log", root=tmp_path)
    assert result.source == "zoneminder" and result.records == 2
    assert [(e.line, e.time.isoformat(), e.attr("monitor")) for e in result.events] == [
        (2, "2019-10-12T13:00:02+00:00", "2")
    ]
    assert result.issues == []


def test_syslog_copies(tmp_path: Path) -> None:
    """pyzm's syslog lines: a classic syslog time has no year (an error per face result, never a
    guessed year); rsyslog's RFC 3339 time is a whole time."""
    (tmp_path / "syslog.log").write_text(
        "Dec 19 20:20:53 nvr zm_detect.py[6549]: DBG1 [zmesdetect_m16] [Using model: face with "
        "/var/lib/zmeventnotification/images/16-snapshot.jpg]\n"
        "Dec 19 20:20:55 nvr zm_detect.py[6549]: DBG2 [zmesdetect_m16] [Face Dlib:Returning: "
        "[[212, 98, 301, 187]], ['Alex Doe'], [1]]\n"
        "2020-12-19T20:21:10.123456+01:00 nvr zm_detect.py[6551]: DBG2 [zmesdetect_m16] [Face "
        "Dlib:Returning: [[1, 2, 3, 4]], ['Robin Roe'], [1]]\n"
    )
    result = read_sample("syslog.log", root=tmp_path)
    assert result.source == "zoneminder" and result.records == 3
    assert [(e.line, e.time.isoformat(), e.attr("matched_names")) for e in result.events] == [
        (3, "2020-12-19T19:21:10.123456+00:00", "Robin Roe")
    ]
    assert [(line, msg.split(":")[0]) for line, _, msg in issues(result)] == [
        (2, "ZoneMinder face result in a syslog line, whose time has no year")
    ]
