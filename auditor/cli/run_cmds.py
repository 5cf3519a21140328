"""Commands that audit and re-render: `audit`, `runs`, `report`, `version`."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from auditor import __version__
from auditor.cli.common import _db_url, _fail, app, echo
from auditor.cli.options import (
    AllFrames,
    BaselineFile,
    BundleArg,
    CacheDb,
    Color,
    CsvBom,
    Db,
    Detector,
    DetectorName,
    ExitZero,
    FailOn,
    FailOnLevel,
    FailOnUndecided,
    Formats,
    Kernel,
    KernelName,
    NoCache,
    NoFrames,
    NoStore,
    OutputDir,
    Outputs,
    Policy,
    ProbeTolerance,
    Quiet,
    RequireFrames,
    Scheduler,
    SchedulerFile,
    SchedulerTimeout,
    ShowFaces,
    Upsample,
    Verbose,
    Workers,
)
from auditor.cli.output import _check_csv_bom, _plan_outputs, _render_all
from auditor.cli.terminal import ColorMode, StageTimes, Verbosity, progress, verbosity, verdict_line
from auditor.core import defaults
from auditor.core.cachedir import face_cache_url
from auditor.core.errors import AuditorError
from auditor.core.gate import DEFAULT_FAIL_ON
from auditor.faces.detectors import DEFAULT_DETECTOR
from auditor.faces.kernels import DEFAULT_KERNEL

if TYPE_CHECKING:
    from auditor.run.options import AuditResult

SarifRoot = Annotated[
    str | None,
    typer.Option(
        "--sarif-root",
        help="The bundle folder's path relative to the repository root: SARIF paths are "
        "written repository-relative, so GitHub code scanning places the results.",
    ),
]


def _sarif_root(value: str | None) -> str | None:
    """--sarif-root checked before any work (exit 2 for a path outside the repository)."""
    from auditor.report.sarif_github import check_root

    if value is None:
        return None
    try:
        return check_root(value)
    except ValueError as exc:
        _fail(str(exc))


@app.command()
def audit(
    bundle: BundleArg,
    policy: Policy = None,
    fmt: Formats = None,
    output: Outputs = None,
    output_dir: OutputDir = None,
    fail_on: FailOn = FailOnLevel(DEFAULT_FAIL_ON),
    baseline: BaselineFile = None,
    exit_zero: ExitZero = False,
    fail_on_undecided: FailOnUndecided = False,
    db: Db = None,
    no_store: NoStore = False,
    cache_db: CacheDb = None,
    workers: Workers = 0,
    all_frames: AllFrames = False,
    no_frames: NoFrames = False,
    require_frames: RequireFrames = False,
    upsample: Upsample = defaults.UPSAMPLE,
    kernel: Kernel = KernelName(DEFAULT_KERNEL),
    detector: Detector = DetectorName(DEFAULT_DETECTOR),
    probe_tolerance: ProbeTolerance = defaults.PROBE_TOLERANCE,
    no_cache: NoCache = False,
    show_faces: ShowFaces = False,
    csv_bom: CsvBom = False,
    scheduler: Scheduler = None,
    scheduler_timeout: SchedulerTimeout = defaults.SCHEDULER_TIMEOUT,
    sarif_root: SarifRoot = None,
    color: Color = ColorMode.AUTO,
    quiet: Quiet = False,
    verbose: Verbose = False,
    scheduler_file: SchedulerFile = None,
) -> None:
    """Audit BUNDLE (logs/, frames/, probes/, principals.toml, audit.toml)."""
    from auditor.run.audit import run_audit
    from auditor.run.options import AuditOptions

    level = verbosity(quiet, verbose)
    _plan_outputs(list(fmt or []), list(output or []), output_dir)
    _check_csv_bom(csv_bom, list(fmt or []))
    root = _sarif_root(sarif_root)
    if all_frames and no_frames:
        _fail("--all-frames and --no-frames exclude each other")
    if scheduler_timeout <= 0:
        _fail("--scheduler-timeout must be positive")
    options = AuditOptions(
        policies=tuple(policy or ()),
        workers=workers,
        frames="none" if no_frames else "all" if all_frames else "referenced",
        fail_on=fail_on.value,
        face_upsample=upsample,
        face_kernel=kernel.value,
        face_detector=detector.value,
        probe_tolerance=probe_tolerance,
        use_cache=not no_cache,
        store_url=None if no_store else _db_url(db),
        cache_url=face_cache_url(cache_db) if no_store else None,
        baseline=None if baseline is None else str(baseline),
        scheduler=scheduler or None,
        scheduler_timeout=scheduler_timeout,
        scheduler_file=None if scheduler_file is None else str(scheduler_file),
        require_frames=require_frames,
        fail_on_undecided=fail_on_undecided,
    )
    times = StageTimes()
    update, close = progress(level, times, color)
    try:
        result = run_audit(bundle, options, update)
    except AuditorError as exc:
        close()
        _fail(str(exc))
    close()
    code = 0 if exit_zero and result.exit_code == 1 else result.exit_code
    render = functools.partial(
        _render_all,
        formats=list(fmt or []),
        outputs=list(output or []),
        show_faces=show_faces,
        output_dir=output_dir,
        bundle_root=str(bundle),
        csv_bom=csv_bom,
        sarif_root=root,
        color=color,
        level=level,
    )
    _say_result(result, code, render, times, level)
    raise typer.Exit(code)


def _say_result(
    result: AuditResult,
    code: int,
    render: Callable[[Any], bool],
    times: StageTimes,
    level: Verbosity,
) -> None:
    """Warnings, every report, the stage times and the verdict line; the result is closed
    (its findings stream from spill files until then)."""
    for warning in result.warnings:
        echo(f"auditor: warning: {warning}", err=True)
    try:
        on_stdout = render(result.report)
        if level is Verbosity.VERBOSE:
            for line in times.lines():
                echo(f"auditor: {line}", err=True)
        if level is Verbosity.VERBOSE or (level is Verbosity.NORMAL and not on_stdout):
            echo(verdict_line(result.report, code), err=True)
    finally:
        result.close()
    if result.issues:
        echo(
            f"auditor: audit incomplete: {len(result.issues)} input error(s), listed in the report",
            err=True,
        )


@app.command()
def runs(
    db: Db = None,
    limit: Annotated[int, typer.Option(min=1, help="How many runs.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
    prune_stale: Annotated[
        bool,
        typer.Option(
            "--prune-stale",
            help="First mark `failed` the runs left `running` by an audit of this host whose "
            "process is gone (killed).",
        ),
    ] = False,
) -> None:
    """List past runs recorded in the store."""
    from auditor.store import Store, missing_database

    absent = missing_database(_db_url(db))
    if absent is not None:  # listing reads; it never creates a database
        if not as_json:
            echo(f"no runs recorded (no database at {absent})")
        return
    try:
        store = Store(_db_url(db))
        if prune_stale:
            pruned, unknown = store.prune_stale()
            for run_id in pruned:
                echo(f"run {run_id[:12]}: its audit is gone; marked failed", err=True)
            if unknown:
                echo(
                    f"{len(unknown)} running run(s) cannot be checked from this host "
                    "(started elsewhere, or by an older version): left as they are",
                    err=True,
                )
        rows = store.runs(limit)
    except AuditorError as exc:
        _fail(str(exc))
    for r in rows:
        if as_json:
            echo(
                json.dumps(
                    {
                        "id": r.id,
                        "started": r.started.isoformat(),
                        "status": r.status,
                        "exit_code": r.exit_code,
                        "findings": r.findings,
                        "errors": r.errors,
                        "bundle": r.bundle,
                    }
                )
            )
        else:
            code = r.exit_code if r.exit_code >= 0 else "-"  # running or failed: no exit code
            echo(
                f"{r.id[:12]}  {r.started:%Y-%m-%d %H:%M:%S}  {r.status:<10}  exit {code}"
                f"  {r.findings} finding(s)  {r.errors} error(s)  {r.bundle}"
            )
    if not rows and not as_json:
        echo("no runs recorded")


@app.command()
def report(
    run_id: Annotated[str, typer.Argument(help="Run id (or a unique prefix) from `auditor runs`.")],
    fmt: Formats = None,
    output: Outputs = None,
    output_dir: OutputDir = None,
    db: Db = None,
    show_faces: ShowFaces = False,
    csv_bom: CsvBom = False,
    bundle_dir: Annotated[
        str | None,
        typer.Option(
            "--bundle",
            help="The bundle (folder or fsspec URL) for HTML thumbnails and excerpts "
            "(default: where the run read it).",
        ),
    ] = None,
    sarif_root: SarifRoot = None,
    color: Color = ColorMode.AUTO,
    quiet: Quiet = False,
) -> None:
    """Re-render a past run from the store without re-auditing."""
    from auditor.store import Store

    level = verbosity(quiet, False)
    _plan_outputs(list(fmt or []), list(output or []), output_dir)
    _check_csv_bom(csv_bom, list(fmt or []))
    root = _sarif_root(sarif_root)
    try:
        with Store(_db_url(db)) as store:
            row = store.find_run(run_id)
            if row is None:
                _fail(f"no single run matches {run_id!r}")
            data = store.load_report(row.id)
    except AuditorError as exc:
        _fail(str(exc))
    folder = bundle_dir if bundle_dir is not None else row.bundle
    _render_all(
        data,
        list(fmt or []),
        list(output or []),
        show_faces,
        output_dir,
        folder,
        csv_bom=csv_bom,
        sarif_root=root,
        color=color,
        level=level,
    )


@app.command()
def version(
    kernel: Kernel = KernelName(DEFAULT_KERNEL),
    detector: Detector = DetectorName(DEFAULT_DETECTOR),
) -> None:
    """Print the version of auditor, the descriptor kernel and face detector (the defaults
    unless given) and what they run on: the dlib build, the kernel's runtime, the model file
    hashes. These are the facts Dask workers are compared on for an audit with the same
    `--kernel` and `--detector`."""
    from auditor.faces.fingerprint import build_info

    echo(f"auditor {__version__}")
    echo(f"kernel: {kernel.value}")
    echo(f"detector: {detector.value}")
    for key, value in build_info(kernel.value, detector.value).items():
        echo(f"{key}: {value}")
