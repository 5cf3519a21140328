"""`auditor verify` (reproduce a report) and `auditor export` (the evidence an NGO publishes).

verify exit codes: 0 reproduced; 1 not reproduced (each difference is named); 2 usage, a bad
report or archive, or a bad pack; 3 the re-run could not read every input (takes precedence,
as in `audit`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from auditor.cli.common import _db_url, _fail, app, echo
from auditor.cli.options import Db, Workers
from auditor.cli.output import _atomic
from auditor.config.bundlefs import is_url
from auditor.core.errors import AuditorError

if TYPE_CHECKING:
    from auditor.core.reportdoc import TypedReport
    from auditor.evidence_pack.verify import Verification

_MARK = {True: "ok  ", False: "FAIL"}


@app.command()
def verify(
    report: Annotated[
        Path,
        typer.Argument(
            help="A JSON report (--format json), or an evidence archive from `auditor export`."
        ),
    ],
    bundle: Annotated[
        str | None,
        typer.Argument(
            help="The bundle (a folder, or an fsspec URL such as s3://bucket/prefix/), or an "
            "evidence archive for the log-only check."
        ),
    ] = None,
    policy: Annotated[
        list[Path] | None,
        typer.Option(
            "--policy",
            "-p",
            help="The exact pack files the report used (default: the archive's "
            "packs, else seeds/ by id). Repeatable.",
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline", help="The baseline file the report used, to compare `baselined` marks."
        ),
    ] = None,
    workers: Workers = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="The result as one JSON document.")
    ] = False,
) -> None:
    """Re-check hashes and packs, re-run the audit with the report's settings, and compare."""
    files = list(policy or [])
    try:
        result = _verify(report, bundle, files, workers, baseline)
    except AuditorError as exc:
        _fail(str(exc))
    if as_json:
        echo(json.dumps(result.as_dict(), indent=2, sort_keys=True))
    else:
        echo(f"verify ({result.mode}):")
        for p in result.points:
            mark = "note" if p.note else _MARK[p.ok]
            echo(f"  {mark}  {p.message}")
            for line in p.details:
                echo(f"          {line}")
        for line in result.rerun_errors:
            echo(f"  input error in the re-run: {line}", err=True)
        verdict = "reproduced" if result.reproduced else "NOT reproduced"
        echo(f"verify: {verdict}")
    if result.rerun_incomplete:
        raise typer.Exit(3)
    raise typer.Exit(0 if result.reproduced else 1)


def _verify(
    report: Path, bundle: str | None, files: list[Path], workers: int, baseline: Path | None
) -> Verification:
    """Pick the mode from what was given: archive alone (log-only), report + archive, or a
    report (or archive) + the bundle itself (full)."""
    from auditor.config.bundle import bundle_fs
    from auditor.evidence_pack import archive as archive_mod
    from auditor.evidence_pack import verify as verify_mod

    given = None if bundle is None or is_url(bundle) else Path(bundle)
    if given is not None and archive_mod.is_archive(given):
        if archive_mod.is_archive(report):
            _fail("give one evidence archive, not two")
        return verify_mod.verify_archive(
            verify_mod.load_report(report), given, policy_files=files, workers=workers
        )
    if given is not None and given.is_file():
        _fail(f"{bundle}: neither a bundle folder nor an evidence archive")
    fs = None if bundle is None else bundle_fs(bundle)
    if archive_mod.is_archive(report):
        return verify_mod.verify_archive(
            None, report, policy_files=files, bundle=fs, workers=workers, baseline=baseline
        )
    data = verify_mod.load_report(report)
    if fs is None:
        _fail("a JSON report needs the BUNDLE (or an evidence archive) to verify")
    return verify_mod.verify_bundle(
        data, fs, policy_files=files, workers=workers, baseline=baseline
    )


@app.command()
def export(
    run_id: Annotated[str, typer.Argument(help="Run id (or a unique prefix) from `auditor runs`.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The archive to write (.zip).")],
    db: Db = None,
    bundle_dir: Annotated[
        str | None,
        typer.Option(
            "--bundle",
            help="The bundle: a folder or an fsspec URL (default: where the run read it).",
        ),
    ] = None,
    policy: Annotated[
        list[Path] | None,
        typer.Option(
            "--policy",
            "-p",
            help="Pack files the run used, when they are not in seeds/ any more. Repeatable.",
        ),
    ] = None,
) -> None:
    """Write what an NGO may publish: report, records behind findings, packs, blurred thumbs."""
    from auditor.config.bundle import bundle_fs
    from auditor.evidence_pack import archive as archive_mod
    from auditor.store import Store

    try:
        store = Store(_db_url(db))
        report = store.report(run_id)
        if report is None:
            _fail(f"no single run matches {run_id!r}")
        row = store.find_run(run_id)
        where = bundle_dir if bundle_dir is not None else (row.bundle if row else ".")
        try:
            fs = bundle_fs(where)
        except AuditorError as exc:
            _fail(f"{exc} (give the bundle with --bundle)")
        data = archive_mod.build(report, fs, _pack_bytes(report, list(policy or [])))
    except AuditorError as exc:
        _fail(str(exc))
    try:
        with _atomic(output, binary=True) as fh:
            fh.write(data)
    except OSError as exc:
        _fail(f"{output}: cannot write: {exc.strerror or exc}")
    findings = len(report.findings)
    echo(f"evidence written: {output} ({findings} finding(s), {len(data):,} bytes)", err=True)


def _pack_bytes(report: TypedReport, files: list[Path]) -> dict[str, bytes]:
    """Pack id -> file bytes, from --policy files and seeds/ (hashes are checked by build)."""
    import hashlib

    from auditor.policy import seed_files

    wanted = {p.id: p.sha256 for p in report.head.packs}
    out: dict[str, bytes] = {}
    try:
        shipped = seed_files()
    except AuditorError:  # no shipped packs: the --policy files alone
        shipped = []
    for path in [*files, *shipped]:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        digest = hashlib.sha256(data).hexdigest()
        for pid, sha in wanted.items():
            if sha == digest and pid not in out:
                out[pid] = data
    return out
