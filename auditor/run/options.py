"""What an audit is asked to do (`AuditOptions`) and what it gives back (`AuditResult`).

Its own module so the frame pass, verify and the command line can name them without importing
the orchestration that uses them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from auditor.core.defaults import MAX_UPSAMPLE, PROBE_TOLERANCE, PROBE_TOLERANCE_RANGE, UPSAMPLE
from auditor.core.errors import ConfigError, InputIssue
from auditor.core.gate import FAIL_ON
from auditor.core.models import Finding, Notice
from auditor.faces.detectors import DETECTORS
from auditor.faces.kernels import KERNELS
from auditor.run.executors.base import DEFAULT_SCHEDULER_TIMEOUT
from auditor.run.spool import Scratch, SortedSpool


def worker_count(requested: int) -> int:
    """`--workers 0` (default) means one process per core."""
    return requested if requested > 0 else (os.cpu_count() or 1)


#: What `frames` may be: the referenced frames, every frame, or none (--no-frames).
FRAME_MODES = ("referenced", "all", "none")


@dataclass(frozen=True)
class AuditOptions:
    """What to audit and how; the command line fills it from its flags."""

    policies: tuple[str, ...] = ()
    workers: int = 0  # 0: one per core
    frames: str = "referenced"  # referenced | all | none
    fail_on: str = "low"  # low | medium | high | critical | never
    face_upsample: int = UPSAMPLE
    face_kernel: str | None = None  # None: the default descriptor kernel (auditor.faces.kernels)
    face_detector: str | None = None  # None: the default detector (auditor.faces.detectors)
    probe_tolerance: float = PROBE_TOLERANCE
    use_cache: bool = True
    store_url: str | None = None  # None: do not record the run
    #: The face cache's database when the run is not recorded (`store_url` None): `--no-store`
    #: audits keep their cache there (`core.cachedir.face_cache_url`). None: no cache then.
    cache_url: str | None = None
    baseline: str | None = None  # baseline file: accepted findings do not fail the gate
    scheduler: str | None = None  # Dask scheduler address or "local"; None: local processes
    scheduler_timeout: float = DEFAULT_SCHEDULER_TIMEOUT
    scheduler_file: str | None = None  # a Dask scheduler file (dask-jobqueue, dask-mpi)
    require_frames: bool = False  # a referenced frame absent from the bundle is an input error
    fail_on_undecided: bool = False  # "cannot decide" entries fail the gate too

    def __post_init__(self) -> None:
        """The ranges the command line offers, checked again here: options also come from a
        stored report (`verify`), and a value the command line refuses must not reach the engine
        that way (upsample 4 costs minutes and gigabytes per frame)."""
        problems = option_problems(self)
        if problems:
            raise ConfigError("; ".join(problems))


def option_problems(options: AuditOptions) -> list[str]:
    """What is wrong with `options`, as `field: message` lines (empty when all is well)."""
    out: list[str] = []

    def is_int(value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    if not is_int(options.workers) or options.workers < 0:
        out.append(f"workers: must be a whole number of at least 0, not {options.workers!r}")
    if options.frames not in FRAME_MODES:
        out.append(f"frames: must be one of {', '.join(FRAME_MODES)}, not {options.frames!r}")
    if options.fail_on not in FAIL_ON:
        out.append(f"fail_on: must be one of {', '.join(FAIL_ON)}, not {options.fail_on!r}")
    if not is_int(options.face_upsample) or not 0 <= options.face_upsample <= MAX_UPSAMPLE:
        out.append(
            f"upsample: must be a whole number from 0 to {MAX_UPSAMPLE}, "
            f"not {options.face_upsample!r}"
        )
    if options.face_kernel is not None and options.face_kernel not in KERNELS:
        out.append(f"kernel: must be one of {', '.join(KERNELS)}, not {options.face_kernel!r}")
    if options.face_detector is not None and options.face_detector not in DETECTORS:
        out.append(
            f"detector: must be one of {', '.join(DETECTORS)}, not {options.face_detector!r}"
        )
    low, high = PROBE_TOLERANCE_RANGE
    tolerance: object = options.probe_tolerance  # from a report: any JSON value
    if not isinstance(tolerance, int | float) or isinstance(tolerance, bool):
        out.append(f"probe_tolerance: must be a number, not {tolerance!r}")
    elif not low <= tolerance <= high:
        out.append(f"probe_tolerance: must be from {low} to {high}, not {tolerance!r}")
    undecided: object = options.fail_on_undecided
    if not isinstance(undecided, bool):
        out.append(f"fail_on_undecided: must be true or false, not {undecided!r}")
    return out


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
