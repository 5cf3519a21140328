"""What an audit is asked to do (`AuditOptions`) and what it gives back (`AuditResult`).

Its own module so the frame pass, verify and the command line can name them without importing
the orchestration that uses them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auditor.core.defaults import PROBE_TOLERANCE, UPSAMPLE
from auditor.core.errors import InputIssue
from auditor.core.models import Finding, Notice
from auditor.run.executors.base import DEFAULT_SCHEDULER_TIMEOUT
from auditor.run.spool import Scratch, SortedSpool


@dataclass(frozen=True)
class AuditOptions:
    """What to audit and how; the command line fills it from its flags."""

    policies: tuple[str, ...] = ()
    workers: int = 0  # 0: one per core
    frames: str = "referenced"  # referenced | all | none
    fail_on: str = "low"  # low | medium | high | critical | never
    face_upsample: int = UPSAMPLE
    face_kernel: str | None = None  # None: the default descriptor kernel (auditor.faces.kernels)
    probe_tolerance: float = PROBE_TOLERANCE
    use_cache: bool = True
    store_url: str | None = None  # None: do not record the run
    baseline: str | None = None  # baseline file: accepted findings do not fail the gate
    scheduler: str | None = None  # Dask scheduler address or "local"; None: local processes
    scheduler_timeout: float = DEFAULT_SCHEDULER_TIMEOUT
    require_frames: bool = False  # a referenced frame absent from the bundle is an input error
    fail_on_undecided: bool = False  # "cannot decide" entries fail the gate too


@dataclass
class AuditResult:
    """Everything an audit produced, ready for reporters and the store.

    `report["findings"]` and `findings` are read from spill files: render the report before
    `close`, which deletes them.
    """

    report: dict[str, Any]
    findings: SortedSpool[Finding]
    issues: list[InputIssue]
    exit_code: int
    run_id: str
    notices: list[Notice] = field(default_factory=list)
    #: Things the command line shows on stderr (expired baseline entries).
    warnings: list[str] = field(default_factory=list)
    scratch: Scratch | None = None

    def close(self) -> None:
        """Delete the audit's spill files."""
        if self.scratch is not None:
            self.scratch.close()
