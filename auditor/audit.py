"""Run one audit: bundle -> sources -> events -> policy engine -> frame evidence -> report -> store.

This module orchestrates and never prints: progress goes through a callback, and the result is
plain data that the command line renders. Parsing and the frame pass run on an executor
(`auditor.executor`), so this module does not care whether a job runs in this process, in a pool
of worker processes or on a Dask cluster.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor import principals as principals_mod
from auditor.bundle import PRINCIPALS_TOML, Bundle, display_name, open_bundle
from auditor.errors import InputIssue
from auditor.executor import DEFAULT_SCHEDULER_TIMEOUT, Executor, open_executor
from auditor.models import Event, Finding, InputFile, Notice, Severity
from auditor.policy import Pack, evaluate, resolve
from auditor.report.build import build_report
from auditor.sources import FileResult, ReadJob, read_file

Progress = Callable[[str, int, int], None]

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3


@dataclass(frozen=True)
class AuditOptions:
    """What to audit and how; the command line fills it from its flags."""

    policies: tuple[str, ...] = ()
    workers: int = 0  # 0: one per core
    frames: str = "referenced"  # referenced | all | none
    fail_on: str = "low"  # low | medium | high | critical | never
    face_upsample: int = 1
    probe_tolerance: float = 0.6
    use_cache: bool = True
    store_url: str | None = None  # None: do not record the run
    baseline: str | None = None  # baseline file: accepted findings do not fail the gate
    scheduler: str | None = None  # Dask scheduler address or "local"; None: local processes
    scheduler_timeout: float = DEFAULT_SCHEDULER_TIMEOUT
    require_frames: bool = False  # a referenced frame absent from the bundle is an input error
    fail_on_undecided: bool = False  # "cannot decide" entries fail the gate too


@dataclass
class AuditResult:
    """Everything an audit produced, ready for reporters and the store."""

    report: dict[str, Any]
    findings: list[Finding]
    issues: list[InputIssue]
    exit_code: int
    run_id: str
    notices: list[Notice] = field(default_factory=list)
    #: Things the command line shows on stderr (expired baseline entries).
    warnings: list[str] = field(default_factory=list)


def worker_count(requested: int) -> int:
    """`--workers 0` (default) means one process per core."""
    return requested if requested > 0 else (os.cpu_count() or 1)


def compute_exit_code(findings: Iterable[Finding], incomplete: bool, fail_on: str,
                      suppressed: frozenset[str] = frozenset(), undecided: int = 0,
                      fail_on_undecided: bool = False) -> int:
    """0 clean, 1 findings at or above `fail_on`, 3 incomplete (takes precedence over 1).

    Findings whose id is in `suppressed` (a live baseline entry) never fail the gate. With
    `fail_on_undecided`, any "cannot decide" entry fails it too (whatever `fail_on` says): a
    gate that must not pass what it could not judge.
    """
    if incomplete:
        return EXIT_INCOMPLETE
    if fail_on_undecided and undecided:
        return EXIT_FINDINGS
    if fail_on == "never":
        return EXIT_OK
    threshold = Severity.parse(fail_on)
    return EXIT_FINDINGS if any(f.severity >= threshold and f.id not in suppressed
                                for f in findings) else EXIT_OK


def load_config(bundle_path: Path) -> tuple[Bundle, principals_mod.Directory]:
    """Open the bundle and read principals.toml: both raise ConfigError (exit 2) when bad."""
    bundle = open_bundle(bundle_path)
    path = bundle.config_path(PRINCIPALS_TOML)
    directory = (principals_mod.load(path, PRINCIPALS_TOML) if path is not None
                 else principals_mod.Directory())
    return bundle, directory


def run_audit(bundle_path: Path, options: AuditOptions,
              progress: Progress | None = None, packs: list[Pack] | None = None) -> AuditResult:
    """Audit one bundle. Raises ConfigError for bad config or packs, before reading any log,
    and SchedulerError when --scheduler is given and the cluster cannot be used.

    `packs` (already loaded) replaces `options.policies`: `verify` re-runs with the exact packs
    a report used.
    """
    executor = open_executor(options.scheduler, worker_count(options.workers),
                             options.scheduler_timeout)
    try:
        return _run_audit(bundle_path, options, progress, packs, executor)
    finally:
        executor.close()


def _run_audit(bundle_path: Path, options: AuditOptions, progress: Progress | None,
               packs: list[Pack] | None, executor: Executor) -> AuditResult:
    started = datetime.now(UTC)
    if packs is None:
        packs = resolve(list(options.policies))
    bundle, directory = load_config(bundle_path)
    accepted = None
    if options.baseline is not None:
        from auditor import baseline as baseline_mod

        accepted = baseline_mod.load(Path(options.baseline))
    workers = worker_count(options.workers)
    executor.share(bundle.root)

    log_paths, issues = _log_files(bundle)
    jobs = [ReadJob(str(bundle.root), rel, "auto", bundle.settings) for rel in log_paths]
    results: list[FileResult] = []
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("logs", done, len(jobs))

    results.extend(executor.map(read_file, jobs, step))

    events: list[Event] = []
    inputs: list[InputFile] = []
    notices: list[Notice] = []
    records = 0
    for res in results:
        records += res.records
        issues.extend(res.issues)
        notices.extend(res.notices)
        events.extend(directory.attribute(e) for e in res.events)
        inputs.append(InputFile(res.path, "log", res.sha256, res.records, len(res.issues),
                                res.source))
    inputs.extend(_config_inputs(bundle, packs))

    evaluation = evaluate(events, packs)
    findings = list(evaluation.findings)

    frame_summary: dict[str, Any] = {}
    run_facts: dict[str, Any] = {"workers": workers, **executor.describe()}
    face_engine: dict[str, Any] = {}
    probes_report: list[dict[str, Any]] = []
    if options.frames != "none":
        from auditor.evidence import attach_frame_evidence

        outcome = attach_frame_evidence(bundle, findings, events, options, workers, progress,
                                        executor)
        findings = outcome.findings
        inputs.extend(outcome.inputs)
        issues.extend(outcome.issues)
        notices.extend(outcome.notices)
        frame_summary = outcome.summary
        probes_report = outcome.probes
        run_facts.update(outcome.run)
        face_engine = outcome.engine

    suppressed: frozenset[str] = frozenset()
    warnings: list[str] = []
    if accepted is not None:
        from auditor import baseline as baseline_mod

        applied = baseline_mod.apply(accepted, (f.id for f in findings), started.date())
        suppressed = applied.suppressed
        warnings = applied.warnings()
        notices.extend(Notice(accepted.path, w) for w in warnings)
    incomplete = bool(issues)
    exit_code = compute_exit_code(findings, incomplete, options.fail_on, suppressed,
                                  len(evaluation.undecided), options.fail_on_undecided)
    run_id = uuid.uuid4().hex
    report = build_report(
        run_id=run_id, started=started, finished=datetime.now(UTC), bundle=bundle,
        packs=packs, inputs=inputs, records=records, events=events, findings=findings,
        excused=len(evaluation.excused), issues=issues, notices=notices,
        frame_summary=frame_summary, probes=probes_report, run_facts=run_facts,
        face_engine=face_engine,
        baselined=suppressed,
        undecided=evaluation.undecided,
        settings={"fail_on": options.fail_on, "fail_on_undecided": options.fail_on_undecided,
                  "frames": options.frames,
                  "probe_tolerance": options.probe_tolerance,
                  "baseline": Path(options.baseline).name if options.baseline else None},
    )
    if options.store_url is not None:
        from auditor.store import Store

        Store(options.store_url).save_run(report, display_name(str(bundle.root)), exit_code)
    return AuditResult(report, findings, issues, exit_code, run_id, notices, warnings)


def _log_files(bundle: Bundle) -> tuple[list[str], list[InputIssue]]:
    """Every file under logs/, each checked to stay inside the bundle and to be a regular file
    (a FIFO would block the reader); an empty or absent logs/ is nothing to audit."""
    paths, issues = bundle.entries("logs")
    if not (bundle.root / "logs").is_dir():
        issues.append(InputIssue("logs/", "the bundle has no logs/ folder: nothing to audit"))
    elif not paths and not issues:
        issues.append(InputIssue("logs/", "the logs/ folder is empty: nothing to audit"))
    return paths, issues


def _config_inputs(bundle: Bundle, packs: list[Pack]) -> list[InputFile]:
    """Hashes of the packs and of the bundle's own config files (NGOs re-run from these)."""
    import hashlib

    out = []
    for name in ("audit.toml", "principals.toml"):
        path = bundle.root / name
        if path.is_file():
            out.append(InputFile(name, "config", hashlib.sha256(path.read_bytes()).hexdigest()))
    out.extend(InputFile(p.path, "pack", p.sha256, len(p.rules)) for p in packs)
    return out
