"""The typer apps and what every command shares: errors to exit codes, outputs, progress."""

from __future__ import annotations

import enum
import os
import stat
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn, TextIO

import typer

from auditor.cli.terminal import (
    FORMAT_NAMES,
    ColorMode,
    Verbosity,
    did_you_mean,
    format_name,
    stdout_width,
    use_color,
)
from auditor.core import defaults
from auditor.core.errors import AuditorError
from auditor.core.gate import FAIL_ON
from auditor.core.reportdoc import TypedReport
from auditor.faces.detectors import DETECTORS
from auditor.faces.kernels import KERNELS

#: Typed choices built from the registries and the gate, so `--help` lists them and click
#: refuses anything else (case-insensitive); commands read `.value`.
KernelName = enum.Enum("KernelName", {k: k for k in KERNELS}, type=str)  # type: ignore[misc]
DetectorName = enum.Enum("DetectorName", {k: k for k in DETECTORS}, type=str)  # type: ignore[misc]
FailOnLevel = enum.Enum("FailOnLevel", {k: k for k in FAIL_ON}, type=str)  # type: ignore[misc]

app = typer.Typer(
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # help texts are plain text: `auditor[dask]` is a package extra, not a rich style tag
    rich_markup_mode=None,
    help="Audit video-pipeline logs and frames against facial-recognition moratoria.",
)


def _print_version(value: bool) -> None:
    if value:
        from auditor import __version__

        typer.echo(f"auditor {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit (`auditor version` says what it runs on).",
        ),
    ] = False,
) -> None:
    """Audit video-pipeline logs and frames against facial-recognition moratoria."""


policy_app = typer.Typer(no_args_is_help=True, help="List, show, lint and export policy packs.")
cache_app = typer.Typer(no_args_is_help=True, help="Manage the face cache (descriptors).")
app.add_typer(policy_app, name="policy")
app.add_typer(cache_app, name="cache")
baseline_app = typer.Typer(
    no_args_is_help=True, help="Accept findings for a while, with a reason (--baseline FILE)."
)
app.add_typer(baseline_app, name="baseline")


# Options several commands share, defined once (typer reads the Annotated metadata).
Formats = Annotated[
    list[str] | None,
    typer.Option(
        "--format",
        "-f",
        parser=format_name,
        metavar="[" + "|".join(FORMAT_NAMES) + "]",
        help="Report format (case-insensitive). Repeatable.",
    ),
]
Outputs = Annotated[
    list[str] | None,
    typer.Option("--output", "-o", help="File per --format, in order ('-' = stdout)."),
]
OutputDir = Annotated[
    Path | None,
    typer.Option("--output-dir", help="Write every --format to DIR/report.<ext> instead."),
]
Db = Annotated[
    str | None,
    typer.Option(help="Database URL (default: AUDITOR_DB or sqlite:///.auditor/audit.db)."),
]
CacheDb = Annotated[
    str | None,
    typer.Option(
        "--cache-db",
        envvar="AUDITOR_CACHE_DB",
        help="Face cache of --no-store audits, a database URL (default: faces.db in the user "
        "cache directory, or in AUDITOR_CACHE_DIR).",
    ),
]
Workers = Annotated[int, typer.Option(min=0, help="Worker processes (0 = one per core).")]
Upsample = Annotated[
    int,
    typer.Option(
        min=0,
        max=defaults.MAX_UPSAMPLE,
        help="Detector upsampling (HOG finds faces down to ~40 px at 1, cnn to ~20 px).",
    ),
]
FailOn = Annotated[
    FailOnLevel,
    typer.Option(
        case_sensitive=False,
        help="The lowest severity that fails the gate (exit 1); never: findings do not.",
    ),
]
ProbeTolerance = Annotated[
    float,
    typer.Option(
        min=defaults.PROBE_TOLERANCE_RANGE[0],
        max=defaults.PROBE_TOLERANCE_RANGE[1],
        help="Max descriptor distance for a probe match.",
    ),
]
Kernel = Annotated[
    KernelName,
    typer.Option(
        "--kernel",
        case_sensitive=False,
        help="Descriptor kernel: onnx (dlib's network on ONNX Runtime, default) or dlib.",
    ),
]
Detector = Annotated[
    DetectorName,
    typer.Option(
        "--detector",
        case_sensitive=False,
        help="Face detector: hog (dlib's HOG, default) or cnn (dlib's CNN on ONNX Runtime: "
        "finds more faces, several times HOG's CPU per frame).",
    ),
]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Neither read nor keep cached faces.")]
CsvBom = Annotated[
    bool,
    typer.Option(
        "--csv-bom",
        help="Start the CSV report with a UTF-8 byte order mark (for spreadsheet programs).",
    ),
]
ShowFaces = Annotated[
    bool, typer.Option("--show-faces", help="Unblurred face thumbnails in human reports.")
]
Scheduler = Annotated[
    str | None,
    typer.Option(
        envvar="AUDITOR_SCHEDULER",
        help="Run log parsing and the frame pass on a Dask cluster: the scheduler's address "
        "(tcp://host:8786), or 'local' for a local cluster of --workers processes. Needs "
        "auditor[dask]; bundle paths must be readable by the workers (docs/scale.md).",
    ),
]
SchedulerFile = Annotated[
    Path | None,
    typer.Option(
        envvar="AUDITOR_SCHEDULER_FILE",
        help="Like --scheduler, with the address read from a Dask scheduler file (the JSON "
        "file `dask scheduler --scheduler-file`, dask-jobqueue and dask-mpi write).",
    ),
]
SchedulerTimeout = Annotated[
    float,
    typer.Option(
        envvar="AUDITOR_SCHEDULER_TIMEOUT",
        help="Seconds the Dask cluster may stay silent: to connect, to get a first worker, "
        "and mid-audit with no answer from the scheduler, or no finished task and no worker "
        "heartbeat; then the audit stops (exit 2).",
    ),
]
Color = Annotated[
    ColorMode,
    typer.Option(
        "--color",
        case_sensitive=False,
        help="Colour the table on stdout: auto follows NO_COLOR, FORCE_COLOR and the terminal.",
    ),
]
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress and no notes on stderr; errors stay.")
]
Verbose = Annotated[
    bool, typer.Option("--verbose", "-v", help="Also the time and count of each stage on stderr.")
]


def clean(text: object) -> str:
    """`text` safe for a terminal: control and format characters (ESC, BEL, CR, bidi
    overrides, ...) become visible escapes such as `\\x1b`; newlines and tabs stay.

    Pack fields, file names, bundle names and error messages all come from input; printed raw,
    an escape sequence in them could rewrite what the terminal shows.
    """
    value = str(text)
    if value.isprintable():
        return value
    return "".join(
        ch
        if ch.isprintable() or ch in "\n\t"
        else ch.encode("unicode_escape", "backslashreplace").decode("ascii")
        for ch in value
    )


def echo(text: object = "", err: bool = False) -> None:
    """Print one line through `clean` (the only way the command line prints input text)."""
    typer.echo(clean(text), err=err)


def _db_url(db: str | None) -> str:
    from auditor.store import DEFAULT_URL

    return db or os.environ.get("AUDITOR_DB") or DEFAULT_URL


def _fail(message: str, code: int = 2) -> NoReturn:
    echo(f"auditor: error: {message}", err=True)
    raise typer.Exit(code)


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
    document: Mapping[str, Any],
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
