"""What every log source shares: the job it is given, the result it returns, file reading.

A source reads ONE file and returns a `FileResult` of plain data. `read_file` is a top-level
function of (job) -> result, so the orchestrator can run it in-process, in a process pool, or
(later) on a Dask worker without the source knowing.

Files are streams: lines are read one at a time through a hashing reader, so the SHA-256 of the
file as stored (compressed or not) costs no second pass, and a truncated gzip is reported at the
line where it broke, keeping everything read before it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO, Protocol

from auditor.config.bundle import PathEscape, SourceSettings
from auditor.config.bundlefs import open_fs
from auditor.core.errors import InputIssue
from auditor.core.models import Event, Notice

_BUFFER = 1 << 20
#: A line longer than this is an error for that line and is skipped without being held in
#: memory (a 1 GB line of a gzip bomb costs one buffer). A one-line CloudTrail `Records`
#: document longer than this is not skipped: it is split into records as it streams.
MAX_LINE_BYTES = 16 << 20


@dataclass(frozen=True)
class ReadJob:
    """One file to read: the bundle root, the file's bundle-relative path and the source to use."""

    root: str
    path: str
    source: str
    settings: SourceSettings
    #: A folder the client shares with the worker (the audit's scratch folder, for local
    #: workers): batches of a file's events go there (`sources.window`). None on a cluster.
    spill: str | None = None
    #: The file's size when it was listed: small files are read several to a task
    #: (`run.logpass.log_tasks`). Only grouping uses it; the read never trusts it.
    size: int = 0


@dataclass
class FileResult:
    """What reading one file produced: counts, face events, issues; all picklable."""

    path: str
    source: str
    sha256: str = ""
    records: int = 0
    events: list[Event] = field(default_factory=list)
    issues: list[InputIssue] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    #: Lines a source read as the further lines of a record it counted before (a banner's,
    #: warning's or traceback's): not records of their own, and not for the sweep either.
    consumed: int = 0
    #: The suspected sweep of this file while it is read (`sources.sweep.Sweeper`); None in
    #: a result handed back (it does not travel between processes).
    sweeper: Any = field(default=None, repr=False, compare=False)
    #: The bounded window of events while the file is read (`sources.window.EventWindow`);
    #: None in a result handed back.
    window: Any = field(default=None, repr=False, compare=False)
    #: Batches of events handed on while the file was read: spill files, or compressed
    #: pickles where there is no spill folder (`sources.window`); `all_events` reads them.
    batches: list[str] = field(default_factory=list)
    packed: list[bytes] = field(default_factory=list)
    #: Values clipped in the batches handed on (`sources.cap`).
    clipped: int = 0

    def boundary(self) -> None:
        """Called between two lines or records: the window may hand its events on here."""
        if self.window is not None:
            self.window.boundary(self)

    def sweep_line(
        self, raw: bytes | str, line: int | None, record: int | None = None, when: Any = None
    ) -> None:
        """Hand a line no source could read to the suspected sweep (`when`: a time its
        wrapper gave)."""
        if self.sweeper is not None:
            self.sweeper.line(raw, line, record, when)

    def sweep_record(self, rec: Any, line: int | None, record: int | None) -> None:
        """Hand a JSON record no source could read to the suspected sweep."""
        if self.sweeper is not None:
            self.sweeper.record(rec, line, record)


class Source(Protocol):
    """A log format. Implementations: see `auditor.sources.SOURCES`.

    Optional, for reading lines that come out of a wrapper (`auditor.sources.wrapped`: a
    `docker compose logs` prefix, a CRI line, a journald or CloudWatch event): a line-based
    source also has `read_line` (`LineReader`), a record-based one `read_record`
    (`RecordReader`). Both get a `state` dict that lives as long as the file (compiled
    patterns, ids seen), and locate what they report at the outer file's line.
    """

    name: str

    def read(self, job: ReadJob, stream: HashingStream, result: FileResult) -> None:
        """Read every record from `stream` into `result` (events, counts, issues); never raise."""


