"""Run one audit: bundle -> sources -> events -> policy engine -> frame evidence -> report -> store.

This module orchestrates and never prints: progress goes through a callback, and the result is
plain data that the command line renders. Parsing and the frame pass run on an executor
(`auditor.run.executors`), so this module does not care whether a job runs in this process,
in a pool of worker processes or on a Dask cluster.

Memory stays flat whatever the size of the audit: parsed files stream in job order into the
policy engine (`Evaluator`), which judges most events at once and keeps only a keyed index of
the events linking duties look up. Events those duties judge wait in a `Spill` (on disk beyond
one batch) until every file was read, because an authorisation may be logged after the use it
covers; re-reading these waiting events is cheaper than parsing the corpus twice, and a spill is
plain files where an on-disk index would need a database for what is only a queue. Findings go
to a `SortedSpool` (external merge sort), undecided entries into per-rule counts, and the report
and store stream the sorted findings from the spool (see `auditor.run.spool`).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor.config import principals as principals_mod
from auditor.config.bundle import PRINCIPALS_TOML, Bundle, nothing_to_audit
from auditor.config.bundlefs import is_url
from auditor.core import gate
from auditor.core.errors import InputIssue
from auditor.core.jsonstream import Lazy
from auditor.core.models import MATCHING_KINDS, Event, Finding, InputFile, Notice
from auditor.faces.kernels import DEFAULT_KERNEL
from auditor.policy import Evaluator, Pack, resolve
from auditor.report.build import (
    EventTally,
    FindingCounts,
    UndecidedGroups,
    build_report,
    finding_dict,
)
from auditor.run.executors import Executor, Inputs, open_executor
from auditor.run.options import AuditOptions, AuditResult, worker_count
from auditor.run.spool import Scratch, SortedSpool, Spill
from auditor.run.stores import LazyStore
from auditor.sources import ReadJob, open_bundle, read_file
from auditor.sources.base import FileResult

Progress = Callable[[str, int, int], None]


def finding_order(f: Finding) -> tuple[Any, ...]:
    """The report order of findings (time, file, record, line, pack, rule), then the id so that
    two findings of one event and rule (different duties) never depend on arrival order."""
    return (*f.sort_key, f.id)


def _log_input(job: ReadJob) -> list[tuple[str, str, str | None]]:
    if is_url(job.root):  # an object store serves every reader the same object (see storage.md)
        return []
    return [(str(Path(job.root) / job.path), job.path, None)]


def _refuse_log(job: ReadJob, result: FileResult, bad: dict[str, str]) -> FileResult:
    """A log file a cluster worker saw with other bytes than the client: an input error, and
    nothing of what the worker read from it."""
    return FileResult(
        job.path, job.source, issues=[InputIssue(job.path, why) for why in bad.values()]
    )


#: On a cluster, each log task's file is compared with the client's view (size and end blocks).
LOG_INPUTS: Inputs[ReadJob, FileResult] = Inputs(_log_input, _refuse_log)


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
    )
    try:
        with LazyStore(options.store_url) as store, LazyStore(_cache_url(options)) as own:
            # the face cache lives in the run's store, or in a database of its own
            cache = store if options.store_url is not None else own
            return _run_audit(bundle_path, options, progress, packs, executor, store, cache)
    finally:
        executor.close()


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
    listing = _LogListing(bundle, bundle_path)
    accepted = None
    if options.baseline is not None:
        from auditor.config import baseline as baseline_mod

        accepted = baseline_mod.load(Path(options.baseline))
    workers = worker_count(options.workers)
    executor.share(bundle.root)
    no_principals = not bundle.fs.lexists(PRINCIPALS_TOML)
    unattributed = 0

    jobs = (ReadJob(bundle.root, rel, "auto", bundle.settings) for rel in listing)
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("logs", done, listing.total())

    scratch = Scratch()
    try:
        evaluator = Evaluator(packs)
        waiting: Spill[Event] = Spill(scratch, "waiting")
        found: SortedSpool[Finding] = SortedSpool(scratch, "findings", finding_order)
        counts, tally, undecided = FindingCounts(), EventTally(), UndecidedGroups()
        excused = 0
        refs: set[str] = set()  # frames referenced by face operations (one entry per frame)

        def judge(event: Event) -> None:
            nonlocal excused
            findings, exc, und = evaluator.judge(event)
            for f in findings:
                found.add(f)
                counts.add(f)
            excused += len(exc)
            for u in und:
                undecided.add(u)

        inputs: list[InputFile] = []
        notices: list[Notice] = []
        read_issues: list[InputIssue] = []
        records = 0
        for res in executor.map(read_file, jobs, step, LOG_INPUTS):
            records += res.records
            read_issues.extend(res.issues)
            notices.extend(res.notices)
            inputs.append(
                InputFile(res.path, "log", res.sha256, res.records, len(res.issues), res.source)
            )
            for raw in res.events:
                event = directory.attribute(raw)
                tally.add(event)
                if event.kind in MATCHING_KINDS:
                    refs.update(event.frames)
                    unattributed += not event.principal.matched
                evaluator.remember(event)
                if evaluator.must_wait(event):
                    waiting.add(event)
                else:
                    judge(event)
            del res
        issues = listing.finish() + read_issues
        for event in waiting:  # every linked event is known now
            judge(event)
        inputs.extend(_config_inputs(bundle, packs))
        warnings: list[str] = []
        if no_principals:
            # every category rule is then "cannot decide": say why, on stderr and in the report
            warnings.append(
                f"no {PRINCIPALS_TOML}: {unattributed} face operation(s) by unattributed principals"
            )
            notices.append(Notice(PRINCIPALS_TOML, warnings[-1]))
        return _finish(
            bundle,
            packs,
            options,
            workers,
            progress,
            started,
            accepted,
            _Collected(
                inputs,
                issues,
                notices,
                records,
                tally,
                found,
                counts,
                excused,
                undecided,
                refs,
                waiting.files,
                warnings,
            ),
            scratch,
            executor,
            store,
            cache,
        )
    except BaseException:
        scratch.close()
        raise


@dataclass
class _Collected:
    """What the log pass gathered, handed to the frame pass and the report."""

    inputs: list[InputFile]
    issues: list[InputIssue]
    notices: list[Notice]
    records: int
    tally: EventTally
    found: SortedSpool[Finding]
    counts: FindingCounts
    excused: int
    undecided: UndecidedGroups
    refs: set[str]
    waiting_files: list[Path]
    #: Said on stderr as well as in the report's notices (no principals.toml).
    warnings: list[str] = field(default_factory=list)


def _finish(
    bundle: Bundle,
    packs: list[Pack],
    options: AuditOptions,
    workers: int,
    progress: Progress | None,
    started: datetime,
    accepted: Any,
    got: _Collected,
    scratch: Scratch,
    executor: Executor,
    store: LazyStore,
    cache: LazyStore,
) -> AuditResult:
    """Frame evidence, baseline, exit code, the report (findings streamed) and the store."""
    inputs, issues, notices, found = got.inputs, got.issues, got.notices, got.found
    frame_summary: dict[str, Any] = {}
    run_facts: dict[str, Any] = {
        "workers": workers,
        "spilled": {"findings_runs": found.written, "waiting_files": len(got.waiting_files)},
        **executor.describe(),
    }
    face_engine: dict[str, Any] = {}
    probes_report: list[dict[str, Any]] = []
    decorate: Callable[[Finding], Finding] = lambda f: f  # noqa: E731
    if options.frames != "none":
        from auditor.run.frames import attach_frame_evidence

        outcome = attach_frame_evidence(
            bundle, got.refs, found, options, workers, progress, executor, cache
        )
        decorate = outcome.decorate
        inputs.extend(outcome.inputs)
        issues.extend(outcome.issues)
        notices.extend(outcome.notices)
        frame_summary = outcome.summary
        probes_report = outcome.probes
        run_facts.update(outcome.run)
        face_engine = outcome.engine

    suppressed: frozenset[str] = frozenset()
    warnings: list[str] = list(got.warnings)
    if accepted is not None:
        from auditor.config import baseline as baseline_mod

        known = {e.fingerprint for e in accepted.entries}
        applied = baseline_mod.apply(
            accepted, (f.id for f in found if f.id in known), started.date()
        )
        suppressed = applied.suppressed
        warnings += applied.warnings()
        notices.extend(Notice(accepted.path, w) for w in applied.warnings())
        got.counts.baselined = sum(1 for f in found if f.id in suppressed)
    incomplete = bool(issues)
    exit_code = compute_exit_code(
        found,
        incomplete,
        options.fail_on,
        suppressed,
        got.undecided.total,
        options.fail_on_undecided,
    )
    run_id = uuid.uuid4().hex
    findings = Lazy(
        lambda: (finding_dict(decorate(f), f.id in suppressed) for f in found), len(found)
    )
    report = build_report(
        run_id=run_id,
        started=started,
        finished=datetime.now(UTC),
        bundle=bundle,
        packs=packs,
        inputs=inputs,
        records=got.records,
        tally=got.tally,
        findings=findings,
        counts=got.counts,
        excused=got.excused,
        issues=issues,
        notices=notices,
        frame_summary=frame_summary,
        probes=probes_report,
        run_facts=run_facts,
        face_engine=face_engine,
        undecided=got.undecided,
        settings={
            "fail_on": options.fail_on,
            "fail_on_undecided": options.fail_on_undecided,
            "frames": options.frames,
            "probe_tolerance": options.probe_tolerance,
            "baseline": Path(options.baseline).name if options.baseline else None,
        },
    )
    opened = store()
    if opened is not None:
        opened.save_run(report, bundle.shown, exit_code)
    return AuditResult(report, found, issues, exit_code, run_id, notices, warnings, scratch)


def _cache_url(options: AuditOptions) -> str | None:
    """The face cache's own database: only for a run that is not stored and uses the cache."""
    if options.store_url is not None or not options.use_cache:
        return None
    return options.cache_url


