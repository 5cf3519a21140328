"""Content detection for the sources that share an extension with another one.

Access logs are `.log` like any text log; Azure Monitor, Google Cloud audit, Rekognition Video
stream output and Double Take payloads are JSON like CloudTrail and the default JSON lines. The
file name cannot tell them apart, the first record can: `refine` looks at it and names the
source, or returns None to leave the choice to the extension rules in `sniff`. The first record
is found in any JSON layout (`jsonany.first_record`: pretty-printed, concatenated documents,
arrays, `//` and `/* */` comments).

A Lambda Kinesis event (`{"Records": [{"kinesis": {...}, "eventSource": "aws:kinesis"}]}`) starts
like a CloudTrail delivery file; `eventSource` tells them apart (`aws:kinesis` is Lambda's event
source, CloudTrail's are `<service>.amazonaws.com`).
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

import orjson

from auditor.config.bundle import SourceSettings
from auditor.sources import envelopes, ha_events, rekognition_response
from auditor.sources.accessjson import looks_like_json_access
from auditor.sources.appdetect import APP_LOGS, app_log_kind
from auditor.sources.httplog import looks_like_access_log
from auditor.sources.jsonany import first_doc, first_record

HTTPLOG = "httplog"
AZURE_MONITOR = "azure_monitor"
GCP_AUDIT = "gcp_audit"
KINESIS = "kinesis_rekognition"
DOUBLETAKE = "doubletake"
FRIGATE = "frigate"
HA_EVENTS = "ha_events"
REKOGNITION_RESPONSE = "rekognition_response"
WRAPPED = "wrapped"
CLOUDTRAIL = "cloudtrail"

_CLOUDTRAIL_KEYS = ("eventSource", "CloudTrailEvent", "eventVersion")
_KINESIS_EVENT = re.compile(
    rb'"eventSource"\s*:\s*"aws:kinesis"|"kinesis"\s*:\s*\{'
    rb'|"NextShardIterator"\s*:|"SequenceNumber"\s*:'
)
_CLOUDTRAIL_SOURCE = re.compile(rb'"eventSource"\s*:\s*"[^"]*\.amazonaws\.com"')
_PRETTY_MARKERS = (
    (re.compile(rb'"protoPayload"\s*:'), GCP_AUDIT),
    (re.compile(rb'"FaceSearchResponse"\s*:|"InputInformation"\s*:'), KINESIS),
    (re.compile(rb'^\s*\{\s*"records"\s*:\s*\['), AZURE_MONITOR),
)


def refine(ext: str, head: bytes, json_ext: frozenset[str], text_ext: frozenset[str]) -> str | None:
    """The content-detected source for a file, or None for the extension's default source."""
    h = head.lstrip()
    if not h:
        return None
    first = h.split(b"\n", 1)[0].strip()
    if ext in text_ext:
        if first.startswith(b"{"):
            obj = _loads(first)
            return json_kind(obj) if isinstance(obj, dict) else None
        if (app := app_log_kind(h)) is not None:  # the recognisers' own logs (appdetect.py)
            return app
        return HTTPLOG if looks_like_access_log(h) else None
    if ext not in json_ext:
        return None
    if h.startswith(b'{"Records"') or h.startswith(b"{\n") or h.startswith(b"{ "):
        window = h[:4096]
        if (
            b'"Records"' in h[:64]
            and not _CLOUDTRAIL_SOURCE.search(window)
            and _KINESIS_EVENT.search(window)
        ):
            return KINESIS
    obj = _loads(first)
    if isinstance(obj, list) and obj and isinstance(obj[0], dict):
        obj = obj[0]  # a one-line array (`jq -c`): its first record decides
    if isinstance(obj, dict):
        return json_kind(obj)
    if obj is None:  # pretty-printed (or a first line longer than the peek window)
        window = h[:8192]
        for regex, name in _PRETTY_MARKERS:
            if regex.search(window):
                return name
        if (
            b'"resourceId"' in window
            and b'"operationName"' in window
            and not any(k in window for k in (b'"eventSource"', b'"eventVersion"'))
        ):
            return AZURE_MONITOR
        # any other layout (concatenated documents, an array, comments): its first record
        rec = first_record(h)
        if isinstance(rec, dict):
            return json_kind(rec)
    return None


