"""The typer apps, and the one way the command line prints and fails.

Every command module registers on these apps and prints through `echo` (input text cleaned of
terminal control sequences) and fails through `_fail` (the `auditor: error:` line and exit 2), so
the wording and the cleaning are the same everywhere. Shared options live in `cli.options`, report
writing in `cli.output`.
"""

from __future__ import annotations

import os
from typing import Annotated, NoReturn

import typer

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
