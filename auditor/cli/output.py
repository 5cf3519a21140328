"""Writing reports: every format to its file or stdout, checked before the audit, written whole.

Separate from the commands because `audit` and `report` share all of it, and separate from
`cli.common` because it is the one part that touches the file system: output plans are checked
before any work (a typo costs nothing, exit 2), files are replaced atomically, and whatever reaches
a terminal goes through `clean`.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from auditor.cli.common import _fail, clean, echo
from auditor.cli.terminal import ColorMode, Verbosity, did_you_mean, stdout_width, use_color
from auditor.core.errors import AuditorError
from auditor.core.reportdoc import TypedReport


class _CleanStream:
    """stdout for a report when stdout is a terminal: every write goes through `clean`, so no
    report format (CSV and JSON cells included) can send the terminal a control sequence."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def write(self, text: str) -> int:
        return self.out.write(clean(text))

    def flush(self) -> None:
        self.out.flush()


def _stdout(fmt: str, color: bool) -> TextIO:
    """Where a report to stdout goes: through `clean` on a terminal (a coloured table has
    cleaned itself and keeps its colour codes)."""
    if sys.stdout.isatty() and not (fmt == "table" and color):
        return _CleanStream(sys.stdout)  # type: ignore[return-value]
    return sys.stdout


@contextmanager
def _atomic(path: Path, binary: bool = False) -> Iterator[Any]:
    """A report file written whole or not at all: into a temporary file beside it, renamed over
    `path` once complete. A full disk, an error or a signal leaves the old file (or none), never
    a truncated report, and no temporary file either.

    A symbolic link is followed (the file it names is replaced, the link stays); a target that
    exists and is not a regular file (`/dev/stdout`, a FIFO) is written into as it is.
    """

    def open_(target: Path) -> Any:
        if binary:
            return target.open("wb")
        return target.open("w", encoding="utf-8", newline="")

    if path.exists() and not path.is_file():
        with open_(path) as direct:
            yield direct
        return
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open_(tmp) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))  # keep the old file's mode
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write(text: str, output: str | None, fmt: str = "", color: bool = False) -> str:
    if output is None or output == "-":
        out = _stdout(fmt, color)
        out.write(text)
        out.flush()
        return "-"
    path = Path(output)
    try:
        with _atomic(path) as fh:
            fh.write(text)
    except OSError as exc:
        _fail(f"{output}: cannot write report: {exc.strerror or exc}")
    return str(path)


def _stream(
    reporter: Any, report: TypedReport, options: Any, output: str | None, fmt: str = ""
) -> str:
    """Write a streaming format straight to its file (or stdout) instead of one big string."""
    if output is None or output == "-":
        out = _stdout(fmt, options.color)
        reporter.write(report, options, out)
        out.flush()
        return "-"
    path = Path(output)
    try:
        with _atomic(path) as fh:
            reporter.write(report, options, fh)
    except OSError as exc:
        _fail(f"{output}: cannot write report: {exc.strerror or exc}")
    return str(path)


def _plan_outputs(
    formats: list[str], outputs: list[str], output_dir: Path | None
) -> list[tuple[str, str | None]]:
    """(format, output) pairs; checked before any work so a typo costs nothing (exit 2)."""
    from auditor.report import REPORTERS

    formats = [f.lower() for f in formats] or ["table"]
    for fmt in formats:
        if fmt not in REPORTERS:
            hint = did_you_mean(fmt, REPORTERS)
            _fail(f"unknown format {fmt!r} (known: {', '.join(REPORTERS)}).{hint}")
    if output_dir is not None:
        if outputs:
            _fail("give either --output or --output-dir, not both")
        if len(set(formats)) != len(formats):
            _fail("with --output-dir each --format may be given once")
        _check_output_dir(output_dir)
        plan: list[tuple[str, str | None]] = [
            (f, str(output_dir / f"report.{REPORTERS[f].extension}")) for f in formats
        ]
    else:
        if outputs and len(outputs) != len(formats):
            _fail(
                f"give one --output per --format ({len(formats)} format(s), "
                f"{len(outputs)} output(s))"
            )
        plan = [(f, outputs[i] if outputs else None) for i, f in enumerate(formats)]
    for _, output in plan:
        if output not in (None, "-") and (output_dir is None or output_dir.is_dir()):
            _check_output_file(Path(output))
    return plan