def json_kind(obj: dict[str, Any]) -> str | None:
    """The source for a file whose first record is `obj`; None for CloudTrail / JSON lines."""
    if "service" in obj and "operation" in obj:
        return None  # the default JSON-lines shape
    if obj.get("detail-type") == envelopes.CLOUDTRAIL_DETAIL_TYPE:
        return CLOUDTRAIL  # EventBridge's copy of a CloudTrail record (`sources.envelopes`)
    if any(k in obj for k in _CLOUDTRAIL_KEYS):
        return None
    records = obj.get("Records")
    if isinstance(records, list):
        first = records[0] if records else None
        if isinstance(first, dict) and (
            first.get("eventSource") == "aws:kinesis"
            or isinstance(first.get("kinesis"), dict)
            or ("SequenceNumber" in first and "Data" in first)
        ):
            return KINESIS
        return None
    if "protoPayload" in obj:
        return GCP_AUDIT
    if any(
        k in obj for k in ("InputInformation", "FaceSearchResponse", "StreamProcessorInformation")
    ):
        return KINESIS
    if isinstance(obj.get("records"), list) or ("resourceId" in obj and "operationName" in obj):
        return AZURE_MONITOR
    topic = obj.get("topic")
    if isinstance(topic, str) and topic.startswith("double-take/"):
        return DOUBLETAKE
    if isinstance(topic, str) and topic.endswith("/tracked_object_update"):
        return FRIGATE
    if (
        isinstance(obj.get("type"), str)
        and "camera" in obj
        and "id" in obj
        and ("name" in obj or "timestamp" in obj)
        and "request" not in obj
    ):
        return FRIGATE
    if ha_events.is_event(obj):
        return HA_EVENTS
    if rekognition_response.operation_of(obj) is not None:
        return REKOGNITION_RESPONSE
    if "camera" in obj and "attempts" in obj and any(k in obj for k in ("match", "matches")):
        return DOUBLETAKE
    if looks_like_json_access(obj):
        return HTTPLOG
    return None


def wrapper(ext: str, head: bytes, known_ext: frozenset[str]) -> str | None:
    """`wrapped` when the file's lines are wrapped (container prefixes, CRI, Docker json-file,
    journald, syslog, the Lambda runtime) or it is a CloudWatch Logs export; else None."""
    return WRAPPED if wrapper_kind(ext, head, known_ext) is not None else None


def wrapper_kind(ext: str, head: bytes, known_ext: frozenset[str]) -> str | None:
    """The peeler the file's lines are wrapped in (`cloudwatch` for an export), or None.

    Any extension: `docker logs > recogniser.out` has none of ours. A `.json*` file is only a
    CloudWatch export or journald/Docker JSON lines (it cannot hold container prefixes)."""
    from auditor.sources import peel, wrapped

    h = head.lstrip()
    if not h:
        return None
    if h[:1] in (b"{", b"[") and wrapped.cloudwatch_records(first_doc(h)):
        return "cloudwatch"
    found = peel.detect(head, wrapped.readable)
    if found is None:
        return None
    if ext in known_ext - {"log", "txt"} and found not in ("docker_json", "journald"):
        return None
    return found


def configured(name: str, path: str, settings: SourceSettings) -> str:
    """`name`, unless audit.toml already describes this file for the generic source.

    A `[[text]]` pattern or a `[[jsonl]]` field mapping whose glob names the file explicitly is
    the user's statement of its shape, so a content guess does not override it.
    """
    if (name in (HTTPLOG, WRAPPED) or name in APP_LOGS) and any(
        p.glob != "*" and fnmatch.fnmatchcase(path, p.glob) for p in settings.text_patterns
    ):
        return "text"
    name_part = path[:-3] if path.endswith(".gz") else path
    if name_part.rsplit(".", 1)[-1].lower() in ("json", "jsonl", "ndjson"):
        mapping = settings.mapping_for(path)
        if mapping is not None and mapping.glob != "*":
            return "jsonl"
    return name


def _loads(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
