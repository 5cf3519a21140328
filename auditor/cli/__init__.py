"""The command line (typer): the only package that prints or exits.

Exit codes: 0 no finding at or above --fail-on; 1 findings at or above it (or, with
--fail-on-undecided, any "cannot decide" entry); 2 usage, config or
pack error (nothing audited); 3 audit incomplete (some input unreadable; reports still written).
Commands live in one module per group (run_cmds, policy_cmds, baseline_cmds, face_cmds).
"""

from __future__ import annotations

import os
import sys

# Import order is --help order: audit first.
from auditor.cli import run_cmds  # noqa: F401 - registers commands
from auditor.cli import policy_cmds, baseline_cmds, face_cmds, verify_cmds  # noqa: F401
from auditor.cli.common import app, echo
from auditor.core.errors import AuditorError

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point: stray errors become exit 2 with a message, not a traceback.

    SIGTERM and SIGHUP end the command like SIGINT does (see `auditor.run.lifecycle`): the
    normal cleanup runs, then the exit code is 128 + the signal's number (143, 129; 130).
    """
    from auditor.run import lifecycle

    lifecycle.install()
    try:
        app()
    except AuditorError as exc:
        echo(f"auditor: error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        echo("auditor: interrupted", err=True)
        sys.exit(130)
    except lifecycle.Terminated as exc:
        echo(f"auditor: {exc}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - a bug must still not look like a clean run
        if os.environ.get("AUDITOR_DEBUG"):
            raise
        echo(
            f"auditor: internal error: {type(exc).__name__}: {exc} "
            "(set AUDITOR_DEBUG=1 for a traceback)",
            err=True,
        )
        sys.exit(2)
