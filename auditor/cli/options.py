"""Options several commands share, defined once so their flags, choices and help stay the same.

typer reads the `Annotated` metadata: a command declares `workers: Workers = 0` and gets the
same `--workers` as every other command. The enums are built from the registries and the gate,
so adding a kernel, detector or level adds it to `--help` and to what click accepts.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from auditor.cli.terminal import FORMAT_NAMES, ColorMode, format_name
from auditor.core import defaults
from auditor.core.gate import FAIL_ON
from auditor.faces.detectors import DETECTORS
from auditor.faces.kernels import KERNELS

#: Typed choices built from the registries and the gate, so `--help` lists them and click
#: refuses anything else (case-insensitive); commands read `.value`.
KernelName = enum.Enum("KernelName", {k: k for k in KERNELS}, type=str)  # type: ignore[misc]
DetectorName = enum.Enum("DetectorName", {k: k for k in DETECTORS}, type=str)  # type: ignore[misc]
FailOnLevel = enum.Enum("FailOnLevel", {k: k for k in FAIL_ON}, type=str)  # type: ignore[misc]


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
        "file that `dask scheduler --scheduler-file`, dask-mpi and dask-jobqueue's runners "
        "write; a jobqueue cluster writes one with scheduler_options={'scheduler_file': F}).",
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


# -- options of `auditor audit` alone ----------------------------------------------------------
BundleArg = Annotated[
    str,
    typer.Argument(
        help="The audit bundle: a folder, or an fsspec URL such as s3://bucket/prefix/ "
        "(needs auditor[s3]; credentials from the store's usual environment and config)."
    ),
]
Policy = Annotated[
    list[str] | None,
    typer.Option(
        "--policy",
        "-p",
        help="Pack id in seeds/, a pack file, or 'all' (default: all). Repeatable.",
    ),
]
BaselineFile = Annotated[
    Path | None,
    typer.Option(
        "--baseline", help="Accepted findings (auditor baseline create): reported, not failing."
    ),
]
ExitZero = Annotated[
    bool,
    typer.Option(
        "--exit-zero", help="Exit 0 even when findings reach --fail-on (2 and 3 still apply)."
    ),
]
FailOnUndecided = Annotated[
    bool,
    typer.Option(
        "--fail-on-undecided",
        help="Exit 1 when a rule cannot decide an event for lack of fields (3 still first).",
    ),
]
NoStore = Annotated[
    bool,
    typer.Option("--no-store", help="Do not record this run (cached faces go to --cache-db)."),
]
AllFrames = Annotated[bool, typer.Option("--all-frames", help="Analyse every frame in frames/.")]
NoFrames = Annotated[bool, typer.Option("--no-frames", help="Skip all frame analysis.")]
RequireFrames = Annotated[
    bool,
    typer.Option(
        "--require-frames",
        help="A frame referenced by a face operation but absent from the bundle is an input "
        "error (exit 3); by default it is a notice, since frames are samples.",
    ),
]
