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
policy_app = typer.Typer(no_args_is_help=True,
                         help="List, show, lint and export policy packs.")
cache_app = typer.Typer(no_args_is_help=True, help="Manage the face cache (descriptors).")
app.add_typer(policy_app, name="policy")
app.add_typer(cache_app, name="cache")
baseline_app = typer.Typer(no_args_is_help=True,
                           help="Accept findings for a while, with a reason (--baseline FILE).")
app.add_typer(baseline_app, name="baseline")

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


def _plan_outputs(formats: list[str], outputs: list[str],
                  output_dir: Path | None) -> list[tuple[str, str | None]]:
    """(format, output) pairs; checked before any work so a typo costs nothing (exit 2)."""
    from auditor.report import REPORTERS

    formats = formats or ["table"]
    for fmt in formats:
        if fmt not in REPORTERS:
            _fail(f"unknown format {fmt!r} (known: {', '.join(REPORTERS)})")
    if output_dir is not None:
        if outputs:
            _fail("give either --output or --output-dir, not both")
        if len(set(formats)) != len(formats):
            _fail("with --output-dir each --format may be given once")
        return [(f, str(output_dir / f"report.{REPORTERS[f].extension}")) for f in formats]
    if outputs and len(outputs) != len(formats):
        _fail(f"give one --output per --format ({len(formats)} format(s), "
              f"{len(outputs)} output(s))")
    return [(f, outputs[i] if outputs else None) for i, f in enumerate(formats)]


def _render_all(report: dict[str, Any], formats: list[str], outputs: list[str],
                show_faces: bool = False, output_dir: Path | None = None,
                bundle_root: str | None = None) -> None:
    from auditor.report import REPORTERS, RenderOptions

    written = []
    for fmt, output in _plan_outputs(formats, outputs, output_dir):
        color = fmt == "table" and (output in (None, "-")) and sys.stdout.isatty()
        options = RenderOptions(color=color, show_faces=show_faces, bundle_root=bundle_root)
        try:
            text = REPORTERS[fmt].render(report, options)
        except (KeyError, TypeError, ValueError) as exc:
            _fail(f"cannot render the {fmt} report: {type(exc).__name__}: {exc}")
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
        "--format", "-f", help="table, json, sarif, junit, csv, html. Repeatable.")] = None,
    output: Annotated[list[str] | None, typer.Option(
        "--output", "-o", help="File per --format, in order ('-' = stdout).")] = None,
    output_dir: Annotated[Path | None, typer.Option(
        "--output-dir", help="Write every --format to DIR/report.<ext> instead.")] = None,
    fail_on: Annotated[str, typer.Option(help="low|medium|high|critical|never")] = "low",
    baseline: Annotated[Path | None, typer.Option(
        "--baseline", help="Accepted findings (auditor baseline create): reported, not failing.")
    ] = None,
    exit_zero: Annotated[bool, typer.Option(
        "--exit-zero", help="Exit 0 even when findings reach --fail-on (2 and 3 still apply).")
    ] = False,
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
    _plan_outputs(list(fmt or []), list(output or []), output_dir)
    if all_frames and no_frames:
        _fail("--all-frames and --no-frames exclude each other")
    if upsample < 0 or upsample > 3:
        _fail("--upsample must be between 0 and 3")
    options = AuditOptions(
        policies=tuple(policy or ()), workers=workers,
        frames="none" if no_frames else "all" if all_frames else "referenced",
        fail_on=fail_on, face_upsample=upsample, probe_tolerance=probe_tolerance,
        use_cache=not no_cache, store_url=None if no_store else _db_url(db),
        baseline=None if baseline is None else str(baseline),
    )
    update, close = _progress_bar()
    try:
        result = run_audit(bundle, options, update)
    except AuditorError as exc:
        close()
        _fail(str(exc))
    close()
    for warning in result.warnings:
        typer.echo(f"auditor: warning: {warning}", err=True)
    _render_all(result.report, list(fmt or []), list(output or []), show_faces, output_dir,
                str(bundle))
    if result.issues:
        typer.echo(f"auditor: audit incomplete: {len(result.issues)} input error(s), "
                   "listed in the report", err=True)
    raise typer.Exit(0 if exit_zero and result.exit_code == 1 else result.exit_code)


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
        mark = "" if pack.dates_confidence == "P" else f" [{pack.dates_confidence}]"
        typer.echo(f"{pack.id}  {pack.version}  {pack.status}  "
                   f"{pack.effective_from.date().isoformat()} .. {until}{mark}  {pack.title}")


