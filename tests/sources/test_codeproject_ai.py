"""CodeProject.AI Server's log: the Face Processing module's commands, dated or not."""

from __future__ import annotations

from pathlib import Path

from auditor.core.models import NO_TIME
from auditor.sources.appdetect import app_log_kind
from tests.logsamples import issues, read_sample


def test_daily_log_file_commands_by_kind() -> None:
    result = read_sample("codeproject-ai/log-2025-03-16.txt")
    assert result.source == "codeproject_ai" and result.records == 12
    assert [(e.line, e.operation, e.kind.value) for e in result.events] == [
        (5, "face.list", "other"),
        (6, "face.register", "enrolment"),
        (8, "face.recognize", "identification_1toN"),
        (9, "face.detect", "face_detection"),
        (10, "face.match", "verification_1to1"),
        (11, "face.delete", "other"),
    ]
    recognize = result.events[2]
    assert recognize.principal.id == "codeproject-ai"
    assert recognize.event_id == "9e8d7c6b-5a49-4382-a1b0-c9d8e7f6a5b4"
    assert recognize.time.isoformat() == "2025-03-16T12:12:33+00:00"
    assert dict(recognize.attributes) == {
        "duration_ms": "431",
        "message": "A face was recognised",
        "module": "Face Processing",
    }
    # object detection (line 7) is counted and left; line 12 is broken
    assert issues(result) == [(12, None, "unreadable CodeProject.AI response line")]


def test_dashboard_copy_has_no_date_and_invents_none() -> None:
    """Each face call is an event with no time (its clock kept), never an invented date and
    never dropped: a notice at its line says no rule can judge it."""
    result = read_sample("codeproject-ai/dashboard-copy.txt")
    assert result.source == "codeproject_ai" and result.records == 4
    assert result.issues == []
    assert [
        (e.line, e.operation, e.time, e.untimed, e.attr("logged_clock")) for e in result.events
    ] == [
        (1, "face.list", NO_TIME, True, "11:59:28"),
        (2, "face.register", NO_TIME, True, "12:00:35"),
        (4, "face.recognize", NO_TIME, True, "12:12:33"),
    ]
    assert [(n.line, n.message.split(" has no time")[0]) for n in result.notices] == [
        (1, "face.list"),
        (2, "face.register"),
        (4, "face.recognize"),
    ]


def test_undated_lines_take_the_date_of_an_earlier_dated_line_of_the_same_day(
    tmp_path: Path,
) -> None:
    (tmp_path / "mixed.txt").write_text(
        "2025-03-16 11:58:01: Server version:   2.9.5\n"
        "12:12:33:Response rec'd from Face Processing command 'recognize' (...107992) "
        "['A face was recognised']  took 431ms\n"
        "09:00:00:Response rec'd from Face Processing command 'register' (...02c2f8) "
        "['face added']  took 80ms\n"
        "Infor Response rec'd from Face Processing command 'recognize' (#reqid 1) took 5ms\n"
    )
    result = read_sample("mixed.txt", root=tmp_path)
    assert [(e.line, e.time.isoformat(), e.untimed) for e in result.events] == [
        (2, "2025-03-16T12:12:33+00:00", False),
        # earlier in the day than the dated line: it may be the next day; never guessed
        (3, "1970-01-01T00:00:00+00:00", True),
        (4, "1970-01-01T00:00:00+00:00", True),
    ]
    assert issues(result) == []


def test_negatives_and_detection(tmp_path: Path) -> None:
    (tmp_path / "log.txt").write_text(
        "2025-03-16 11:58:01: Operating System: Linux\n"
        "2025-03-16 11:58:05: Module 'Object Detection (YOLOv5 .NET)' (ID: ObjectDetection)\n"
        "2025-03-16 12:12:31: Response rec'd from Object Detection (YOLOv5 .NET) command 'detect' "
        "(#reqid a) ['Found person']  took 19ms\n"
    )
    result = read_sample("log.txt", root=tmp_path)
    assert result.source == "codeproject_ai" and result.records == 3
    assert result.events == [] and result.issues == []
    assert app_log_kind(b"12:00:35:Response rec'd from Face Processing command 'list'\n") == (
        "codeproject_ai"
    )
    assert app_log_kind(b"12:00:35:some other program\n") is None


def test_responses_without_a_command(tmp_path: Path) -> None:
    """The server leaves ` command '...'` out when the module's answer has none: a face
    module's such line cannot be classified (an error), another module's is just counted."""
    (tmp_path / "log.txt").write_text(
        "2025-03-16 12:12:31: Response rec'd from Object Detection (YOLOv5 6.2) (#reqid a) "
        "['Found car']  took 19ms\n"
        "2025-03-16 12:12:32: Response rec'd from Face Processing (#reqid b) took 4ms\n"
    )
    result = read_sample("log.txt", root=tmp_path)
    assert result.records == 2 and result.events == []
    assert issues(result) == [(2, None, "Face Processing response without a command")]
