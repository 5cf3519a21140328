"""Run one audit: bundle -> sources -> events -> policy engine -> frame evidence -> report -> store.

This module orchestrates and never prints: progress goes through a callback, and the result is
plain data that the command line renders. Parsing and the frame pass run on an executor
(`auditor.run.executors`), so this module does not care whether a job runs in this process,
in a pool of worker processes or on a Dask cluster.

Memory stays flat whatever the size of the audit: the log pass (`auditor.run.logpass`) streams
files into the policy engine and findings into a sorted spool, and the report and store stream
the sorted findings from the spool (see `auditor.run.spool`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor.config import principals as principals_mod
from auditor.config.bundle import PRINCIPALS_TOML, Bundle
from auditor.core import gate
from auditor.core.jsonstream import Lazy
from auditor.core.models import Finding, InputFile, Notice
from auditor.faces.detectors import DEFAULT_DETECTOR
from auditor.faces.kernels import DEFAULT_KERNEL
from auditor.policy import Pack, resolve
from auditor.report.build import build_report, finding_dict
from auditor.run.executors import Executor, open_executor
from auditor.run.logpass import Collected, LogListing, LogPass
from auditor.run.options import AuditOptions, AuditResult, worker_count
from auditor.run.spool import Scratch
from auditor.run.stores import LazyStore
from auditor.sources import ReadJob, open_bundle

Progress = Callable[[str, int, int], None]


def compute_exit_code(
    findings: Iterable[Finding],
    incomplete: bool,
    fail_on: str,
    suppressed: frozenset[str] = frozenset(),
    undecided: int = 0,
    fail_on_undecided: bool = False,
) -> int:
    """The gate's exit code (`core.gate`) for these findings; those whose id is in
    `suppressed` (a live baseline entry) never fail it."""
    return gate.decide(
        incomplete=incomplete,
        fail_on=fail_on,
        severities=(f.severity.label for f in findings if f.id not in suppressed),
        undecided=undecided,
        fail_on_undecided=fail_on_undecided,
    ).exit_code


def load_config(bundle_path: Path | str) -> tuple[Bundle, principals_mod.Directory]:
    """Open the bundle (folder or fsspec URL) and read principals.toml: both raise ConfigError
    (exit 2) when bad."""
    bundle = open_bundle(bundle_path)
    raw = bundle.config_bytes(PRINCIPALS_TOML)
    directory = (
        principals_mod.load(raw, PRINCIPALS_TOML) if raw is not None else principals_mod.Directory()
    )
    return bundle, directory


def run_audit(
    bundle_path: Path | str,
    options: AuditOptions,
    progress: Progress | None = None,
    packs: list[Pack] | None = None,
) -> AuditResult:
    """Audit one bundle. Raises ConfigError for bad config or packs, before reading any log,
    and SchedulerError when --scheduler is given and the cluster cannot be used.

    `packs` (already loaded) replaces `options.policies`: `verify` re-runs with the exact packs
    a report used.
    """
    executor = open_executor(
        options.scheduler,
        worker_count(options.workers),
        options.scheduler_timeout,
        options.face_kernel or DEFAULT_KERNEL,
        options.scheduler_file,
        options.face_detector or DEFAULT_DETECTOR,
    )
    try:
        with LazyStore(options.store_url) as store, LazyStore(_cache_url(options)) as own:
            # the face cache lives in the run's store, or in a database of its own
            cache = store if options.store_url is not None else own
            return _run_audit(bundle_path, options, progress, packs, executor, store, cache)
    finally:
        executor.close()


@dataclass(frozen=True)
class _Run:
    """What one audit was started with: the frame pass, the baseline and the report read it."""

    bundle: Bundle
    packs: list[Pack]
    options: AuditOptions
    progress: Progress | None
    started: datetime
    accepted: Any
    scratch: Scratch
    executor: Executor
    store: LazyStore
    cache: LazyStore

    @property
    def workers(self) -> int:
        return worker_count(self.options.workers)


def _run_audit(
    bundle_path: Path | str,
    options: AuditOptions,
    progress: Progress | None,
    packs: list[Pack] | None,
    executor: Executor,
    store: LazyStore,
    cache: LazyStore,
) -> AuditResult:
    started = datetime.now(UTC)
    if packs is None:
        packs = resolve(list(options.policies))
    bundle, directory = load_config(bundle_path)
    listing = LogListing(bundle, bundle_path)
    accepted = _load_baseline(options)
    executor.share(bundle.root)
    no_principals = not bundle.fs.lexists(PRINCIPALS_TOML)
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("logs", done, listing.total())

    scratch = Scratch()
    # local workers hand a big file's events back in batches through the scratch folder
    spill = str(scratch.path) if executor.local_disk() else None
    jobs = (
        ReadJob(bundle.root, rel, "auto", bundle.settings, spill, size) for rel, size in listing
    )
    try:
        logs = LogPass(packs, directory, scratch)
        logs.read(executor, jobs, step)
        got = logs.collected(listing.finish())
        got.inputs.extend(_config_inputs(bundle, packs))
        if no_principals:
            # every category rule is then "cannot decide": say why, on stderr and in the report
            got.warnings.append(
                f"no {PRINCIPALS_TOML}: {got.unattributed} face operation(s) by unattributed "
                "principals"
            )
            got.notices.append(Notice(PRINCIPALS_TOML, got.warnings[-1]))
        run = _Run(
            bundle, packs, options, progress, started, accepted, scratch, executor, store, cache
        )
        return _finish(run, got)
    except BaseException:
        scratch.close()
        raise


def _load_baseline(options: AuditOptions) -> Any:
    if options.baseline is None:
        return None
    from auditor.config import baseline as baseline_mod

    return baseline_mod.load(Path(options.baseline))


@dataclass
class _FrameFacts:
    """What the frame pass adds to the report (nothing with --frames none)."""

    decorate: Callable[[Finding], Finding] = lambda f: f
    summary: dict[str, Any] = field(default_factory=dict)
    probes: list[dict[str, Any]] = field(default_factory=list)
    engine: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)


def _frame_pass(run: _Run, got: Collected) -> _FrameFacts:
    """Frame evidence for the findings; its inputs, issues and notices join the log pass's."""
    if run.options.frames == "none":
        return _FrameFacts()
    from auditor.run.frames import attach_frame_evidence

    outcome = attach_frame_evidence(
        run.bundle,
        got.refs,
        got.found,
        run.options,
        run.workers,
        run.progress,
        run.executor,
        run.cache,
    )
    got.inputs.extend(outcome.inputs)
    got.issues.extend(outcome.issues)
    got.notices.extend(outcome.notices)
    return _FrameFacts(
        outcome.decorate, outcome.summary, outcome.probes, outcome.engine, outcome.run
    )


