"""The value types that flow through an audit: events, principals, findings, frame evidence.

All are frozen dataclasses of plain data, so they pickle cheaply between worker processes (and,
later, Dask workers) and can be compared in tests.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime


def utc_text(when: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ` with a four-digit year even before 1000 (strftime drops the zeros)."""
    return (
        f"{when.year:04d}-{when.month:02d}-{when.day:02d}T{when.hour:02d}:{when.minute:02d}:"
        f"{when.second:02d}Z"
    )


class Severity(enum.IntEnum):
    """Finding severity; ordered so `--fail-on` can compare."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        """`"high"` -> `Severity.HIGH`; raises ValueError on anything else."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of {names})") from None

    @property
    def label(self) -> str:
        """Lower-case name as written in packs and reports."""
        return self.name.lower()


class OperationKind(enum.StrEnum):
    """What a face operation does (ISO/IEC 2382-37 and EU AI Act vocabulary)."""

    FACE_DETECTION = "face_detection"
    FACE_ANALYSIS = "face_analysis"
    ENROLMENT = "enrolment"
    VERIFICATION_1TO1 = "verification_1to1"
    IDENTIFICATION_1TON = "identification_1toN"
    PERSISTENT_TRACKING = "persistent_tracking"
    #: Inferring emotions or intentions from a face (EU AI Act Art. 3(39), 5(1)(f)).
    EMOTION_RECOGNITION = "emotion_recognition"
    #: Assigning people to categories from biometric data (EU AI Act Art. 3(40), 5(1)(g)).
    BIOMETRIC_CATEGORISATION = "biometric_categorisation"
    FOOTAGE_REQUEST = "footage_request"
    PUBLIC_POST = "public_post"
    #: A request for, grant or refusal of an authorisation (warrant, court order, 5(3) AI Act).
    AUTHORISATION = "authorisation"
    #: A person reviewing a match result (the policy engine counts distinct reviewers).
    HUMAN_REVIEW = "human_review"
    SUSPECTED_FACE_MATCHING = "suspected_face_matching"
    OTHER = "other"


#: Kinds that compare or store identities: these make an event a "face operation".
MATCHING_KINDS = frozenset(
    {
        OperationKind.ENROLMENT,
        OperationKind.VERIFICATION_1TO1,
        OperationKind.IDENTIFICATION_1TON,
        OperationKind.PERSISTENT_TRACKING,
        OperationKind.SUSPECTED_FACE_MATCHING,
    }
)


@dataclass(frozen=True)
class Principal:
    """Who acted, as attributed through principals.toml (`unknown` when nothing matched)."""

    id: str
    organisation: str = "unknown"
    category: str = "unknown"
    matched: bool = False
    #: ARNs the log gives for this identity (user/role ARN and the session issuer's ARN).
    arns: tuple[str, ...] = ()
    account: str | None = None
    #: The client IP address an access log gives (matched by `address` CIDR entries).
    address: str | None = None
    #: The principals.toml entry that gave the organisation and category, as `file:line`
    #: (None when nothing matched), so a report can show where an attribution came from.
    entry: str | None = None


#: The time of an event whose log gives none (a format without a time, a pasted response): it
#: sorts first, and the attribute `time_known = false` tells every reader the date is not real.
#: Rules never judge such an event by its date; it is "cannot decide" (`policy.engine.judge`).
NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)
TIME_KNOWN = "time_known"


@dataclass(frozen=True)
class Event:
    """One logged operation, normalised and located in its file.

    Only face-related records become Events (every record is still counted); the parse cost of
    the background traffic stays a dictionary lookup.
    """

    source: str
    file: str
    time: datetime
    service: str
    operation: str
    kind: OperationKind
    principal: Principal
    record: int | None = None
    line: int | None = None
    event_id: str | None = None
    outcome: str = "succeeded"
    error_code: str | None = None
    frames: tuple[str, ...] = ()
    #: Optional fields rules may ask for (purpose, case_ref, authorisation_ref, modality, ...).
    attributes: tuple[tuple[str, str], ...] = ()
    #: The line the record starts on, where `line` does not say it: a record of a document
    #: written on several lines is located by its index (`line` None), and this is for people
    #: and code-scanning views only (finding ids and evidence archives use `line`/`record`).
    start_line: int | None = None

    @property
    def untimed(self) -> bool:
        """True for a call whose log gives no time (dated `NO_TIME`): no rule can place it."""
        return self.attr(TIME_KNOWN) == "false"

    def attr(self, name: str) -> str | None:
        """The optional field `name`, or None when the log did not carry it."""
        for key, value in self.attributes:
            if key == name:
                return value
        return None

    @property
    def attempted_only(self) -> bool:
        """True for calls that failed: still an act under a moratorium, reported as an attempt."""
        return self.outcome != "succeeded"


@dataclass(frozen=True)
class FrameEvidence:
    """What the frame pass found in one referenced frame (no descriptors, ever)."""

    path: str
    sha256: str | None
    faces: int | None
    persons: tuple[str, ...] = ()
    error: str | None = None
    #: Face boxes in face_recognition's (top, right, bottom, left) pixel order (for thumbnails).
    boxes: tuple[tuple[int, int, int, int], ...] = ()
    #: analysed | missing (not in the bundle: frames are samples) | unreadable | not_analysed
    status: str = "analysed"
    #: The person label of each box, in box order ("" for a face not clustered).
    box_persons: tuple[str, ...] = ()
    #: (probe name, index of the box it matched) for each probe person found in the frame.
    probe_boxes: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class ProbeHit:
    """A consenting person's probe photo matched a face in a finding's frames."""

    name: str
    distance: float


@dataclass(frozen=True)
class Finding:
    """One rule of one pack broken by one (or, for duties, several) events."""

    id: str
    pack: str
    pack_version: str
    rule: str
    severity: Severity
    title: str
    message: str
    events: tuple[Event, ...]
    attempt: bool = False
    confidence: str = "P"
    frames: tuple[FrameEvidence, ...] = ()
    probes: tuple[ProbeHit, ...] = ()

    @property
    def sort_key(self) -> tuple[str, str, int, int, str, str]:
        """Deterministic order: time, file, record, line, pack, rule."""
        first = self.events[0]
        return (
            first.time.isoformat(),
            first.file,
            first.record if first.record is not None else -1,
            first.line if first.line is not None else -1,
            self.pack,
            self.rule,
        )


@dataclass
class InputFile:
    """One input file as recorded in the report and the store (mutable while it is read)."""

    path: str
    kind: str
    sha256: str = ""
    records: int = 0
    errors: int = 0
    source: str | None = None


@dataclass
class Notice:
    """A face-like operation the catalogue does not know, or another thing a reader should see."""

    file: str
    message: str
    record: int | None = None
    line: int | None = None
    event_id: str | None = None
