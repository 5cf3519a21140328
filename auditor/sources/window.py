"""A bounded window of one file's events while it is read.

A log file can hold hundreds of thousands of face operations (500,000 face searches make a
265 KiB gzip). Held as one list of `Event`s they cost about 1.5 KB each, so one file took the
audit past its 256 MB budget, in the worker that read it and again in the client that took the
result. So the reader keeps at most `window_size()` events in memory: when a source asks for
its next line or record and the window is full, the window's events are clipped
(`cap.clip_events`) and handed on as one batch:

* to a pickle file in the spill folder the job names (`ReadJob.spill`: the audit's private
  scratch folder, which the local worker processes share with the client), so memory stays at
  one window on both sides whatever the file;
* or, with no spill folder (a Dask worker, which shares no disk with the client), into the
  result as a zlib-compressed pickle: memory still grows with the file, but at a few bytes
  per event rather than about 1.5 KB.

Batches are cut only between lines or records, where no source holds a position in the list
of events (a source that rolls back or rewrites the events of one line or record does so
before asking for the next). `all_events` gives them back in order, each batch read
once and its file deleted. The events' order within a file does not change any report (findings
and undecided samples are sorted), and a test compares reports made with a window of 3 and
without batches, byte for byte.
"""

from __future__ import annotations

import os
import pickle
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

from auditor.core.models import Event
from auditor.sources.base import FileResult
from auditor.sources.cap import clip_events

#: Events of one file held in memory before a batch is handed on (about 8 MB of objects).
EVENT_WINDOW = 5_000
#: Internal, for tests and benchmarks: another window size.
WINDOW_ENV = "AUDITOR_EVENT_WINDOW"


def window_size() -> int:
    """The configured window (AUDITOR_EVENT_WINDOW, at least 1)."""
    text = os.environ.get(WINDOW_ENV, "").strip()
    try:
        return max(1, int(text)) if text else EVENT_WINDOW
    except ValueError:
        return EVENT_WINDOW


class EventWindow:
    """Set on a `FileResult` while its file is read (`FileResult.window`); never pickled."""

    def __init__(self, spill: str | None, size: int | None = None) -> None:
        self.spill = Path(spill) if spill else None
        self.size = size or window_size()

    def boundary(self, result: FileResult) -> None:
        """Between two lines or records: hand the window on when it is full."""
        if len(result.events) >= self.size:
            self.flush(result)

    def flush(self, result: FileResult) -> None:
        """Hand on the events held now as one batch (clipped, in order)."""
        if not result.events:
            return
        events, clipped = clip_events(result.events)
        result.clipped += clipped
        result.events = []
        data = pickle.dumps(events, protocol=pickle.HIGHEST_PROTOCOL)
        if self.spill is None:
            result.packed.append(zlib.compress(data, 1))
            return
        path = self.spill / f"events-{os.getpid()}-{uuid.uuid4().hex}.pickle"
        path.write_bytes(data)
        result.batches.append(str(path))


def all_events(result: FileResult) -> Iterator[Event]:
    """Every event of the file in order: the batches handed on (files read once, then
    deleted), then the events still held."""
    while result.batches:
        path = Path(result.batches.pop(0))
        try:
            events: list[Event] = pickle.loads(path.read_bytes())
        finally:
            path.unlink(missing_ok=True)
        yield from events
    while result.packed:
        yield from pickle.loads(zlib.decompress(result.packed.pop(0)))
    yield from result.events
