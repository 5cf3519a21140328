"""Point-by-point comparison of two reports, for `auditor verify`.

Pure functions over report dicts: no I/O. Each difference is named by where it is (a finding's
id and a field path such as `frames[0].faces`), so an NGO can say exactly what did not
reproduce, and differences that another face engine explains are said to be so.
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: How many differences one point lists before it says "and N more".
MAX_SHOWN = 12

#: The deepest two values are compared (reports are checked to be shallower when read).
MAX_DEPTH = 64
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxstring = 3, 6, 6, 60

#: Finding fields that come from frames (another dlib build may change them).
FRAME_FIELDS = ("frames", "probes")


@dataclass(frozen=True)
class Point:
    """One checked point: `ok` or not, with what differs; `note` points never fail."""

    topic: str
    ok: bool
    message: str
    details: tuple[str, ...] = ()
    note: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "ok": self.ok,
            "note": self.note,
            "message": self.message,
            "details": list(self.details),
        }


def deep_diff(a: Any, b: Any, path: str = "", depth: int = 0) -> list[str]:
    """Every leaf where `a` (the report) and `b` (the re-run) differ, as `path: a -> b`.

    The recursion is bounded (MAX_DEPTH): reports are checked for depth when they are read, and
    this bound makes sure nothing deeper can overflow the stack here either.
    """
    if depth > MAX_DEPTH and isinstance(a, dict | list):
        return [f"{path or '(value)'}: nested deeper than {MAX_DEPTH} levels, not compared"]
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(set(a) | set(b), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in a:
                out.append(f"{sub}: (absent) -> {_short(b[key])}")
            elif key not in b:
                out.append(f"{sub}: {_short(a[key])} -> (absent)")
            else:
                out.extend(deep_diff(a[key], b[key], sub, depth + 1))
        return out
    if isinstance(a, list) and isinstance(b, list):
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            out.extend(deep_diff(x, y, f"{path}[{i}]", depth + 1))
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} item(s) -> {len(b)}")
        return out
    return [] if a == b else [f"{path or '(value)'}: {_short(a)} -> {_short(b)}"]


def _short(value: Any) -> str:
    """At most 80 characters; a container is shown through `reprlib` (bounded in depth and
    length), so a huge or deep value costs no more than a small one."""
    text = _REPR.repr(value) if isinstance(value, dict | list) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _capped(lines: list[str]) -> tuple[str, ...]:
    if len(lines) <= MAX_SHOWN:
        return tuple(lines)
    return (*lines[:MAX_SHOWN], f"... and {len(lines) - MAX_SHOWN} more")


def _unplaced(events: Any) -> Any:
    """Events without `start_line` (anything else, as it is)."""
    if not isinstance(events, list):
        return events
    return [
        {k: v for k, v in e.items() if k != "start_line"} if isinstance(e, dict) else e
        for e in events
    ]


def compare_findings(
    old: Iterable[dict[str, Any]],
    new: Iterable[dict[str, Any]],
    *,
    log_only: bool,
    engine_differs: bool,
) -> list[Point]:
    """Same findings, same ids, same evidence.

    `log_only`: the re-run saw only published records, so frame evidence is not compared and
    findings the re-run adds are notes (they may be excused by records that were not published).
    """
    old_by = {f["id"]: f for f in old}
    new_by = {f["id"]: f for f in new}
    missing = sorted(set(old_by) - set(new_by))
    extra = sorted(set(new_by) - set(old_by))
    changed, frame_only = _differences(old_by, new_by, log_only)
    points = [_findings_point(old_by, new_by, missing, changed, frame_only)]
    if frame_only:
        points.append(_frames_point(frame_only, engine_differs))
    if extra:
        points.append(_extra_point([_label(fid, new_by[fid]) for fid in extra], log_only))
    return points


def _label(fid: str, finding: dict[str, Any]) -> str:
    return f"{fid} ({finding.get('pack')} {finding.get('rule')})"


def _differences(
    old_by: dict[str, Any], new_by: dict[str, Any], log_only: bool
) -> tuple[list[str], list[str]]:
    """(lines of findings that differ in their log evidence, lines that differ only in frame
    evidence), for the findings both runs have."""
    changed: list[str] = []
    frame_only: list[str] = []
    for fid in sorted(set(old_by) & set(new_by)):
        a, b = dict(old_by[fid]), dict(new_by[fid])
        if log_only:
            for key in (*FRAME_FIELDS, "baselined"):
                a.pop(key, None)
                b.pop(key, None)
            # the sparse bundle keeps each record's line/record locator, not the line a
            # record of a multi-line document starts on (a display hint, not evidence)
            a["events"], b["events"] = _unplaced(a.get("events")), _unplaced(b.get("events"))
        diffs = deep_diff(a, b)
        if not diffs:
            continue
        label = _label(fid, a)
        lines = [f"{label}: {d}" for d in diffs]
        if all(d.split(".", 1)[0].split("[", 1)[0].split(":", 1)[0] in FRAME_FIELDS for d in diffs):
            frame_only.extend(lines)
        else:
            changed.extend(lines)
    return changed, frame_only


def _findings_point(
    old_by: dict[str, Any],
    new_by: dict[str, Any],
    missing: list[str],
    changed: list[str],
    frame_only: list[str],
) -> Point:
    total = len(old_by)
    if not missing and not changed and not frame_only:
        return Point(
            "findings",
            True,
            f"{total} of {total} finding(s) reproduced with the same ids and evidence",
        )
    same = len(set(old_by) & set(new_by)) - len({c.split(" ", 1)[0] for c in changed + frame_only})
    lost = [f"{_label(fid, old_by[fid])}: not found by the re-run" for fid in missing]
    return Point(
        "findings",
        False,
        f"{same} of {total} finding(s) reproduced exactly",
        _capped(lost + changed),
    )


def _frames_point(frame_only: list[str], engine_differs: bool) -> Point:
    why = (
        "another face engine (see face_engine) explains these"
        if engine_differs
        else "the face engine is the same, so the frames themselves differ"
    )
    return Point(
        "frame evidence",
        False,
        f"frame evidence differs in {len(frame_only)} place(s): {why}",
        _capped(frame_only),
    )


def _extra_point(lines: list[str], log_only: bool) -> Point:
    """Findings only the re-run has: a failure in full mode, a note from published records
    (the records that excuse them may not be published)."""
    if log_only:
        return Point(
            "findings",
            True,
            f"the published records also give "
            f"{len(lines)} finding(s) the report does not have: records "
            "that excuse them may not be published",
            _capped(lines),
            note=True,
        )
    return Point(
        "findings",
        False,
        f"the re-run found {len(lines)} finding(s) the report does not have",
        _capped(lines),
    )


def compare_block(topic: str, old: Any, new: Any) -> Point:
    """Any other part of the report: equal, or the leaves that differ."""
    diffs = deep_diff(old, new)
    if not diffs:
        return Point(topic, True, f"{topic}: same")
    return Point(topic, False, f"{topic}: {len(diffs)} difference(s)", _capped(diffs))


def engine_point(old: Any, new: Any) -> Point | None:
    """A note naming how the face engine of the report and of this machine differ."""
    if old == new or old is None or new is None:
        return None
    diffs = deep_diff(old, new, "face_engine")
    return Point(
        "face engine",
        True,
        "this machine's face engine differs from the report's: "
        "frame evidence may legitimately differ",
        _capped(diffs),
        note=True,
    )
