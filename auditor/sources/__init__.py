"""Log sources: one module per format, listed in `SOURCES`, and the one entry point `read_file`.

Adding a format means a module with a `SOURCE` object (see `base.Source`), an entry here, and
fixtures; `tests/sources/test_sources_registry.py` walks the registry.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from auditor.config import bundle as bundle_mod
from auditor.config.bundle import Bundle
from auditor.config.bundlefs import open_fs
from auditor.core.errors import InputIssue
from auditor.sources import (
    azure_monitor,
    cloudtrail,
    codeproject_ai,
    detect,
    doubletake,
    doubletake_log,
    frigate,
    frigate_log,
    gcp_audit,
    ha_events,
    ha_states,
    home_assistant,
    httplog,
    jsonany,
    jsonl,
    kinesis_rekognition,
    rekognition_response,
    text,
    viseron,
    wrapped,
    zoneminder,
)
from auditor.sources.base import FileResult, HashingStream, ReadJob, Source
from auditor.sources.cap import cap_result
from auditor.sources.sweep import Sweeper
from auditor.sources.window import EventWindow

SOURCES: dict[str, Source] = {
    cloudtrail.NAME: cloudtrail.SOURCE,
    jsonl.NAME: jsonl.SOURCE,
    text.NAME: text.SOURCE,
    httplog.NAME: httplog.SOURCE,
    azure_monitor.NAME: azure_monitor.SOURCE,
    gcp_audit.NAME: gcp_audit.SOURCE,
    kinesis_rekognition.NAME: kinesis_rekognition.SOURCE,
    doubletake.NAME: doubletake.SOURCE,
    frigate.NAME: frigate.SOURCE,
    wrapped.NAME: wrapped.SOURCE,
    doubletake_log.NAME: doubletake_log.SOURCE,
    viseron.NAME: viseron.SOURCE,
    codeproject_ai.NAME: codeproject_ai.SOURCE,
    frigate_log.NAME: frigate_log.SOURCE,
    zoneminder.NAME: zoneminder.SOURCE,
    home_assistant.NAME: home_assistant.SOURCE,
    ha_events.NAME: ha_events.SOURCE,
    ha_states.NAME: ha_states.SOURCE,
    rekognition_response.NAME: rekognition_response.SOURCE,
}

_JSON_EXT = frozenset({"json", "jsonl", "ndjson"})
_TEXT_EXT = frozenset({"log", "txt"})
_BROKEN = ("truncated gzip", "corrupt gzip", "read error")
_CT_KEYS = (b'"eventSource"', b'"CloudTrailEvent"', b'"Records"', b'"eventVersion"')

__all__ = ["SOURCES", "FileResult", "ReadJob", "open_bundle", "read_file", "read_files", "sniff"]


def open_bundle(path: Path | str) -> Bundle:
    """`config.bundle.open_bundle` with this registry's names as the known sources (`path`: a
    folder or an fsspec URL)."""
    return bundle_mod.open_bundle(path, known_sources=tuple(SOURCES))


def sniff(path: str, head: bytes) -> str | None:
    """The source for a file, from its name and first bytes; None for an unknown type.

    Wrapped lines first (`detect.wrapper_kind`: container prefixes, CRI, journald, syslog,
    Lambda, CloudWatch; for any extension or none, as `docker logs > app.out` writes them),
    because one wrapped file may mix services and each inner line is detected on its own; a
    bare `docker logs --timestamps` time prefix is the exception, left to a source that reads
    the whole file (`httplog` takes the time from it). Then content (`detect.refine`: access
    logs, cloud exports, MQTT captures), then the extension rules (CloudTrail, JSON lines,
    text)."""
    name = path[:-3] if path.endswith(".gz") else path
    ext = name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""
    wrapper = detect.wrapper_kind(ext, head, _JSON_EXT | _TEXT_EXT)
    if wrapper is not None and wrapper != "docker_ts":
        return detect.WRAPPED
    found = detect.refine(ext, head, _JSON_EXT, _TEXT_EXT)
    if found is not None:
        return found
    if wrapper is not None:
        return detect.WRAPPED
    if ext in _TEXT_EXT:
        return text.NAME
    if ext not in _JSON_EXT:
        return None
    h = head.lstrip()
    if not h:
        return jsonl.NAME if ext != "json" else cloudtrail.NAME
    if h.startswith(b'{"Records"'):
        return cloudtrail.NAME
    if h.startswith(b"["):
        rec = jsonany.first_record(h)
        return jsonl.NAME if isinstance(rec, dict) and not _is_cloudtrail(rec) else cloudtrail.NAME
    first, _, _ = h.partition(b"\n")
    try:
        obj = orjson.loads(first)
    except orjson.JSONDecodeError:
        # pretty-printed, concatenated, commented, or a first line longer than the peek window
        rec = jsonany.first_record(h)
        if isinstance(rec, dict):
            return cloudtrail.NAME if _is_cloudtrail(rec) else jsonl.NAME
        return cloudtrail.NAME if any(k in h for k in _CT_KEYS) else jsonl.NAME
    if isinstance(obj, dict) and _is_cloudtrail(obj):
        return cloudtrail.NAME
    return jsonl.NAME


def _is_cloudtrail(obj: dict[str, object]) -> bool:
    events = obj.get("Events")  # lookup-events output
    if isinstance(events, list) and events and isinstance(events[0], dict):
        return "CloudTrailEvent" in events[0]
    return any(k in obj for k in ("eventSource", "CloudTrailEvent", "Records", "eventVersion"))


def read_files(jobs: list[ReadJob]) -> list[FileResult]:
    """Read several files in one task, in order (a group of small files: one task each would
    cost a cluster more in scheduling than in reading; see `run.logpass.log_tasks`)."""
    return [read_file(job) for job in jobs]


def read_file(job: ReadJob) -> FileResult:
    """Read one log file completely. Top-level and pure: runs in any worker process.

    Never raises: anything unreadable becomes an issue in the result. Whatever no source read
    (the whole file when its type is unknown, the lines and records a source could not use,
    the rest of a file a source stopped in) goes through the suspected sweep (`sweep`).
    """
    result = FileResult(job.path, job.source)
    try:
        stream = HashingStream(open_fs(job.root).open(job.path), job.path)
    except (OSError, bundle_mod.PathEscape) as exc:
        why = getattr(exc, "strerror", None) or exc
        result.issues.append(InputIssue(job.path, f"cannot open: {why}"))
        return result
    sweeper = Sweeper(result, job.settings.timezone)
    result.sweeper = sweeper
    result.window = EventWindow(job.spill)
    try:
        try:
            head = stream.stream.peek(1 << 16)[: 1 << 16]
        except (EOFError, OSError) as exc:
            from auditor.sources.base import broken_stream_message

            result.issues.append(InputIssue(job.path, broken_stream_message(exc)))
            return result
        name = job.settings.source_override(job.path)
        if name is None:
            name = sniff(job.path, head)
            if name is not None and name not in (cloudtrail.NAME, jsonl.NAME, text.NAME):
                name = detect.configured(name, job.path, job.settings)
        if name is None:
            result.issues.append(
                InputIssue(
                    job.path,
                    "unknown log file type (expected .json, "
                    ".jsonl, .ndjson, .log or .txt, optionally .gz)",
                )
            )
            sweeper.reason = "no source reads this file"
        elif name not in SOURCES:
            result.issues.append(InputIssue(job.path, f"unknown source {name!r} in audit.toml"))
            sweeper.reason = "no source reads this file"
        else:
            result.source = name
            sweeper.reason = f"the {name} source could not read it"
            SOURCES[name].read(job, stream, result)
        _sweep_rest(stream, result)
    except Exception as exc:  # noqa: BLE001 - one bad file must never end the audit
        result.issues.append(
            InputIssue(job.path, f"could not be read: {type(exc).__name__}: {exc}")
        )
    finally:
        sweeper.flush()
        result.sweeper = result.window = None
        result.sha256 = stream.finish()
    cap_result(result)
    return result


def _sweep_rest(stream: HashingStream, result: FileResult) -> None:
    """Sweep the lines left after the source stopped (all of them when none read the file).

    A stream that already broke is not read again (its issue is there)."""
    if any(i.message.startswith(_BROKEN) for i in result.issues):
        return
    for lineno, raw in stream.lines(result, sweep=False):
        result.sweep_line(raw, lineno)