def _apply_baseline(run: _Run, got: Collected) -> frozenset[str]:
    """The ids a live baseline entry suppresses; its warnings join the run's and the notices."""
    if run.accepted is None:
        return frozenset()
    from auditor.config import baseline as baseline_mod

    accepted, found = run.accepted, got.found
    known = {e.fingerprint for e in accepted.entries}
    applied = baseline_mod.apply(
        accepted, (f.id for f in found if f.id in known), run.started.date()
    )
    got.warnings += applied.warnings()
    got.notices.extend(Notice(accepted.path, w) for w in applied.warnings())
    got.counts.baselined = sum(1 for f in found if f.id in applied.suppressed)
    return applied.suppressed


def _finish(run: _Run, got: Collected) -> AuditResult:
    """Frame evidence, baseline, exit code, the report (findings streamed) and the store."""
    found, options = got.found, run.options
    run_facts: dict[str, Any] = {
        "workers": run.workers,
        "spilled": {"findings_runs": found.written, "waiting_files": len(got.waiting_files)},
        **run.executor.describe(),
    }
    frames = _frame_pass(run, got)
    run_facts.update(frames.run)
    suppressed = _apply_baseline(run, got)
    exit_code = compute_exit_code(
        found,
        bool(got.issues),
        options.fail_on,
        suppressed,
        got.undecided.total,
        options.fail_on_undecided,
    )
    run_id = uuid.uuid4().hex
    findings = Lazy(
        lambda: (finding_dict(frames.decorate(f), f.id in suppressed) for f in found), len(found)
    )
    report = build_report(
        run_id=run_id,
        started=run.started,
        finished=datetime.now(UTC),
        bundle=run.bundle,
        packs=run.packs,
        inputs=got.inputs,
        records=got.records,
        tally=got.tally,
        findings=findings,
        counts=got.counts,
        excused=got.excused,
        issues=got.issues,
        notices=got.notices,
        frame_summary=frames.summary,
        probes=frames.probes,
        run_facts=run_facts,
        face_engine=frames.engine,
        undecided=got.undecided,
        settings=_settings(options),
    )
    opened = run.store()
    if opened is not None:
        opened.save_run(report, run.bundle.shown, exit_code)
    return AuditResult(
        report, found, got.issues, exit_code, run_id, got.notices, got.warnings, run.scratch
    )


def _settings(options: AuditOptions) -> dict[str, Any]:
    """The report's `settings` block: what a re-run (`verify`) needs to decide alike."""
    return {
        "fail_on": options.fail_on,
        "fail_on_undecided": options.fail_on_undecided,
        "frames": options.frames,
        "probe_tolerance": options.probe_tolerance,
        "baseline": Path(options.baseline).name if options.baseline else None,
    }


def _cache_url(options: AuditOptions) -> str | None:
    """The face cache's own database: only for a run that is not stored and uses the cache."""
    if options.store_url is not None or not options.use_cache:
        return None
    return options.cache_url


def _config_inputs(bundle: Bundle, packs: list[Pack]) -> list[InputFile]:
    """Hashes of the packs and of the bundle's own config files (NGOs re-run from these)."""
    import hashlib

    out = []
    for name in ("audit.toml", "principals.toml"):
        raw = bundle.config_bytes(name)  # read (and checked) at the start; read again to hash
        if raw is not None:
            out.append(InputFile(name, "config", hashlib.sha256(raw).hexdigest()))
    out.extend(InputFile(p.path, "pack", p.sha256, len(p.rules)) for p in packs)
    return out
