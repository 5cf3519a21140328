"""Generic JSON-lines pipeline logs.

Default shape, one object per line: `time` (ISO-8601), `principal`, `service`, `operation`, and
optionally `frame` / `frames` (bundle-relative paths or S3 URIs), `outcome`, `event_id`,
`purpose`, `case_ref`, `authorisation_ref`, `public_post_id`, `modality` — and any other scalar
field, which is kept as an attribute rules can ask for (country, camera, reviewers, ...).
Other shapes are read through a `[[jsonl]]` field mapping in audit.toml (dotted paths). The
file may be in any JSON layout (`jsonany`: pretty-printed, concatenated, arrays, comments).
"""

from __future__ import annotations

from typing import Any

from auditor.catalogue.operations import canonical_service, classify
from auditor.catalogue.outcomes import FAILED_VALUES
from auditor.core.errors import InputIssue
from auditor.core.models import Event, Notice, OperationKind, Principal
from auditor.core.timefmt import parse_time
from auditor.sources import jsonany
from auditor.sources.base import FileResult, HashingStream, ReadJob, frame_refs

NAME = "jsonl"

_CORE = ("time", "principal", "service", "operation")
_FAILED = FAILED_VALUES | {"false"}


def _get(obj: dict[str, Any], path: str) -> Any:
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


class JsonLinesSource:
    """See `Source.read`."""

    name = NAME

    def read(self, job: ReadJob, stream: HashingStream, result: FileResult) -> None:
        """See `Source.read`."""
        state: dict[str, Any] = {}
        for obj, lineno, index in jsonany.records(stream, result):
            self.read_record(job, obj, lineno, index, result, state)

    def read_record(
        self,
        job: ReadJob,
        obj: Any,
        lineno: int | None,
        index: int | None,
        result: FileResult,
        state: dict[str, Any],
    ) -> None:
        """One record (from `read`, or from a wrapper: `sources.wrapped`)."""
        fields, mapped_paths = _mapping(job, state)
        if not isinstance(obj, dict):
            what = "line" if index is None else "record"
            result.issues.append(
                InputIssue(result.path, f"{what} is not a JSON object", line=lineno, record=index)
            )
            return

        def field(name: str, obj: dict[str, Any] = obj) -> Any:
            return _get(obj, fields[name]) if name in fields else obj.get(name)

        core = [field(n) for n in _CORE]
        missing = [n for n, v in zip(_CORE, core, strict=True) if v is None or v == ""]
        if missing:
            shown = ", ".join(fields.get(n, n) for n in missing)
            result.issues.append(
                InputIssue(result.path, f"missing field(s): {shown}", line=lineno, record=index)
            )
            return
        raw_time, principal, service, operation = (str(v) if i else v for i, v in enumerate(core))
        result.records += 1
        kind = classify(service, operation)
        if kind is None:
            return
        try:
            when = parse_time(raw_time, job.settings.timezone)
        except (ValueError, TypeError):
            result.records -= 1
            result.issues.append(
                InputIssue(result.path, f"bad time {raw_time!r}", line=lineno, record=index)
            )
            return
        refs = _refs(field("frame"), field("frames"))
        outcome_raw = field("outcome")
        outcome = "failed" if str(outcome_raw).lower() in _FAILED else "succeeded"
        if outcome_raw is None:
            outcome = "succeeded"
        attrs = _attributes(obj, fields, mapped_paths)
        event_id = field("event_id")
        event = Event(
            source=NAME,
            file=result.path,
            time=when,
            service=canonical_service(service),
            operation=operation,
            kind=kind,
            principal=Principal(id=principal),
            line=lineno,
            record=index,
            event_id=str(event_id) if event_id is not None else None,
            outcome=outcome,
            error_code=str(field("error_code")) if field("error_code") is not None else None,
            frames=frame_refs(job, refs, result, lineno, index),
            attributes=attrs,
        )
        result.events.append(event)
        if kind is OperationKind.SUSPECTED_FACE_MATCHING:
            result.notices.append(
                Notice(
                    result.path,
                    f"{service} {operation} looks like face "
                    "matching but is not in the operation catalogue",
                    line=lineno,
                    record=index,
                    event_id=event.event_id,
                )
            )


def _mapping(job: ReadJob, state: dict[str, Any]) -> tuple[dict[str, str], set[str]]:
    """The file's `[[jsonl]]` field mapping (ours -> their dotted path) and the paths it maps,
    looked up on the file's first record and kept in `state` for the rest of it."""
    if "fields" not in state:
        mapping = job.settings.mapping_for(job.path)
        state["fields"] = dict(mapping.fields) if mapping else {}
        state["paths"] = set(state["fields"].values())
    return state["fields"], state["paths"]


_SKIP = {
    "time",
    "principal",
    "service",
    "operation",
    "frame",
    "frames",
    "outcome",
    "event_id",
    "error_code",
}


def _attributes(
    obj: dict[str, Any], fields: dict[str, str], mapped_paths: set[str]
) -> tuple[tuple[str, str], ...]:
    out: dict[str, str] = {}
    for key, value in obj.items():
        if key in _SKIP or key in mapped_paths or isinstance(value, dict):
            continue
        if isinstance(value, list):
            out[key] = ",".join(str(v) for v in value)
        elif value is not None:
            out[key] = str(value)
    for ours, theirs in fields.items():
        if ours in _SKIP:
            continue
        value = _get(obj, theirs)
        if value is not None:
            out[ours] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return tuple(sorted(out.items()))


def _refs(one: Any, many: Any) -> list[str]:
    refs: list[str] = []
    if isinstance(one, str) and one:
        refs.append(one)
    if isinstance(many, list):
        refs.extend(str(r) for r in many if isinstance(r, str) and r)
    elif isinstance(many, str) and many:
        refs.append(many)
    return refs


SOURCE = JsonLinesSource()