class LineReader(Protocol):
    """A source that reads one text line on its own (text, httplog)."""

    def read_line(
        self,
        job: ReadJob,
        raw: bytes,
        lineno: int | None,
        result: FileResult,
        state: dict[str, Any],
        wrapper_time: datetime | None = None,
    ) -> None:
        """Read one line into `result`, as `read` would have read it at `lineno`.

        `wrapper_time` is the time the wrapper gave the line (journald's `__REALTIME_TIMESTAMP`,
        a syslog header, `docker logs --timestamps`): a line whose own format carries no time
        (console output, morgan's `dev`) takes it, as it is when the product wrote the line."""


class RecordReader(Protocol):
    """A source that reads one parsed JSON record on its own (the JSON sources)."""

    def read_record(
        self,
        job: ReadJob,
        rec: Any,
        line: int | None,
        index: int | None,
        result: FileResult,
        state: dict[str, Any],
    ) -> None:
        """Read one record into `result`, located at `line` (and `index` in its array)."""


class _HashingRaw(io.RawIOBase):
    """A raw reader that feeds every byte it hands out to a SHA-256."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self.digest = hashlib.sha256()
        #: Newlines handed out so far (the decompressed side counts them for a plain file).
        self.newlines = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = self._fh.readinto(buffer)  # type: ignore[attr-defined]
        if n:
            self.digest.update(buffer[:n])
            self.newlines += buffer[:n].tobytes().count(b"\n")
        return int(n or 0)

    def close(self) -> None:
        self._fh.close()
        super().close()


class _Read1Raw(io.RawIOBase):
    """Hands out whatever a gzip member decompresses next (read1), never looping for more.

    A plain BufferedReader over GzipFile asks for a full buffer and so meets a truncated end
    early, losing the good lines before it; read1 lets the break surface at its own line.
    """

    def __init__(self, gz: gzip.GzipFile) -> None:
        self._gz = gz
        self.newlines = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._gz.read1(len(buffer))
        buffer[: len(data)] = data
        self.newlines += data.count(b"\n")
        return len(data)


class HashingStream:
    """The decompressed byte stream of a log file, hashed as the raw file is read."""

    def __init__(self, fh: BinaryIO, name: str) -> None:
        """`fh` is the raw file, opened through the bundle's filesystem (`BundleFS.open`: a
        local file non-blocking, an object streamed in blocks); `name` tells a gzip file."""
        self._raw = _HashingRaw(fh)
        buffered = io.BufferedReader(self._raw, _BUFFER)
        self.compressed = name.endswith(".gz")
        self._counter: _HashingRaw | _Read1Raw = self._raw
        if self.compressed:
            self._counter = _Read1Raw(gzip.GzipFile(fileobj=buffered, mode="rb"))
        self.stream: io.BufferedReader[Any] = (
            io.BufferedReader(self._counter, _BUFFER) if self.compressed else buffered
        )
        self._buffered = buffered

    def line_number(self) -> int:
        """How many whole lines the readers of `stream` have consumed so far: the number of
        the line the next read starts on, minus one, whatever read them (lines, chunks)."""
        try:
            pending = self.stream.peek(0)
        except (EOFError, OSError, ValueError, zlib.error):
            pending = b""
        return self._counter.newlines - pending.count(b"\n")

    def lines(self, result: FileResult, sweep: bool = True) -> Iterator[tuple[int, bytes]]:
        """(line number, line bytes) pairs; a broken compressed stream becomes one issue, and
        a line over MAX_LINE_BYTES an issue for that line (skipped in bounded memory).

        With `sweep`, a line from which the consumer read nothing (no record counted, no
        event) goes to the file's suspected sweep when the consumer asks for the next line.
        """
        n = self.line_number()
        sweeper = result.sweeper if sweep else None
        window = result.window
        size = window.size if window is not None else None
        try:
            while True:
                if size is not None and len(result.events) >= size:
                    window.flush(result)  # between two lines: see `sources.window`
                line = self.stream.readline(MAX_LINE_BYTES + 1)
                if not line:
                    return
                n += 1
                if len(line) > MAX_LINE_BYTES:
                    if not line.endswith(b"\n"):
                        self.skip_line()
                    result.issues.append(InputIssue(result.path, long_line_message(), line=n))
                    continue
                if sweeper is None:
                    yield n, line
                    continue
                mark = result.records + len(result.events) + result.consumed
                yield n, line
                if result.records + len(result.events) + result.consumed == mark:
                    sweeper.line(line, n)
        except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
            result.issues.append(InputIssue(result.path, broken_stream_message(exc), line=n + 1))

    def skip_line(self) -> None:
        """Read on to the end of the current line, one buffer at a time."""
        while True:
            part = self.stream.readline(_BUFFER)
            if not part or part.endswith(b"\n"):
                return

    def chunks(self) -> Iterator[bytes]:
        """The rest of the decompressed stream in buffer-sized pieces (may raise as read_all)."""
        while True:
            part = self.stream.read1(_BUFFER)
            if not part:
                return
            yield part

    def read_all(self, result: FileResult) -> bytes | None:
        """The whole decompressed content (one CloudTrail file), or None with an issue."""
        try:
            return self.stream.read()
        except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
            result.issues.append(InputIssue(result.path, broken_stream_message(exc)))
            return None

    def finish(self) -> str:
        """Read what is left of the raw file (so the hash covers all of it) and return the hash."""
        try:
            while self._buffered.read(_BUFFER):
                pass
        except OSError:
            pass
        self._raw.close()
        return self._raw.digest.hexdigest()


def long_line_message() -> str:
    """The issue for a line over MAX_LINE_BYTES."""
    return f"line longer than the limit of {MAX_LINE_BYTES:,} bytes: skipped"


def broken_stream_message(exc: BaseException) -> str:
    """A reader-friendly message for a stream that could not be read to its end."""
    if isinstance(exc, EOFError):
        return "truncated gzip: the file ends before its end-of-stream marker"
    if isinstance(exc, gzip.BadGzipFile | zlib.error):
        return f"corrupt gzip data: {exc}"
    return f"read error: {exc}"


def frame_ref(job: ReadJob, ref: str) -> str:
    """Map a frame reference (S3 URI, s3 key or bundle path) to a bundle-relative path.

    Raises PathEscape when the result would leave the bundle.
    """
    fs = open_fs(job.root)
    for prefix, folder in job.settings.frame_prefixes:
        if ref.startswith(prefix):
            return fs.safe(folder.rstrip("/") + "/" + ref[len(prefix) :])
    if ref.startswith("s3://"):
        key = ref[5:].split("/", 1)[1] if "/" in ref[5:] else ""
        return fs.safe("frames/" + key)
    return fs.safe(ref)


#: Longer frame references are refused (no file system has such paths).
MAX_FRAME_REF_CHARS = 4096


def frame_refs(
    job: ReadJob, refs: list[str], result: FileResult, line: int | None, record: int | None
) -> tuple[str, ...]:
    """Map several references, turning each one that escapes into an issue (never a read)."""
    out = []
    for ref in refs:
        if len(ref) > MAX_FRAME_REF_CHARS:
            result.issues.append(
                InputIssue(
                    result.path,
                    f"frame reference of {len(ref):,} characters refused (limit "
                    f"{MAX_FRAME_REF_CHARS:,})",
                    line=line,
                    record=record,
                )
            )
            continue
        try:
            out.append(frame_ref(job, ref))
        except PathEscape as exc:
            result.issues.append(
                InputIssue(result.path, f"frame reference refused: {exc}", line=line, record=record)
            )
    return tuple(out)