class _LogListing:
    """Every file under logs/, each checked to stay inside the bundle and to be a regular file
    (a FIFO would block the reader), handed out as it is listed: an object-storage archive is
    never held as one list of keys (a local folder is listed first, as it always was, so the
    progress bar knows its total). Refused entries are kept as issues, in path order.

    An absent or empty logs/ is nothing to audit: a BundleError (exit 2, no report, no run
    stored), raised before anything is read, because no input was read and so none was
    "unreadable" (exit 3 says that an audit ran and missed something; here none ran). A logs/
    whose every entry was refused is exit 3."""

    def __init__(self, bundle: Bundle, given: Path | str) -> None:
        self.bundle = bundle
        self.issues: list[InputIssue] = []
        self.count = 0
        self._known: int | None = None
        items: Iterable[str | InputIssue] = bundle.iter_entries("logs")
        if bundle.fs.local is not None:
            items = list(items)
            self._known = sum(1 for i in items if not isinstance(i, InputIssue))
            empty = not items
        else:  # peek at the first key only
            listed = iter(items)
            first = next(listed, None)
            empty = first is None
            items = listed if first is None else itertools.chain([first], listed)
        if empty:
            local = bundle.fs.local is not None
            raise nothing_to_audit(Path(given) if local else str(given), bundle.fs.is_dir("logs"))
        self._items = items

    def __iter__(self) -> Iterator[str]:
        for item in self._items:
            if isinstance(item, InputIssue):
                self.issues.append(item)
            else:
                self.count += 1
                yield item

    def total(self) -> int:
        """Files to read: exact for a folder, those listed so far for object storage."""
        return self._known if self._known is not None else self.count

    def finish(self) -> list[InputIssue]:
        """The listing's issues (refused entries), in path order."""
        return list(self.issues)


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
