"""Viseron's log: the face-recognition lines of its CompreFace, CodeProject.AI, DeepStack and
dlib components, in the old (`[time]`) and the current (`time.mmm`) layouts."""

from __future__ import annotations

from pathlib import Path

from auditor.sources.appdetect import app_log_kind
from tests.logsamples import issues, read_sample, rows


def test_old_layout_compreface_and_deepstack() -> None:
    result = read_sample("viseron/viseron-2023.log")
    assert result.source == "viseron" and result.records == 14
    ident = "identification_1toN"
    assert rows(result) == [
        (4, None, "compreface", "train", "enrolment", "viseron", "succeeded"),
        (7, None, "compreface", "face_recognition", ident, "viseron", "succeeded"),
        (10, None, "compreface", "face_recognition", ident, "viseron", "failed"),
        (11, None, "deepstack", "face_recognition", ident, "viseron", "succeeded"),
        (13, None, "compreface", "face_recognition", ident, "viseron", "failed"),
    ]
    train, garage, nothing, deepstack, error = result.events
    assert train.attr("subject") == "alex"
    # two faces; only the one Viseron reported as `Face found` is a match
    assert dict(garage.attributes) == {
        "best_confidence": "0.97",
        "camera": "garagecam",
        "faces": "2",
        "match_count": "1",
        "matched_names": "alex",
        "record_lines": "7-8",  # the answer and its `Face found` line
    }
    assert garage.time.isoformat() == "2023-02-14T10:49:07+00:00"
    assert (nothing.error_code, nothing.attr("camera")) == ("28", "frontdoorcam")
    assert (deepstack.attr("matched_names"), deepstack.attr("best_confidence")) == ("robin", "0.81")
    assert error.error_code == "call_error"
    assert issues(result) == [
        (
            12,
            None,
            "unreadable compreface answer (not a Python literal (SyntaxError)): a face "
            "recognition on camera garagecam that could not be read",
        )
    ]


def test_current_layout_codeprojectai_and_dlib() -> None:
    result = read_sample("viseron/viseron.log")
    assert result.source == "viseron" and result.records == 10
    assert [(e.line, e.service, e.kind.value, e.outcome) for e in result.events] == [
        (2, "codeprojectai", "enrolment", "succeeded"),
        (4, "codeprojectai", "identification_1toN", "succeeded"),
        (6, "codeprojectai", "identification_1toN", "failed"),
        (7, "dlib", "identification_1toN", "succeeded"),
        (8, "dlib", "identification_1toN", "succeeded"),
    ]
    _, cpai, failed, dlib, empty = result.events
    assert (cpai.attr("matched_names"), cpai.attr("best_confidence")) == ("casey", "0.74")
    assert failed.error_code == "500"
    assert (dlib.attr("faces"), dlib.attr("match_count"), dlib.attr("matched_names")) == (
        "2",
        "1",
        "jordan",
    )
    assert (empty.attr("faces"), empty.attr("match_count")) == ("0", "0")
    # a call in the repr is not a literal: refused, never evaluated
    assert [(line, msg.split(" (")[0]) for line, _, msg in issues(result)] == [
        (9, "unreadable dlib answer")
    ]


def test_negatives_and_detection(tmp_path: Path) -> None:
    text = (
        "[2023-02-14 10:49:01] [DEBUG   ] [viseron.components.mog2.motion_detector.cam] - "
        "Motion detected\n"
        "[2023-02-14 10:49:02] [DEBUG   ] [viseron.components.nvr.nvr.cam] - Starting object "
        "detector\n"
        "[2023-02-14 10:49:04] [INFO    ] [viseron.components.compreface.face_recognition.cam] - "
        "Face recognition is running\n"
        "[2023-02-14 10:49:05] [BROKEN line\n"
    )
    (tmp_path / "viseron.log").write_text(text)
    result = read_sample("viseron.log", root=tmp_path)
    assert result.source == "viseron" and result.records == 3
    assert result.events == []
    assert issues(result) == [(4, None, "Viseron log line not in the logger's layout")]
    head = b"2025-03-16 11:59:00.101 [INFO    ] [viseron.core] - Initializing Viseron\n"
    assert app_log_kind(head) == "viseron"
    assert app_log_kind(b"[2023-02-14 10:49:01] [DEBUG   ] [other.app] - x\n") is None


