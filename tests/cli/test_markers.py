"""The `e2e` marker lists in tests/conftest.py name real files and fixtures, so they cannot rot
into marking nothing (and `make test-fast` into running the slow half again)."""

from __future__ import annotations

import re

from tests.conftest import E2E_FIXTURES, E2E_MODULES, ROOT


def test_every_e2e_module_exists() -> None:
    missing = sorted(m for m in E2E_MODULES if not (ROOT / m).is_file())
    assert not missing


def test_every_e2e_fixture_is_defined_somewhere() -> None:
    defined: set[str] = set()
    for path in (ROOT / "tests").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        defined.update(re.findall(r"@pytest\.fixture[^\n]*\n(?:@[^\n]*\n)*def (\w+)", text))
    assert E2E_FIXTURES <= defined, sorted(E2E_FIXTURES - defined)


def test_the_cli_fixture_marks_a_test_e2e() -> None:
    """A test of this very folder that uses `cli` carries the marker after collection."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "e2e", "tests/cli"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    assert "tests/cli/test_cli_manners.py::" in out
    assert "tests/cli/test_markers.py::" not in out
