"""The command line (typer). The only module that prints or exits.

Exit codes: 0 no finding at or above --fail-on; 1 findings at or above it; 2 usage, config or
pack error (nothing audited); 3 audit incomplete (some input unreadable; reports still written).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from auditor import __version__
from auditor.errors import AuditorError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Audit video-pipeline logs and frames against facial-recognition moratoria.")
policy_app = typer.Typer(no_args_is_help=True, help="List, show and lint policy packs.")
cache_app = typer.Typer(no_args_is_help=True, help="Manage the face cache (descriptors).")
app.add_typer(policy_app, name="policy")
app.add_typer(cache_app, name="cache")

FAIL_ON = ("low", "medium", "high", "critical", "never")


def _db_url(db: str | None) -> str:
    from auditor.store import DEFAULT_URL

    return db or os.environ.get("AUDITOR_DB") or DEFAULT_URL


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"auditor: error: {message}", err=True)
    raise typer.Exit(code)


def _progress_bar() -> tuple[Callable[[str, int, int], None] | None, Callable[[], None]]:
    """A progress callback that draws on a terminal only, and a function to close it."""
    if not sys.stdout.isatty() or not sys.stderr.isatty():
        return None, lambda: None
    from rich.progress import Progress

    bar = Progress(transient=True)
    bar.start()
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return update, bar.stop


def _write(text: str, output: str | None) -> str:
    if output is None or output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return "-"
    path = Path(output)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"{output}: cannot write report: {exc.strerror or exc}")
    return str(path)


def _render_all(report: dict[str, Any], formats: list[str], outputs: list[str],
                show_faces: bool = False) -> None:
    from auditor.report import REPORTERS, RenderOptions

    formats = formats or ["table"]
    if outputs and len(outputs) != len(formats):
        _fail(f"give one --output per --format ({len(formats)} format(s), {len(outputs)} output(s))")
    written = []
    for i, fmt in enumerate(formats):
        if fmt not in REPORTERS:
            _fail(f"unknown format {fmt!r} (known: {', '.join(REPORTERS)})")
        output = outputs[i] if outputs else None
        color = fmt == "table" and (output in (None, "-")) and sys.stdout.isatty()
        text = REPORTERS[fmt].render(report, RenderOptions(color=color, show_faces=show_faces))
        where = _write(text, output)
        if where != "-":
            written.append(f"{fmt}: {where}")
    for line in written:
        typer.echo(f"report written: {line}", err=True)


@app.command()
def audit(
    bundle: Annotated[Path, typer.Argument(help="The audit bundle folder.")],
    policy: Annotated[list[str] | None, typer.Option(
        "--policy", "-p", help="Pack id in seeds/, a pack file, or 'all' (default: all). Repeatable.")] = None,
    fmt: Annotated[list[str] | None, typer.Option(
        "--format", "-f", help="table, json. Repeatable.")] = None,
    output: Annotated[list[str] | None, typer.Option(
        "--output", "-o", help="File per --format, in order ('-' = stdout).")] = None,
    fail_on: Annotated[str, typer.Option(help="low|medium|high|critical|never")] = "low",
    db: Annotated[str | None, typer.Option(help="Database URL (default: AUDITOR_DB or sqlite:///.auditor/audit.db).")] = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not record this run.")] = False,
    workers: Annotated[int, typer.Option(help="Worker processes (0 = one per core).")] = 0,
    all_frames: Annotated[bool, typer.Option("--all-frames", help="Analyse every frame in frames/.")] = False,
    no_frames: Annotated[bool, typer.Option("--no-frames", help="Skip all frame analysis.")] = False,
    upsample: Annotated[int, typer.Option(help="HOG detector upsampling (faces down to ~40 px at 1).")] = 1,
    probe_tolerance: Annotated[float, typer.Option(help="Max descriptor distance for a probe match.")] = 0.6,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor keep cached faces.")] = False,
    show_faces: Annotated[bool, typer.Option("--show-faces", help="Unblurred thumbnails in human reports.")] = False,
) -> None:
    """Audit BUNDLE (logs/, frames/, probes/, principals.toml, audit.toml)."""
    from auditor.audit import AuditOptions, run_audit

    if fail_on not in FAIL_ON:
        _fail(f"--fail-on must be one of {', '.join(FAIL_ON)}")
    if all_frames and no_frames:
        _fail("--all-frames and --no-frames exclude each other")
    if upsample < 0 or upsample > 3:
        _fail("--upsample must be between 0 and 3")
    options = AuditOptions(
        policies=tuple(policy or ()), workers=workers,
        frames="none" if no_frames else "all" if all_frames else "referenced",
        fail_on=fail_on, face_upsample=upsample, probe_tolerance=probe_tolerance,
        use_cache=not no_cache, store_url=None if no_store else _db_url(db),
    )
    update, close = _progress_bar()
    try:
        result = run_audit(bundle, options, update)
    except AuditorError as exc:
        close()
        _fail(str(exc))
    close()
    _render_all(result.report, list(fmt or []), list(output or []), show_faces)
    if result.issues:
        typer.echo(f"auditor: audit incomplete: {len(result.issues)} input error(s), "
                   "listed in the report", err=True)
    raise typer.Exit(result.exit_code)


@policy_app.command("list")
def policy_list() -> None:
    """List the packs shipped in seeds/."""
    from auditor.policy import load_pack, seed_files

    for path in seed_files():
        try:
            pack = load_pack(path, path.name)
        except AuditorError as exc:
            typer.echo(f"{path.stem}  INVALID: {exc}")
            continue
        until = pack.effective_until.date().isoformat() if pack.effective_until else (
            pack.end_condition or "open-ended")
        typer.echo(f"{pack.id}  {pack.version}  {pack.status}  "
                   f"{pack.effective_from.date().isoformat()} .. {until}  {pack.title}")


@policy_app.command("show")
def policy_show(pack_id: Annotated[str, typer.Argument(help="Pack id or file.")]) -> None:
    """Show a pack: metadata, sources, rules and exceptions."""
    from auditor.policy import resolve

    try:
        pack = resolve([pack_id])[0]
    except AuditorError as exc:
        _fail(str(exc))
    until = pack.effective_until.date().isoformat() if pack.effective_until else (
        pack.end_condition or "open-ended")
    typer.echo(f"{pack.id} {pack.version} ({pack.status})\n{pack.title}")
    typer.echo(f"effective: {pack.effective_from.date().isoformat()} .. {until}")
    for key, value in pack.instrument:
        typer.echo(f"{key}: {value}")
    if pack.summary:
        typer.echo(f"\n{pack.summary}")
    typer.echo("\nsources:")
    for s in pack.sources:
        typer.echo(f"  [{s.confidence}] {s.id}: {s.title} {s.url}".rstrip())
    typer.echo("\nrules:")
    for r in pack.rules:
        mark = "" if r.confidence == "P" else f" [confidence {r.confidence}]"
        typer.echo(f"  {r.id} {r.kind} {r.severity.label}{mark}: {r.title}")
        typer.echo(f"    principals: {', '.join(r.principals)}; services: {', '.join(r.services)};"
                   f" operations: {', '.join(o.value for o in r.operations)}")
        for e in r.exceptions:
            parts = []
            if e.organisations:
                parts.append("organisations: " + ", ".join(e.organisations))
            if e.purposes:
                parts.append("purposes: " + ", ".join(e.purposes))
            if e.required_evidence:
                parts.append("requires: " + ", ".join(e.required_evidence))
            typer.echo(f"    exception {e.id}: {'; '.join(parts)}")


@policy_app.command("lint")
def policy_lint(files: Annotated[list[Path], typer.Argument(help="Pack files to check.")]) -> None:
    """Validate pack files; prints file:line: message for each problem (exit 2 if any)."""
    from auditor.policy import load_pack

    bad = 0
    for path in files:
        try:
            pack = load_pack(path, str(path))
        except AuditorError as exc:
            bad += 1
            typer.echo(str(exc))
            continue
        typer.echo(f"{path}: ok ({pack.id} {pack.version}, {len(pack.rules)} rule(s))")
    if bad:
        raise typer.Exit(2)


@app.command()
def runs(
    db: Annotated[str | None, typer.Option(help="Database URL.")] = None,
    limit: Annotated[int, typer.Option(help="How many runs.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
) -> None:
    """List past runs recorded in the store."""
    from auditor.store import Store

    try:
        rows = Store(_db_url(db)).runs(limit)
    except AuditorError as exc:
        _fail(str(exc))
    for r in rows:
        if as_json:
            typer.echo(json.dumps({"id": r.id, "started": r.started.isoformat(), "status": r.status,
                                   "exit_code": r.exit_code, "findings": r.findings,
                                   "errors": r.errors, "bundle": r.bundle}))
        else:
            typer.echo(f"{r.id[:12]}  {r.started:%Y-%m-%d %H:%M:%S}  {r.status:<10}  exit {r.exit_code}"
                       f"  {r.findings} finding(s)  {r.errors} error(s)  {r.bundle}")
    if not rows and not as_json:
        typer.echo("no runs recorded")


@app.command()
def report(
    run_id: Annotated[str, typer.Argument(help="Run id (or a unique prefix) from `auditor runs`.")],
    fmt: Annotated[list[str] | None, typer.Option("--format", "-f")] = None,
    output: Annotated[list[str] | None, typer.Option("--output", "-o")] = None,
    db: Annotated[str | None, typer.Option(help="Database URL.")] = None,
    show_faces: Annotated[bool, typer.Option("--show-faces")] = False,
) -> None:
    """Re-render a past run from the store without re-auditing."""
    from auditor.store import Store

    try:
        data = Store(_db_url(db)).report(run_id)
    except AuditorError as exc:
        _fail(str(exc))
    if data is None:
        _fail(f"no single run matches {run_id!r}")
    _render_all(data, list(fmt or []), list(output or []), show_faces)


@app.command()
def version() -> None:
    """Print the version of auditor and of the dlib build it uses."""
    typer.echo(f"auditor {__version__}")


def main() -> None:
    """Console-script entry point: run the app, turning stray errors into exit 2 without a traceback."""
    try:
        app()
    except AuditorError as exc:
        typer.echo(f"auditor: error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("auditor: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - a bug must still not look like a clean run
        if os.environ.get("AUDITOR_DEBUG"):
            raise
        typer.echo(f"auditor: internal error: {type(exc).__name__}: {exc} "
                   "(set AUDITOR_DEBUG=1 for a traceback)", err=True)
        sys.exit(2)
