"""A `postgresql://` URL on an install without the `postgres` extra: the real `auditor` entry
point, in a process where psycopg cannot be imported, says how to install it (exit 2), with no
internal error, no traceback and no password."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

#: Runs the console-script entry point with psycopg made unimportable.
NO_PSYCOPG = (
    "import sys; sys.modules['psycopg'] = None; sys.modules['psycopg2'] = None; "
    "from auditor.cli import main; sys.argv = ['auditor', *sys.argv[1:]]; main()"
)


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
@pytest.mark.parametrize("command", [["runs"], ["audit", "{bundle}", "--no-frames"]])
def test_postgresql_url_without_psycopg_says_how_to_install(
    scheme: str, command: list[str], demo_bundle: Path
) -> None:
    url = f"{scheme}://auditor:s3cr3t-pw@127.0.0.1:1/audits"
    args = [a.replace("{bundle}", str(demo_bundle)) for a in command]
    proc = subprocess.run(
        [sys.executable, "-c", NO_PSYCOPG, *args, "--db", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert "pip install 'auditor[postgres]'" in out, out
    assert "internal error" not in out and "Traceback" not in out, out
    assert "s3cr3t-pw" not in out, out
