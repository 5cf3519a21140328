"""`auditor policy list | show | lint | export`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from auditor.cli.common import _fail, echo, policy_app
from auditor.core.errors import AuditorError


@policy_app.command("list")
def policy_list() -> None:
    """List the packs shipped in seeds/ (or in $AUDITOR_SEEDS); none found is an error."""
    from auditor.policy import load_pack, seed_files

    try:
        files = seed_files()
    except AuditorError as exc:
        _fail(str(exc))
    for path in files:
        try:
            pack = load_pack(path, path.name)
        except AuditorError as exc:
            echo(f"{path.stem}  INVALID: {exc}")
            continue
        until = (
            pack.effective_until.date().isoformat()
            if pack.effective_until
            else (pack.end_condition or "open-ended")
        )
        mark = "" if pack.dates_confidence == "P" else f" [{pack.dates_confidence}]"
        echo(
            f"{pack.id}  {pack.version}  {pack.status}  "
            f"{pack.effective_from.date().isoformat()} .. {until}{mark}  {pack.title}"
        )


@policy_app.command("show")
def policy_show(pack_id: Annotated[str, typer.Argument(help="Pack id or file.")]) -> None:
    """Show a pack: metadata, sources, rules, exceptions and duties; S and U marks shown."""
    from auditor.policy import resolve
    from auditor.policy.describe import describe

    try:
        pack = resolve([pack_id])[0]
    except AuditorError as exc:
        _fail(str(exc))
    echo("\n".join(describe(pack)))


@policy_app.command("lint")
def policy_lint(files: Annotated[list[Path], typer.Argument(help="Pack files to check.")]) -> None:
    """Validate pack files; prints file:line: message for EVERY problem (exit 2 if any)."""
    from auditor.policy import check_pack

    bad = 0
    for path in files:
        check = check_pack(path, str(path))
        for error in check.errors:
            echo(str(error))
        if check.pack is None:
            bad += 1
            echo(f"{path}: {len(check.errors)} problem(s)")
            continue
        pack = check.pack
        echo(f"{path}: ok ({pack.id} {pack.version}, {len(pack.rules)} rule(s))")
    if bad:
        raise typer.Exit(2)


@policy_app.command("export")
def policy_export(
    pack_id: Annotated[str, typer.Argument(help="Pack id or file.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="sigma")] = "sigma",
    principals: Annotated[
        Path | None,
        typer.Option(
            help="principals.toml whose ARNs/accounts are inlined as the principal allowlist."
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Folder for one .yml per rule (default: stdout)."),
    ] = None,
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
        echo(f"auditor: {note}", err=True)
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
    echo(f"{len(rules)} Sigma rule(s) written to {output}", err=True)