def _check_csv_bom(csv_bom: bool, formats: list[str]) -> None:
    """--csv-bom without a CSV report is a mistake worth saying before any work (exit 2)."""
    if csv_bom and "csv" not in formats:
        _fail("--csv-bom applies to the csv format: add --format csv")


def _writable_dir(path: Path) -> str | None:
    """Why `path` cannot take new files, or None if it can."""
    if not path.exists():
        return "directory does not exist"
    if not path.is_dir():
        return "not a directory"
    if not os.access(path, os.W_OK | os.X_OK):
        return "directory is not writable"
    return None


def _check_output_file(path: Path) -> None:
    """--output PATH: its directory exists and is writable, and PATH is not a directory.

    Checked before the audit so a typo costs nothing instead of a full run; nothing is created.
    """
    name = clean(path)
    if path.is_dir():
        _fail(f"--output {name}: is a directory")
    if path.exists() and not os.access(path, os.W_OK):
        _fail(f"--output {name}: file is not writable")
    problem = _writable_dir(path.parent)
    if problem:
        _fail(f"--output {name}: {problem} ({clean(path.parent)})")


def _check_output_dir(directory: Path) -> None:
    """--output-dir DIR: DIR is a writable directory, or its parent is (DIR is made then)."""
    name = clean(directory)
    if directory.exists():
        problem = _writable_dir(directory)
        if problem:
            _fail(f"--output-dir {name}: {problem}")
        return
    problem = _writable_dir(directory.parent)
    if problem:
        _fail(f"--output-dir {name}: cannot be created: {problem} ({clean(directory.parent)})")


def _render_all(
    document: Mapping[str, Any] | TypedReport,
    formats: list[str],
    outputs: list[str],
    show_faces: bool = False,
    output_dir: Path | None = None,
    bundle_root: str | None = None,
    *,
    csv_bom: bool = False,
    sarif_root: str | None = None,
    color: ColorMode = ColorMode.AUTO,
    level: Verbosity = Verbosity.NORMAL,
) -> bool:
    """Write every report; True when one of them went to stdout.

    Only the table on stdout is coloured and takes the terminal's width; files get
    `report.table.DEFAULT_WIDTH` and no colour, so they are the same bytes everywhere.
    """
    from auditor.core.report import ReportShapeError
    from auditor.report import REPORTERS, RenderOptions
    from auditor.report.table import DEFAULT_WIDTH

    try:
        report = TypedReport.of(document)
    except ReportShapeError as exc:
        _fail(f"cannot render the report: {exc}")

    def warn(message: str) -> None:
        echo(f"auditor: warning: {message}", err=True)

    written = []
    plan = _plan_outputs(formats, outputs, output_dir)
    for fmt, output in plan:
        to_stdout = output in (None, "-")
        options = RenderOptions(
            color=fmt == "table" and to_stdout and use_color(color),
            show_faces=show_faces,
            bundle_root=bundle_root,
            csv_bom=csv_bom,
            sarif_root=sarif_root,
            warn=warn,
            width=stdout_width() if to_stdout else DEFAULT_WIDTH,
        )
        reporter = REPORTERS[fmt]
        try:
            if hasattr(reporter, "write"):  # streaming formats: findings go out one by one
                where = _stream(reporter, report, options, output, fmt)
            else:
                where = _write(reporter.render(report, options), output, fmt, options.color)
        except (KeyError, TypeError, ValueError) as exc:
            _fail(f"cannot render the {fmt} report: {type(exc).__name__}: {exc}")
        except AuditorError as exc:  # a stored run's findings are read as they are rendered
            _fail(str(exc))
        if where != "-":
            written.append(f"{fmt}: {where}")
    if level is not Verbosity.QUIET:
        for line in written:
            echo(f"report written: {line}", err=True)
    return len(written) < len(plan)