@policy_app.command("show")
def policy_show(pack_id: Annotated[str, typer.Argument(help="Pack id or file.")]) -> None:
    """Show a pack: metadata, sources, rules, exceptions and duties; S and U marks shown."""
    from auditor.policy import resolve
    from auditor.policy.describe import describe

    try:
        pack = resolve([pack_id])[0]
    except AuditorError as exc:
        _fail(str(exc))
    typer.echo("\n".join(describe(pack)))


@policy_app.command("lint")
def policy_lint(files: Annotated[list[Path], typer.Argument(help="Pack files to check.")]) -> None:
    """Validate pack files; prints file:line: message for EVERY problem (exit 2 if any)."""
    from auditor.policy import check_pack

    bad = 0
    for path in files:
        check = check_pack(path, str(path))
        for error in check.errors:
            typer.echo(str(error))
        if check.pack is None:
            bad += 1
            typer.echo(f"{path}: {len(check.errors)} problem(s)")
            continue
        pack = check.pack
        typer.echo(f"{path}: ok ({pack.id} {pack.version}, {len(pack.rules)} rule(s))")
    if bad:
        raise typer.Exit(2)


@policy_app.command("export")
def policy_export(
    pack_id: Annotated[str, typer.Argument(help="Pack id or file.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="sigma")] = "sigma",
    principals: Annotated[Path | None, typer.Option(
        help="principals.toml whose ARNs/accounts are inlined as the principal allowlist.")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Folder for one .yml per rule (default: stdout).")] = None,
) -> None:
    """Write the pack's CloudTrail-expressible rules as Sigma rules (no ATT&CK tags)."""
    from auditor.policy import resolve
    from auditor.policy.sigma import as_document, export_sigma, read_principals

    if fmt != "sigma":
        _fail(f"unknown export format {fmt!r} (known: sigma)")
    try:
        pack = resolve([pack_id])[0]
        entries = read_principals(principals, str(principals)) if principals else None
    except AuditorError as exc:
        _fail(str(exc))
    rules, notes = export_sigma(pack, entries)
    for note in notes:
        typer.echo(f"auditor: {note}", err=True)
    if not rules:
        _fail(f"{pack.id}: no rule can be expressed as a CloudTrail Sigma rule")
    if output is None:
        sys.stdout.write(as_document(rules))
        return
    try:
        output.mkdir(parents=True, exist_ok=True)
        for rule in rules:
            (output / rule.filename).write_text(rule.text, encoding="utf-8")
    except OSError as exc:
        _fail(f"{output}: cannot write: {exc.strerror or exc}")
    typer.echo(f"{len(rules)} Sigma rule(s) written to {output}", err=True)


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
    fmt: Annotated[list[str] | None, typer.Option(
        "--format", "-f", help="table, json, sarif, junit, csv, html. Repeatable.")] = None,
    output: Annotated[list[str] | None, typer.Option(
        "--output", "-o", help="File per --format, in order ('-' = stdout).")] = None,
    output_dir: Annotated[Path | None, typer.Option(
        "--output-dir", help="Write every --format to DIR/report.<ext> instead.")] = None,
    db: Annotated[str | None, typer.Option(help="Database URL.")] = None,
    show_faces: Annotated[bool, typer.Option("--show-faces")] = False,
    bundle_dir: Annotated[Path | None, typer.Option(
        "--bundle", help="Bundle folder for HTML thumbnails (default: where the run read it).")
    ] = None,
) -> None:
    """Re-render a past run from the store without re-auditing."""
    from auditor.store import Store

    try:
        data = Store(_db_url(db)).report(run_id)
    except AuditorError as exc:
        _fail(str(exc))
    if data is None:
        _fail(f"no single run matches {run_id!r}")
    _plan_outputs(list(fmt or []), list(output or []), output_dir)
    root = str(bundle_dir) if bundle_dir is not None else _stored_bundle(run_id, db)
    _render_all(data, list(fmt or []), list(output or []), show_faces, output_dir, root)


def _stored_bundle(run_id: str, db: str | None) -> str | None:
    """The bundle folder a stored run read (for HTML thumbnails), when it is unambiguous."""
    from auditor.store import Store

    try:
        rows = [r for r in Store(_db_url(db)).runs(1_000_000) if r.id.startswith(run_id)]
    except AuditorError:
        return None
    return rows[0].bundle if len(rows) == 1 else None


@baseline_app.command("create")
def baseline_create(
    report_file: Annotated[Path, typer.Argument(
        help="A JSON report (auditor audit ... -f json -o REPORT.json).")],
    reason: Annotated[str, typer.Option(help="Why these findings are accepted.")],
    who: Annotated[str, typer.Option(help="Who accepts them (name or team).")],
    expires: Annotated[str, typer.Option(help="Last day the entries apply, YYYY-MM-DD.")],
    output: Annotated[Path, typer.Option(
        "--output", "-o", help="Baseline file; an existing one keeps its entries.")
    ] = Path("auditor-baseline.json"),
    finding: Annotated[list[str] | None, typer.Option(
        "--finding", help="Only this finding id (or unique prefix). Repeatable; default: all.")
    ] = None,
) -> None:
    """Write a baseline from a JSON report: each finding's fingerprint, reason, who, expiry."""
    from datetime import UTC, datetime

    from auditor import baseline as baseline_mod

    try:
        until = baseline_mod.parse_expiry(expires)
        today = datetime.now(UTC).date()
        if until < today:
            _fail(f"--expires {until.isoformat()} is already past")
        try:
            report_data = json.loads(report_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            _fail(f"{report_file}: cannot read the JSON report: {exc}")
        if not isinstance(report_data, dict):
            _fail(f"{report_file}: not an auditor JSON report")
        existing = baseline_mod.load(output) if output.exists() else None
        new = baseline_mod.entries_from_report(report_data, reason=reason, who=who,
                                               expires=until, created=today,
                                               only=list(finding or []))
        entries, added = baseline_mod.merge(existing, new)
    except AuditorError as exc:
        _fail(str(exc))
    where = _write(baseline_mod.dumps(entries), str(output))
    typer.echo(f"baseline written: {where} ({added} new entr{'y' if added == 1 else 'ies'}, "
               f"{len(entries)} in all, expiring {until.isoformat()})", err=True)


@app.command()
def faces(
    paths: Annotated[list[Path], typer.Argument(help="Image files or folders.")],
    as_json: Annotated[bool, typer.Option("--json", help="Write a JSON list, one entry per image.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor keep cached faces.")] = False,
    workers: Annotated[int, typer.Option(help="Worker processes (0 = one per core).")] = 0,
    upsample: Annotated[int, typer.Option(help="HOG detector upsampling.")] = 1,
    db: Annotated[str | None, typer.Option(help="Database URL (holds the cache).")] = None,
) -> None:
    """The face-embedding pass alone: faces and boxes per image, with the timing split."""
    from auditor.audit import worker_count
    from auditor.evidence import image_files, scan_images

    if upsample < 0 or upsample > 3:
        _fail("--upsample must be between 0 and 3")
    files, missing = image_files(paths)
    for name in missing:
        typer.echo(f"auditor: error: {name}: not found", err=True)
    update, close = _progress_bar()
    try:
        rows, engine = scan_images(files, upsample, worker_count(workers),
                                   None if no_cache else _db_url(db), not no_cache, update)
    except AuditorError as exc:
        close()
        _fail(str(exc))
    close()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
    else:
        build = engine["build"]
        typer.echo(f"dlib {build.get('dlib')} (BLAS {build.get('DLIB_USE_BLAS')}, AVX {build.get('USE_AVX_INSTRUCTIONS')}), "
                   f"upsample {engine['params']['upsample']}, fingerprint {engine['fingerprint'][:12]}")
        total: dict[str, float] = {}
        for row in rows:
            if row["error"]:
                typer.echo(f"{row['path']}: ERROR {row['error']}")
                continue
            for key, value in row["timings"].items():
                total[key] = total.get(key, 0.0) + value
            timing = "cached" if row["cached"] else " ".join(
                f"{k} {v * 1000:.0f}ms" for k, v in row["timings"].items())
            boxes = " ".join("({},{},{},{})".format(*b) for b in row["boxes"])
            typer.echo(f"{row['path']}: {row['faces']} face(s) {boxes}  [{timing}]")
        found = sum(r["faces"] or 0 for r in rows)
        split = ", ".join(f"{k} {v:.2f}s" for k, v in total.items())
        typer.echo(f"{len(rows)} image(s), {found} face(s); summed worker time: {split or 'all cached'}")
    bad = sum(1 for r in rows if r["error"]) + len(missing)
    raise typer.Exit(3 if bad else 0)


@cache_app.command("purge")
def cache_purge(db: Annotated[str | None, typer.Option(help="Database URL.")] = None) -> None:
    """Delete every cached face (descriptors included) from the store."""
    from auditor.store import Store

    try:
        count = Store(_db_url(db)).purge_faces()
    except AuditorError as exc:
        _fail(str(exc))
    typer.echo(f"purged cached faces of {count} image(s)")


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
