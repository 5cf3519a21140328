"""Viseron's log: the face-recognition post-processors of its CompreFace, CodeProject.AI, DeepStack
and dlib components.

Viseron logs with Python `logging`: `[YYYY-MM-DD HH:MM:SS] [LEVEL   ] [logger] - message` before
the file log of December 2024, `YYYY-MM-DD HH:MM:SS.mmm [LEVEL   ] [logger] - message` since
(viseron/helpers/logs.py `LOG_FORMAT`). Each camera's face recogniser logs as
`viseron.components.<component>.face_recognition.<camera>`; at DEBUG level it writes the
recogniser's answer as a Python dict repr, read here with `ast.literal_eval` on that text alone
(never `eval`):

- compreface: `CompreFace response: {'result': [{'box': ..., 'subjects': [{'subject': 'x',
  'similarity': 0.97}]}], ...}`, then `Face found: {'subject': 'x', 'similarity': 0.97}` for each
  face over the similarity threshold (those are the matches);
- codeprojectai: `Face recognition result: {'success': True, 'predictions': [{'userid': 'x',
  'confidence': 0.8, ...}]}` (`userid` `unknown` is no match);
- deepstack: `Face found: {'userid': 'x', 'confidence': 0.8, ...}` for each known face (its
  response is not logged, so each line is one event);
- dlib: `Faces found: [('x', (x1, y1, x2, y2)), ('unknown', ...)]`.

The camera's own logger then logs `Saving snapshot to .../snapshots/face_recognition/<camera>/...`
for each face it saves: that file is the event's frame (looked for under `frames/`).

Each of these lines is one 1:N identification of a face seen on that camera; `Error calling
<recogniser>` is one that failed. The components' own logger (no camera) logs `Training face
<name>` once per person folder when Viseron trains the recogniser: an enrolment, except for
CompreFace, whose trainer then logs one `CompreFace response:` per image it adds, and each of
those is the enrolment (a refused image, `{'message': ..., 'code': 28}`, a failed one). Other
lines are counted and left. A face line whose value cannot be read is an error at its line.

The principal is `viseron` (map it with `name = "viseron"`); the camera is an attribute.
Times are Viseron's local time, read in the bundle's `timezone`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from auditor.core.models import OperationKind
from auditor.sources import applog
from auditor.sources.base import FileResult, ReadJob

NAME = "viseron"
PRINCIPAL = "viseron"
_LINE = re.compile(
    r"^(?:\[(?P<old>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\]|(?P<new>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)"
    r"\.\d{3}) \[(?P<level>[A-Z]+) *\] \[(?P<logger>[^\]]+)\] - (?P<msg>.*)$"
)
_FACE_LOGGER = re.compile(
    r"^viseron\.components\.(?P<comp>compreface|codeprojectai|dlib|deepstack)"
    r"\.face_recognition(?:\.(?P<camera>.+))?$"
)
_LOOKS_LIKE = re.compile(r"^\[?\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
#: The message that carries each component's answer, and the one that reports a failed call.
_ANSWER = {
    "compreface": "CompreFace response: ",
    "codeprojectai": "Face recognition result: ",
    "deepstack": "Face found: ",
    "dlib": "Faces found: ",
}
_ERROR = re.compile(r"^Error calling (?:compreface|CodeProject\.AI|deepstack)\b")
_TRAINING = re.compile(r"^Training face (?P<name>.+)$")
_SNAPSHOT = re.compile(r"^Saving snapshot to (?P<path>\S*/face_recognition/\S+)$")


@dataclass
class _Call:
    """One recognition, built up while its `Face found` lines follow (CompreFace)."""

    line: int
    when: datetime
    comp: str
    camera: str
    faces: int = 0
    matched: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    outcome: str = "succeeded"
    error_code: str | None = None
    lines: list[int] = field(default_factory=list)  # its `Face found` and snapshot lines
    snapshots: list[str] = field(default_factory=list)


class ViseronSource(applog.LineSource):
    """See `Source.read`."""

    name = NAME

    def consume(self, job: ReadJob, result: FileResult) -> applog.LineConsumer:
        """See `applog.LineSource.consume`."""
        calls: list[_Call] = []
        last: dict[str, _Call] = {}
        training: dict[str, str] = {}  # the person each component's trainer is on
        while (item := (yield)) is not None:
            lineno, text, outer = item
            m = _LINE.match(text)
            if m is None:
                if _LOOKS_LIKE.match(text) and "] [" in text:
                    applog.issue(result, "Viseron log line not in the logger's layout", lineno)
                continue  # continuation of a multi-line message (a traceback)
            result.records += 1
            face = _FACE_LOGGER.match(m.group("logger"))
            if face is None:
                _snapshot(m.group("logger"), m.group("msg"), last, lineno)
                continue
            try:
                when = applog.local_time(
                    m.group("old") or m.group("new"), "%Y-%m-%d %H:%M:%S", job.settings.timezone
                )
            except ValueError:
                applog.issue(result, "bad time in Viseron log line", lineno)
                continue
            comp, camera, msg = face.group("comp"), face.group("camera"), m.group("msg")
            if camera is None:
                self._training(msg, comp, (lineno, when), training, result)
                continue
            call = _Call(lineno, when, comp, camera)
            if _ERROR.match(msg) is not None:
                call.outcome, call.error_code = "failed", "call_error"
                calls.append(call)
                last.pop(camera, None)
            elif msg.startswith(_ANSWER[comp]):
                last.pop(camera, None)  # a match line after an unreadable answer joins none
                if self._answer(msg[len(_ANSWER[comp]) :], call, result):
                    calls.append(call)
                    last[camera] = call
            elif comp == "compreface" and msg.startswith("Face found: "):
                _compreface_match(msg[len("Face found: ") :], last.get(camera), result, lineno)
        for call in calls:
            _emit(call, result, job)

    def _training(
        self,
        msg: str,
        comp: str,
        at: tuple[int, datetime],
        training: dict[str, str],
        result: FileResult,
    ) -> None:
        """A line of a component's trainer (its logger has no camera). CompreFace's trainer logs
        `Training face <name>` per person folder, then one `CompreFace response: {...}` per
        image it adds (`{'image_id': ..., 'subject': ...}`, or `{'message': ..., 'code': 28}`
        when CompreFace refused it): each response is one enrolment call, the refused ones
        failed. The other trainers log only the folder line: that is the enrolment."""
        lineno, when = at
        train = _TRAINING.match(msg)
        if train is not None:
            training[comp] = train.group("name")
            if comp != "compreface":
                self._enrolment(comp, at, {"subject": train.group("name")}, result)
            return
        if comp != "compreface" or not msg.startswith(_ANSWER["compreface"]):
            return
        try:
            value = applog.literal(msg[len(_ANSWER["compreface"]) :].strip())
            if not isinstance(value, dict):
                raise ValueError("not a dict")
        except ValueError as exc:
            applog.issue(result, f"unreadable CompreFace training response ({exc})", lineno)
            return
        refused = "message" in value or "image_id" not in value
        attrs = {
            "subject": value.get("subject") or training.get(comp),
            "image_id": value.get("image_id"),
            "message": value.get("message"),
        }
        code = str(value.get("code", "refused")) if refused else None
        self._enrolment(comp, at, attrs, result, code)

    def _enrolment(
        self,
        comp: str,
        at: tuple[int, datetime],
        attrs: dict[str, object],
        result: FileResult,
        error_code: str | None = None,
    ) -> None:
        applog.face_event(
            result,
            source=NAME,
            when=at[1],
            service=comp,
            operation="train",
            kind=OperationKind.ENROLMENT,
            principal=PRINCIPAL,
            line=at[0],
            attrs=attrs,
            outcome="failed" if error_code else "succeeded",
            error_code=error_code,
        )

    def _answer(self, text: str, call: _Call, result: FileResult) -> bool:
        """Fill `call` from the component's answer; False (with an issue) when unreadable."""
        try:
            value = applog.literal(text.strip())
            reader = _READERS[call.comp]
            reader(value, call)
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            applog.issue(
                result,
                f"unreadable {call.comp} answer ({exc}): a face recognition on camera "
                f"{call.camera} that could not be read",
                call.line,
            )
            return False
        return True


