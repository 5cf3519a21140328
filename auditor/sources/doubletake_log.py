"""Double Take's own log: `/.storage/messages.log` or the container's output.

Double Take logs through winston (api/src/util/logger.util.js): the file transport writes
`YY-MM-DD HH:mm:ss <level>: <message>`, the console `<level>: <message>` (no time; `docker logs
--timestamps` puts an RFC 3339 time in front). For each recognition the controller logs
`processing <camera>: <id>`, then `done processing <camera>: <id> in <s> sec`, then the result
object, which `util.format` prints as a multi-line Node `util.inspect` dump (`{`, `  id: '...'`,
`  camera: '...'`, `  matches: [ { name: 'x', confidence: 77.04, box: [Object], ... } ]`, `}`),
read here by `nodeinspect`. Training is `<name>: queuing <n> file(s) for training`.

Each Double Take event id is one 1:N identification (a camera face searched against the trained
gallery), however many times it was processed: the results of one id are folded into one event
(attempts added up, names, their confidences and the detectors collected, best confidence
kept). An id that was
processed but has no result in the file is still an event, outcome `no_result`. A result dump cut
off (by the end of the file, or by another line before its closing brace) still counts, outcome
`truncated`, with an error at the dump. Start-up dumps (the configuration) are counted and left.

Times: the file transport's local wall-clock time, read in the bundle's `timezone`; console
lines without a time take the result's own `timestamp`; a call with no time anywhere is an event
with no time (`time_known = false`), "cannot decide" for every rule, with a notice. The
principal is `double-take` (map it in principals.toml with `name = "double-take"`); snapshots
named by `filename` are looked for under `frames/` (or through a `[frames]` prefix for
`/.storage/matches/`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from auditor.core.models import OperationKind
from auditor.core.timefmt import parse_time
from auditor.sources import applog, nodeinspect
from auditor.sources.base import FileResult, ReadJob

NAME = "doubletake_log"
PRINCIPAL = "double-take"
_LEVELS = "error|warn|info|http|verbose|debug|silly"
_LINE = re.compile(
    r"^(?:(?P<iso>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) )?"
    r"(?:(?P<ts>\d\d-\d\d-\d\d \d\d:\d\d:\d\d) )?"
    r"(?:\[(?P<clock>\d\d:\d\d:\d\d)\] )?"  # the fork and its Home Assistant add-on: no date
    rf"(?P<level>{_LEVELS}): ?(?P<msg>.*)$"
)
_LOOKS_DATED = re.compile(r"^\d\d-\d\d-\d\d \d\d:\d\d:\d\d ")
_PROCESSING = re.compile(r"^processing (?P<camera>.+): (?P<id>\S+)$")
_TRAIN = re.compile(r"^(?P<name>.+): queuing (?P<n>\d+) file\(s\) for training$")
_UNTRAIN = re.compile(r"^(?P<name>.+): untraining complete in ")
_MAX_DUMP_LINES = 5000
_STORAGE = "/.storage/matches/"


@dataclass
class _Run:
    """Everything the file says about one Double Take event id."""

    camera: str
    line: int
    when: datetime | None
    result_line: int | None = None
    attempts: int = 0
    results: int = 0
    truncated: bool = False
    matched: list[str] = field(default_factory=list)
    match_scores: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    detectors: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    zones: list[str] = field(default_factory=list)
    #: the `processing` line and every line of every result dump (for evidence archives)
    lines: list[int] = field(default_factory=list)


@dataclass
class _Dump:
    line: int
    when: datetime | None
    lines: list[str]
    last: int = 0


class DoubleTakeLogSource(applog.LineSource):
    """See `Source.read`."""

    name = NAME

    def consume(self, job: ReadJob, result: FileResult) -> applog.LineConsumer:
        """See `applog.LineSource.consume`."""
        runs: dict[str, _Run] = {}
        dump: _Dump | None = None
        tz = job.settings.timezone
        while (item := (yield)) is not None:
            lineno, text, outer = item
            m = _LINE.match(text)
            if dump is not None:
                if m is None:
                    dump.lines.append(text)
                    dump.last = lineno
                    if text == "}" or len(dump.lines) > _MAX_DUMP_LINES:
                        self._dump(job, dump, runs, result, cut=None)
                        dump = None
                    continue
                self._dump(job, dump, runs, result, cut=f"by line {lineno}")
                dump = None
            if m is None:
                if _LOOKS_DATED.match(text):
                    applog.issue(result, "Double Take log line without a level", lineno)
                continue  # a continuation line (stack trace) of the line before
            result.records += 1
            try:
                when = _line_time(m, tz) or outer
            except ValueError:
                applog.issue(result, f"bad time {m.group('ts') or m.group('iso')!r}", lineno)
                continue
            msg = m.group("msg")
            if msg.startswith("{"):
                dump = _Dump(lineno, when, [msg], lineno)
                if msg.endswith("}"):
                    self._dump(job, dump, runs, result, cut=None)
                    dump = None
                continue
            self._message(job, msg, lineno, when, runs, result)
        if dump is not None:
            self._dump(job, dump, runs, result, cut="by the end of the file")
        for dt_id, run in runs.items():
            self._emit(job, dt_id, run, result)
        result.events.sort(key=lambda e: e.line or 0)  # runs are emitted at the end

    def _message(
        self,
        job: ReadJob,
        msg: str,
        lineno: int,
        when: datetime | None,
        runs: dict[str, _Run],
        result: FileResult,
    ) -> None:
        if (p := _PROCESSING.match(msg)) is not None:
            if p.group("id") not in runs:
                runs[p.group("id")] = _Run(p.group("camera"), lineno, when, lines=[lineno])
            return
        train = _TRAIN.match(msg) or _UNTRAIN.match(msg)
        if train is None:
            return
        enrol = train.re is _TRAIN
        applog.face_event(
            result,
            source=NAME,
            when=when,
            service="double_take",
            operation="train" if enrol else "untrain",
            kind=OperationKind.ENROLMENT if enrol else OperationKind.OTHER,
            principal=PRINCIPAL,
            line=lineno,
            attrs={"subject": train.group("name"), "files": train.groupdict().get("n")},
        )

    def _dump(
        self,
        job: ReadJob,
        dump: _Dump,
        runs: dict[str, _Run],
        result: FileResult,
        cut: str | None,
    ) -> None:
        text = "\n".join(dump.lines)
        try:
            parsed = nodeinspect.parse(text)
        except ValueError as exc:
            applog.issue(result, f"unreadable result dump: {exc}", dump.line)
            return
        obj = parsed.value
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
            if cut is not None or not parsed.complete:
                applog.issue(result, f"logged object cut off {cut or 'early'}", dump.line)
            return  # the configuration at start-up, a Frigate event: not a result
        if not isinstance(obj.get("camera"), str) and "matches" not in obj and cut is None:
            return
        truncated = cut is not None or not parsed.complete
        if truncated:
            applog.issue(
                result,
                f"result dump of {obj['id']} cut off {cut or 'before its end'}: read as far as "
                "it goes",
                dump.line,
            )
        camera = str(obj["camera"]) if isinstance(obj.get("camera"), str) else "?"
        when = dump.when or _result_time(obj.get("timestamp"), job.settings.timezone)
        run = runs.setdefault(obj["id"], _Run(camera, dump.line, when))
        if run.when is None:
            run.when = when
        _fold(run, obj, dump.line, truncated)
        run.lines.extend(range(dump.line, max(dump.last, dump.line) + 1))

    def _emit(self, job: ReadJob, dt_id: str, run: _Run, result: FileResult) -> None:
        line = run.result_line or run.line
        detectors = list(dict.fromkeys(run.detectors))
        if run.results == 0:
            outcome = "no_result"
        else:
            outcome = "truncated" if run.truncated else "succeeded"
        applog.face_event(
            result,
            source=NAME,
            when=run.when,
            service=detectors[0] if len(detectors) == 1 else "double_take",
            operation="recognize",
            kind=OperationKind.IDENTIFICATION_1TON,
            principal=PRINCIPAL,
            line=line,
            event_id=dt_id,
            outcome=outcome,
            frames=applog.snapshot_frames(job, [_STORAGE + f for f in run.files], result, line),
            attrs={
                "camera": run.camera,
                "attempts": run.attempts if run.results else None,
                "detector": ",".join(detectors),
                "match_count": len(run.matched) if run.results else None,
                "matched_names": applog.names(run.matched),
                "match_confidences": ",".join(run.match_scores),
                "best_confidence": applog.best(run.scores),
                "zones": applog.names(run.zones),
                "results": run.results if run.results > 1 else None,
                applog.RECORD_LINES: applog.record_lines(line, run.lines),
            },
        )


def _fold(run: _Run, obj: dict[str, Any], line: int, truncated: bool) -> None:
    """Add one result object to its run."""
    run.results += 1
    run.truncated = run.truncated or truncated
    if run.result_line is None:
        run.result_line = line
    if isinstance(obj.get("attempts"), int) and not isinstance(obj.get("attempts"), bool):
        run.attempts += obj["attempts"]
    if isinstance(obj.get("zones"), list):
        run.zones.extend(str(z) for z in obj["zones"] if isinstance(z, str))
    for key in ("matches", "misses", "unknowns"):
        entries = obj.get(key)
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            score = applog.number(entry.get("confidence"))
            if score is not None:
                run.scores.append(score)
            if isinstance(entry.get("detector"), str):
                run.detectors.append(entry["detector"])
            if isinstance(entry.get("filename"), str):
                run.files.append(entry["filename"])
            if key == "matches" and entry.get("match") is not False:
                run.matched.append(str(entry.get("name") or "?"))
                if score is not None:
                    run.match_scores.append(f"{run.matched[-1]}:{score:.2f}")


def _line_time(m: re.Match[str], tz: str) -> datetime | None:
    """The file transport's local time, else a `docker logs -t` UTC time, else None."""
    if m.group("ts"):
        return applog.local_time(m.group("ts"), "%y-%m-%d %H:%M:%S", tz)
    if m.group("iso"):
        head, _, frac = m.group("iso")[:-1].partition(".")
        return parse_time(f"{head}.{frac[:6] or '0'}+00:00")
    return None


def _result_time(value: Any, tz: str) -> datetime | None:
    """The result's `timestamp`: ISO 8601, or the `8/4/2021, 3:26:45 PM` text of old releases."""
    if not isinstance(value, str):
        return None
    try:
        if "/" in value:
            return applog.local_time(value, "%m/%d/%Y, %I:%M:%S %p", tz)
        return parse_time(value, tz)
    except ValueError:
        return None


SOURCE = DoubleTakeLogSource()