def test_times_are_read_in_the_bundles_timezone(tmp_path: Path) -> None:
    from auditor.config.bundle import SourceSettings

    (tmp_path / "v.log").write_text(
        "2025-07-01 12:00:00.000 [DEBUG   ] [viseron.components.dlib.face_recognition.c] - "
        "Faces found: [('ana', (1, 2, 3, 4))]\n"
    )
    result = read_sample("v.log", SourceSettings(timezone="America/New_York"), root=tmp_path)
    assert [e.time.isoformat() for e in result.events] == ["2025-07-01T16:00:00+00:00"]


def test_a_match_line_after_an_unreadable_answer_joins_no_earlier_answer(tmp_path: Path) -> None:
    pre = (
        "[2023-02-14 10:49:0{}] [DEBUG   ] [viseron.components.compreface.face_recognition.cam] - "
    )
    (tmp_path / "v.log").write_text(
        pre.format(1) + "CompreFace response: {'result': [{'subjects': [{'subject': 'a', "
        "'similarity': 0.9}]}]}\n"
        + pre.format(2)
        + "CompreFace response: {'result': [{'subj\n"
        + pre.format(3)
        + "Face found: {'subject': 'b', 'similarity': 0.95}\n"
    )
    result = read_sample("v.log", root=tmp_path)
    assert [(e.line, e.attr("matched_names")) for e in result.events] == [(1, None)]
    assert [line for line, _, _ in issues(result)] == [2]


def test_face_snapshots_are_the_frames(tmp_path: Path) -> None:
    """The camera's logger saves each found face under snapshots/face_recognition/<camera>/."""
    face = "2025-03-16 12:13:01.300 [DEBUG   ] [viseron.components.dlib.face_recognition.hall] - "
    cam = "2025-03-16 12:13:01.{} [DEBUG   ] [viseron.components.ffmpeg.camera.{}] - Saving "
    (tmp_path / "v.log").write_text(
        face
        + "Faces found: [('jordan', (100, 190, 180, 120))]\n"
        + cam.format("310", "hall")
        + "snapshot to /config/snapshots/face_recognition/hall/"
        "jordan/2025-03-16-11-13-01-7c9e2a.jpg\n"
        + cam.format("320", "yard")
        + "snapshot to /config/snapshots/face_recognition/yard/"
        "unknown/2025-03-16-11-13-01-0000aa.jpg\n"
        + cam.format("330", "hall")
        + "snapshot to /config/snapshots/object_detector/hall/"
        "2025-03-16-11-13-01-1111bb.jpg\n"
    )
    result = read_sample("v.log", root=tmp_path)
    (event,) = result.events
    assert event.frames == ("frames/2025-03-16-11-13-01-7c9e2a.jpg",)
    assert event.attr("record_lines") == "1-2" and result.records == 4


def test_each_compreface_training_response_is_one_enrolment(tmp_path: Path) -> None:
    """CompreFace's trainer logs the person folder, then one response per image it adds
    (viseron/components/compreface/face_recognition.py `CompreFaceTrain.train`): a refused
    image is a failed enrolment, not a line left unread."""
    logger = "[viseron.components.compreface.face_recognition]"
    (tmp_path / "viseron.log").write_text(
        f"2025-03-16 11:58:09.402 [DEBUG   ] {logger} - Training face alice\n"
        f"2025-03-16 11:58:10.871 [DEBUG   ] {logger} - CompreFace response: "
        "{'image_id': '4f1e', 'subject': 'alice'}\n"
        f"2025-03-16 11:58:11.633 [DEBUG   ] {logger} - CompreFace response: "
        "{'message': 'No face is found in the given image', 'code': 28}\n"
        f"2025-03-16 11:58:11.634 [WARNING ] {logger} - Image /config/x.jpg not suitable for "
        "training: {'message': 'No face is found in the given image', 'code': 28}\n"
    )
    result = read_sample("viseron.log", root=tmp_path)
    assert result.issues == []
    assert [
        (e.line, e.kind.value, e.outcome, e.error_code, e.attr("subject")) for e in result.events
    ] == [
        (2, "enrolment", "succeeded", None, "alice"),
        (3, "enrolment", "failed", "28", "alice"),
    ]
