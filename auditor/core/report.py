"""The typed model of the JSON report, `auditor.report/v1`: the one owner of its shape.

The report is written streaming (findings never all in memory), so the writer does not build
these models; they are what a report *is*: `docs/report.md`'s key tables are checked against
them, the JSON Schema shipped in the package is generated from them (`report_schema`), and
everything that reads a report it did not just make (a stored run, a report inside an evidence
archive) validates it here first (`load_report`), so a malformed or hostile document is one
located error instead of a KeyError deep in a reporter.

Models are frozen and forbid unknown keys: a key the writer adds must be added here, or the
tests that validate the goldens and the demo fail. `upgrade` turns documents stored by older
releases into the current shape before validation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from auditor.core.report_upgrade import upgrade

SCHEMA = "auditor.report/v1"

__all__ = [
    "SCHEMA",
    "Report",
    "ReportHead",
    "ReportShapeError",
    "load_report",
    "load_untrusted",
    "pack_id_ok",
    "report_schema",
    "upgrade",
]


def pack_id_ok(pid: str) -> bool:
    """A pack id usable as a file name: letters, digits, `-_.` (as the pack loader allows), not
    starting with a dot, at most 200 characters; so `packs/<id>.toml` never leaves its folder."""
    return (
        0 < len(pid) <= 200
        and not pid.startswith(".")
        and all(ch.isalnum() or ch in "-_." for ch in pid)
    )


def _pack_id(pid: str) -> str:
    if not pack_id_ok(pid):
        raise ValueError(f"{pid!r} is not a pack id")
    return pid


#: A SHA-256 as the report writes it (an archive's file names and hashes are built from these).
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
#: An input's SHA-256, or "" for an input that was refused before it could be hashed (a log a
#: cluster worker saw with other bytes, a frame outside the bundle).
InputSha256 = Annotated[str, Field(pattern=r"^(?:[0-9a-f]{64})?$")]
PackId = Annotated[str, AfterValidator(_pack_id)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Tool(_Model):
    """Which program wrote the report."""

    name: str
    version: str


class Spilled(_Model):
    """What a large audit wrote to disk on the way (sorted runs, waiting files)."""

    findings_runs: int
    waiting_files: int


class Run(_Model):
    """The one block that differs between identical audits."""

    id: str
    started: str
    finished: str
    status: Literal["complete", "incomplete"]
    workers: int
    spilled: Spilled
    frames_from_cache: int | None = None
    frames_computed: int | None = None
    executor: str | None = None
    scheduler: str | None = None
    dask_workers: int | None = None
    dask_threads: int | None = None


class BundleInfo(_Model):
    """The audited bundle, by name only (paths in a report are bundle-relative)."""

    name: str


class Settings(_Model):
    """The options that change the verdict or the evidence (re-checked by `verify`)."""

    fail_on: str
    fail_on_undecided: bool
    frames: Literal["referenced", "all", "none"]
    probe_tolerance: float
    baseline: str | None


class InputEntry(_Model):
    """One file that was read, with its hash."""

    path: str
    kind: Literal["log", "frame", "probe", "pack", "config"]
    sha256: InputSha256
    records: int
    errors: int
    source: str | None


class PackSource(_Model):
    """A source a pack cites, with its confidence mark (P primary, S secondary, U unverified)."""

    id: str
    title: str
    url: str
    confidence: str


class PackRule(_Model):
    """A rule's metadata, so reports can list rules that did not fire."""

    id: str
    title: str
    severity: str
    confidence: str
    kind: str
    cite: tuple[str, ...]
    #: The rule's own period, when it differs from the pack's (absent in older stored runs).
    effective_from: str | None = None
    effective_until: str | None = None
    #: Ids of the exceptions the engine checks before a finding stands.
    exceptions: tuple[str, ...] = ()


class PackEntry(_Model):
    """A policy pack used by the run."""

    id: PackId
    version: str
    sha256: Sha256
    path: str
    status: str
    title: str
    citation: str
    sources: tuple[PackSource, ...]
    rules: tuple[PackRule, ...]
    #: The effective period (from inclusive, until exclusive; until null = open-ended), its
    #: confidence mark and the zone whose calendar the dates follow (absent in older runs).
    effective_from: str | None = None
    effective_until: str | None = None
    dates_confidence: str | None = None
    timezone: str | None = None


class SeverityCounts(_Model):
    """Findings per severity."""

    critical: int
    high: int
    medium: int
    low: int


class Summary(_Model):
    """Counts over the whole run."""

    events: int
    face_operations: int
    kinds: dict[str, int]
    findings: SeverityCounts
    attempts: int
    baselined: int
    excused: int
    cannot_decide: int
    cannot_decide_by_pack: dict[str, int]
    unknown_principals: int
    suspected_face_matching: int
    frames_analysed: int
    frames_missing: int
    faces_detected: int
    persons: int
    errors: int
    person_threshold: float | None = None
    probe_tolerance: float | None = None


class UndecidedSample(_Model):
    """One event a rule could not decide (the first few of a group)."""

    file: str
    record: int | None
    line: int | None
    #: The line the record starts on (a record of a multi-line document too); None in runs
    #: stored before it was written, and where the source cannot tell.
    start_line: int | None = None
    event_id: str | None
    time: str
    principal: str
    organisation: str
    category: str
    service: str
    operation: str
    kind: str


