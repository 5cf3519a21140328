"""The log pass: every file under logs/ read on the executor, its events attributed and judged.

Apart from `run.audit` because it is the one part of an audit whose memory must stay flat: the
files stream in job order into the policy engine (`Evaluator`), which judges most events at once
and keeps only a keyed index of the events linking duties look up. Events those duties judge
wait in a `Spill` (on disk beyond one batch) until every file was read, because an
authorisation may be logged after the use it covers; re-reading these waiting events is cheaper
than parsing the corpus twice, and a spill is plain files where an on-disk index would need a
database for what is only a queue. Findings go to a `SortedSpool` (external merge sort) and
undecided entries into per-rule counts; `Collected` hands them to the frame pass and the report.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.config import principals as principals_mod
from auditor.config.bundle import Bundle, nothing_to_audit
from auditor.config.bundlefs import is_url
from auditor.core.errors import InputIssue
from auditor.core.models import MATCHING_KINDS, Event, Finding, InputFile, Notice
from auditor.policy import Evaluator, Pack
from auditor.report.build import EventTally, FindingCounts, UndecidedGroups
from auditor.run.executors import Executor, Inputs
from auditor.run.spool import Scratch, SortedSpool, Spill
from auditor.sources import ReadJob, read_files
from auditor.sources.base import FileResult
from auditor.sources.window import all_events


def finding_order(f: Finding) -> tuple[Any, ...]:
    """The report order of findings (time, file, record, line, pack, rule), then the id so that
    two findings of one event and rule (different duties) never depend on arrival order."""
    return (*f.sort_key, f.id)


#: A log task reads files until they reach this many bytes or `GROUP_FILES` files: real
#: CloudTrail delivery files are ~164 KB, and one task per file made an archive of them bound by
#: the scheduler (5-6 ms per task against ~2 ms of reading; bench/RESULTS.md). A file of this
#: size or more is a task of its own, so large files still spread over the workers.
GROUP_BYTES = 4 << 20
GROUP_FILES = 32


def log_tasks(jobs: Iterable[ReadJob]) -> Iterator[list[ReadJob]]:
    """Consecutive jobs grouped into tasks (in order, lazily: an object-storage listing is never
    held whole). The results, and so the report, do not depend on the grouping."""
    group: list[ReadJob] = []
    size = 0
    for job in jobs:
        if group and (size + job.size > GROUP_BYTES or len(group) >= GROUP_FILES):
            yield group
            group, size = [], 0
        group.append(job)
        size += job.size
    if group:
        yield group


def _log_input(jobs: list[ReadJob]) -> list[tuple[str, str, str | None]]:
    return [
        (str(Path(job.root) / job.path), job.path, None)
        for job in jobs
        # an object store serves every reader the same object (see storage.md)
        if not is_url(job.root)
    ]


def _refuse_log(
    jobs: list[ReadJob], results: list[FileResult], bad: dict[str, str]
) -> list[FileResult]:
    """The log files a cluster worker saw with other bytes than the client: input errors, and
    nothing of what the worker read from them (the task's other files are kept)."""
    return [
        FileResult(job.path, job.source, issues=[InputIssue(job.path, bad[job.path])])
        if job.path in bad
        else result
        for job, result in zip(jobs, results, strict=True)
    ]


#: On a cluster, each log task's files are compared with the client's view (size and end blocks).
LOG_INPUTS: Inputs[list[ReadJob], list[FileResult]] = Inputs(_log_input, _refuse_log)


@dataclass
class Collected:
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
    #: Face operations whose principal principals.toml does not name.
    unattributed: int = 0
    #: Said on stderr as well as in the report's notices (no principals.toml).
    warnings: list[str] = field(default_factory=list)


class LogPass:
    """One audit's log pass: `read` the listing on an executor, then `collected()`."""

    def __init__(
        self, packs: list[Pack], directory: principals_mod.Directory, scratch: Scratch
    ) -> None:
        self.directory = directory
        self.evaluator = Evaluator(packs)
        self.waiting: Spill[Event] = Spill(scratch, "waiting")
        self.found: SortedSpool[Finding] = SortedSpool(scratch, "findings", finding_order)
        self.counts, self.tally, self.undecided = FindingCounts(), EventTally(), UndecidedGroups()
        self.excused = 0
        self.unattributed = 0
        self.refs: set[str] = set()  # frames referenced by face operations (one entry per frame)
        self.inputs: list[InputFile] = []
        self.notices: list[Notice] = []
        self.issues: list[InputIssue] = []
        self.records = 0

    def read(
        self, executor: Executor, jobs: Iterable[ReadJob], step: Callable[[int], None]
    ) -> None:
        """Every job's file, parsed on the executor (several small files to a task) and taken
        in job order."""
        for results in executor.map(read_files, log_tasks(jobs), None, LOG_INPUTS):
            step(len(results))
            for res in results:
                self._take(res)
            del results

    def _take(self, res: FileResult) -> None:
        self.records += res.records
        self.issues.extend(res.issues)
        self.notices.extend(res.notices)
        self.inputs.append(
            InputFile(res.path, "log", res.sha256, res.records, len(res.issues), res.source)
        )
        for raw in all_events(res):  # batches handed on while it was read, then the rest
            event = self.directory.attribute(raw)
            self.tally.add(event)
            if event.kind in MATCHING_KINDS:
                self.refs.update(event.frames)
                self.unattributed += not event.principal.matched
            self.evaluator.remember(event)
            if self.evaluator.must_wait(event):
                self.waiting.add(event)
            else:
                self._judge(event)

    def _judge(self, event: Event) -> None:
        findings, excused, undecided = self.evaluator.judge(event)
        for f in findings:
            self.found.add(f)
            self.counts.add(f)
        self.excused += len(excused)
        for u in undecided:
            self.undecided.add(u)

    def collected(self, listing_issues: list[InputIssue]) -> Collected:
        """Judge the events that waited (every linked event is known now) and hand over."""
        for event in self.waiting:
            self._judge(event)
        return Collected(
            self.inputs,
            listing_issues + self.issues,
            self.notices,
            self.records,
            self.tally,
            self.found,
            self.counts,
            self.excused,
            self.undecided,
            self.refs,
            self.waiting.files,
            self.unattributed,
        )


class LogListing:
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
        items: Iterable[tuple[str, int] | InputIssue] = bundle.iter_sized("logs")
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

    def __iter__(self) -> Iterator[tuple[str, int]]:
        """(bundle-relative path, size) of each usable file, in path order."""
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
