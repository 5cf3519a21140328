"""Spill to disk: keep at most one batch of items in memory, whatever the size of the audit.

An audit of years of logs can produce millions of findings, undecided entries or events waiting
for a linking duty. Holding them in lists makes memory grow with the input; these spools keep one
batch in memory and write full batches to temporary files (pickle, in the audit's scratch
folder, deleted when the audit's result is closed).

- `Spill`: first in, first out (events waiting for the whole index of linked events).
- `SortedSpool`: an external merge sort. Each full batch is sorted and written as one run
  (`MAX_RUNS` runs are merged into one as they accumulate); iteration merges the runs with
  `heapq.merge`, which takes ties from the earlier run first, so
  the order is exactly that of one stable in-memory sort of everything added. Spilling therefore
  never changes a report: a test compares a report made with a batch of 3 to one made without
  spilling, byte for byte.

The batch size is `AUDITOR_SPILL_BATCH` (internal, for tests and benchmarks; default
`DEFAULT_BATCH`). Iterating a spool again re-reads its files: reporters can each take a pass.
"""

from __future__ import annotations

import heapq
import os
import pickle
import re
import shutil
import stat
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Generic, TypeVar

from auditor.core import procs

T = TypeVar("T")

#: Items kept in memory per spool before a batch goes to disk. A finding of a CloudTrail record
#: (its event carries the record's fields) is about 1.4 KB pickled and several KB as objects:
#: 2,000 of them are a few tens of MB, well inside the 256 MB the audit is held to.
DEFAULT_BATCH = 2_000
#: Sorted runs merged at once: past this many, the runs are first merged into one (a cascade),
#: so a merge never holds more open files or read buffers than this.
MAX_RUNS = 64
BATCH_ENV = "AUDITOR_SPILL_BATCH"


def batch_size() -> int:
    """The configured batch size (AUDITOR_SPILL_BATCH, at least 1)."""
    text = os.environ.get(BATCH_ENV, "").strip()
    try:
        return max(1, int(text)) if text else DEFAULT_BATCH
    except ValueError:
        return DEFAULT_BATCH


#: Scratch folders are `auditor-<pid>.<start time>-<random>` in the temporary folder, so one
#: whose process is gone (killed by SIGKILL, or a power cut) can be told from a live one.
_SCRATCH = re.compile(r"auditor-(\d+)\.(\d+|x)-[A-Za-z0-9_]+")


def remove_stale(folder: Path | None = None) -> list[Path]:
    """Remove the scratch folders of audits whose process no longer exists (this user's only);
    returns what was removed. Run when an audit starts."""
    base = Path(folder or tempfile.gettempdir())
    removed: list[Path] = []
    try:
        entries = list(base.iterdir())
    except OSError:
        return removed
    uid = os.getuid()
    for entry in entries:
        match = _SCRATCH.fullmatch(entry.name)
        if not match:
            continue
        try:
            info = entry.lstat()
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != uid:
            continue
        start = None if match[2] == "x" else int(match[2])
        if not procs.alive(int(match[1]), start):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


class Scratch:
    """A private temporary folder for one audit's spill files, removed by `close` (and, should
    the process be killed outright, by the next audit's `remove_stale`)."""

    def __init__(self) -> None:
        remove_stale()
        pid = os.getpid()
        start = procs.start_time(pid)
        prefix = f"auditor-{pid}.{'x' if start is None else start}-"
        self.path = Path(tempfile.mkdtemp(prefix=prefix))
        self._count = 0
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.path), True)

    def new_file(self, stem: str) -> Path:
        """A fresh file name inside the folder."""
        self._count += 1
        return self.path / f"{stem}-{self._count:05d}.pickle"

    def close(self) -> None:
        """Delete every spill file."""
        self._finalizer()


def _dump_all(fh: BinaryIO, items: Iterable[Any]) -> None:
    # One pickle per item: a shared Unpickler would keep every object it ever loaded in its
    # memo (a Pickler's clear_memo does not reach the reader), so memory would grow with the run.
    for item in items:
        pickle.dump(item, fh, protocol=pickle.HIGHEST_PROTOCOL)


def _write(path: Path, items: list[Any]) -> None:
    with path.open("wb") as fh:
        _dump_all(fh, items)


def _read(path: Path) -> Iterator[Any]:
    with path.open("rb") as fh:
        while True:
            try:
                yield pickle.load(fh)
            except EOFError:
                return


class Spill(Generic[T]):
    """Items in the order they were added; one batch in memory, the rest on disk."""

    def __init__(self, scratch: Scratch, stem: str, batch: int | None = None) -> None:
        self.scratch, self.stem = scratch, stem
        self.batch = batch or batch_size()
        self.files: list[Path] = []
        self.buffer: list[T] = []
        self.count = 0

    def add(self, item: T) -> None:
        """Append one item (a full batch is written to a new file)."""
        self.buffer.append(item)
        self.count += 1
        if len(self.buffer) >= self.batch:
            self._flush()

    def _flush(self) -> None:
        path = self.scratch.new_file(self.stem)
        _write(path, self.buffer)
        self.files.append(path)
        self.buffer = []

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[T]:
        for path in list(self.files):
            yield from _read(path)
        yield from list(self.buffer)


class SortedSpool(Generic[T]):
    """Items in `key` order (stable), by an external merge sort of batch-sized sorted runs."""

    def __init__(
        self, scratch: Scratch, stem: str, key: Callable[[T], Any], batch: int | None = None
    ) -> None:
        self.scratch, self.stem, self.key = scratch, stem, key
        self.batch = batch or batch_size()
        self.runs: list[Path] = []
        self.buffer: list[T] = []
        self.count = 0
        self.merged = 0  # cascades done
        self.written = 0  # sorted runs written (before any cascade)

    def add(self, item: T) -> None:
        """Add one item; a full batch is sorted and written as one run."""
        self.buffer.append(item)
        self.count += 1
        if len(self.buffer) >= self.batch:
            self.buffer.sort(key=self.key)
            path = self.scratch.new_file(self.stem)
            _write(path, self.buffer)
            self.runs.append(path)
            self.written += 1
            self.buffer = []
            if len(self.runs) >= MAX_RUNS:
                self._cascade()

    def _cascade(self) -> None:
        """Merge every run into one (stable: earlier runs win ties, as in the final merge)."""
        path = self.scratch.new_file(self.stem)
        merged = heapq.merge(*(_read(p) for p in self.runs), key=self.key)
        with path.open("wb") as fh:
            _dump_all(fh, merged)
        for old in self.runs:
            old.unlink()
        self.runs = [path]
        self.merged += 1

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[T]:
        self.buffer.sort(key=self.key)  # stable: equal keys keep their order of arrival
        tail = list(self.buffer)
        if not self.runs:
            return iter(tail)
        return heapq.merge(*(_read(p) for p in list(self.runs)), tail, key=self.key)