class EventRef(UndecidedSample):
    """One event of a finding, located in its log: the sample's fields and what the log said
    of its source, outcome, frames and optional attributes."""

    source: str
    outcome: str
    error_code: str | None
    frames: tuple[str, ...]
    attributes: dict[str, str]
    #: The principals.toml entry (`principals.toml:12`) that gave organisation and category;
    #: null when none matched (absent in runs stored before it was recorded).
    principal_entry: str | None = None


class ProbeBox(_Model):
    """A probe person found in a frame, and the face box (index into `boxes`) that matched."""

    name: str
    box: int


class FrameRef(_Model):
    """What one frame of a finding showed (positions only, never descriptors)."""

    path: str
    sha256: str | None
    faces: int | None
    persons: tuple[str, ...]
    boxes: tuple[tuple[int, int, int, int], ...]
    status: Literal["analysed", "missing", "unreadable", "not_analysed"]
    error: str | None
    #: The person label of each box, in box order (absent in runs stored before it existed).
    box_persons: tuple[str, ...] = ()
    #: Which box each probe person found in the frame matched.
    probe_boxes: tuple[ProbeBox, ...] = ()


class ProbeRef(_Model):
    """A consenting person's probe found in a finding's frames."""

    name: str
    distance: float


class Finding(_Model):
    """One rule of one pack broken by one (or, for duties, several) events."""

    id: str
    pack: str
    pack_version: str
    rule: str
    severity: Literal["critical", "high", "medium", "low"]
    confidence: str
    attempt: bool
    baselined: bool
    title: str
    message: str
    events: tuple[EventRef, ...]
    frames: tuple[FrameRef, ...]
    probes: tuple[ProbeRef, ...]


class Undecided(_Model):
    """Events one rule could not decide for one reason (never a pass, never a finding)."""

    pack: str
    rule: str
    reason: str
    missing: tuple[str, ...]
    count: int
    sample: tuple[UndecidedSample, ...]


class NoticeEntry(_Model):
    """Something a reader should see that is neither a finding nor an error."""

    file: str
    line: int | None
    record: int | None
    event_id: str | None
    message: str


class ProbeSummary(_Model):
    """A probe folder and the events whose frames showed that person."""

    name: str
    event_ids: tuple[str, ...]


class FaceEngine(_Model):
    """What an NGO must re-run to get the same faces."""

    fingerprint: str
    build: dict[str, str | int | bool | None]
    params: dict[str, str | int | float | bool | None]


class ErrorEntry(_Model):
    """One unreadable record, line, file or frame."""

    file: str
    line: int | None
    record: int | None
    message: str


class ReportHead(_Model):
    """Everything of a report but its findings: small, so it is validated whole, while the
    findings (millions, streamed) are validated one by one (`reportdoc.TypedReport`)."""

    schema_: Literal["auditor.report/v1"] = Field(alias="schema")
    tool: Tool
    run: Run
    bundle: BundleInfo
    settings: Settings
    inputs: tuple[InputEntry, ...]
    packs: tuple[PackEntry, ...]
    summary: Summary
    undecided: tuple[Undecided, ...]
    notices: tuple[NoticeEntry, ...]
    probes: tuple[ProbeSummary, ...]
    face_engine: FaceEngine | None
    errors: tuple[ErrorEntry, ...]


class Report(ReportHead):
    """A whole `auditor.report/v1` document."""

    findings: tuple[Finding, ...]


class ReportShapeError(ValueError):
    """A report document that is not `auditor.report/v1`: each problem with its JSON path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _path(loc: Iterable[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def problems(
    error: ValidationError, limit: int = 10, root: tuple[int | str, ...] = ()
) -> list[str]:
    """`path: message` for the first `limit` problems pydantic found (paths under `root`)."""
    out = [f"{_path((*root, *e['loc']))}: {e['msg']}" for e in error.errors()[:limit]]
    if error.error_count() > limit:
        out.append(f"... and {error.error_count() - limit} more")
    return out


def load_report(data: object) -> Report:
    """Validate a report document (after `upgrade`); ReportShapeError lists what is wrong."""
    if not isinstance(data, Mapping):
        raise ReportShapeError([f"(document): must be an object, not {type(data).__name__}"])
    try:
        return Report.model_validate(upgrade(data))
    except ValidationError as exc:
        raise ReportShapeError(problems(exc)) from None


def load_untrusted(data: object) -> Report:
    """Like `load_report`, for a document someone else wrote (`verify`'s report, an evidence
    archive's report.json): strict, so nothing is coerced (`"7"` is not a line number, `"yes"`
    not a boolean), and every finding is checked before any of it is used."""
    if not isinstance(data, Mapping):
        raise ReportShapeError([f"(document): must be an object, not {type(data).__name__}"])
    try:
        return Report.model_validate_json(orjson.dumps(upgrade(data)), strict=True)
    except ValidationError as exc:
        raise ReportShapeError(problems(exc)) from None


def report_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of `auditor.report/v1`, generated from the models."""
    schema = Report.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://auditor.invalid/schemas/auditor.report-v1.json"
    schema["title"] = SCHEMA
    return schema