def _compreface(value: Any, call: _Call) -> None:
    if not isinstance(value, dict):
        raise TypeError("not a dict")
    if "result" not in value:
        call.outcome = "failed"
        call.error_code = str(value.get("code", "no_result"))
        return
    for face in value["result"]:
        call.faces += 1
        for subject in face.get("subjects") or []:
            score = applog.number(subject.get("similarity"))
            if score is not None:
                call.scores.append(score)


def _codeprojectai(value: Any, call: _Call) -> None:
    if not isinstance(value, dict):
        raise TypeError("not a dict")
    if not value.get("success"):
        call.outcome, call.error_code = "failed", str(value.get("code") or "not_success")
    for face in value.get("predictions") or []:
        call.faces += 1
        score = applog.number(face.get("confidence"))
        if score is not None:
            call.scores.append(score)
        if face.get("userid") not in (None, "unknown"):
            call.matched.append(str(face["userid"]))


def _deepstack(value: Any, call: _Call) -> None:
    if not isinstance(value, dict):
        raise TypeError("not a dict")
    call.faces = 1
    call.matched.append(str(value["userid"]))
    score = applog.number(value.get("confidence"))
    if score is not None:
        call.scores.append(score)


def _dlib(value: Any, call: _Call) -> None:
    if not isinstance(value, list):
        raise TypeError("not a list")
    for name, _box in value:
        call.faces += 1
        if name != "unknown":
            call.matched.append(str(name))


_READERS = {
    "compreface": _compreface,
    "codeprojectai": _codeprojectai,
    "deepstack": _deepstack,
    "dlib": _dlib,
}


def _compreface_match(text: str, call: _Call | None, result: FileResult, lineno: int) -> None:
    """A `Face found: {'subject': ..., 'similarity': ...}` line: a match of the last answer."""
    try:
        value = applog.literal(text.strip())
        name = value["subject"]
    except (ValueError, KeyError, TypeError) as exc:
        applog.issue(result, f"unreadable CompreFace match ({exc})", lineno)
        return
    if call is not None:
        call.matched.append(str(name))
        call.lines.append(lineno)


def _snapshot(logger: str, msg: str, last: dict[str, _Call], lineno: int) -> None:
    """`Saving snapshot to <tier>/snapshots/face_recognition/<camera>/<name>/<file>.jpg`: the
    camera's logger saving the face of the answer just before (its frame)."""
    saved = _SNAPSHOT.match(msg)
    if saved is None:
        return
    call = last.get(logger.rsplit(".", 1)[-1])
    if call is not None:
        call.snapshots.append(saved.group("path"))
        call.lines.append(lineno)


def _emit(call: _Call, result: FileResult, job: ReadJob) -> None:
    applog.face_event(
        result,
        source=NAME,
        when=call.when,
        service=call.comp,
        operation="face_recognition",
        kind=OperationKind.IDENTIFICATION_1TON,
        principal=PRINCIPAL,
        line=call.line,
        frames=applog.snapshot_frames(job, call.snapshots, result, call.line),
        outcome=call.outcome,
        error_code=call.error_code,
        attrs={
            "camera": call.camera,
            "faces": call.faces if call.outcome == "succeeded" else None,
            "match_count": len(call.matched) if call.outcome == "succeeded" else None,
            "matched_names": applog.names(call.matched),
            "best_confidence": applog.best(call.scores),
            applog.RECORD_LINES: applog.record_lines(call.line, call.lines),
        },
    )


SOURCE = ViseronSource()
