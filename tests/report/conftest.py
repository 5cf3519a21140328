"""Fixtures for the report tests: one real audit of the demo bundle, shared by every format test.

The audit runs once per session through the real command line (dlib included); its face cache
lives in a session database so later audits in these tests reuse it. Golden comparisons render
a canonical copy of the report whose run block and face-engine build (the only parts that vary
between runs and machines) are replaced by fixed values (see report_helpers.canonical).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from report_helpers import CHROMIUM, DEMO, GOLDEN_PACKS, Chromium

from tests.conftest import run_auditor


@pytest.fixture(scope="session")
def session_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database shared by the session, so frames are analysed once."""
    return f"sqlite:///{tmp_path_factory.mktemp('reportdb') / 'audit.db'}"


@pytest.fixture(scope="session")
def run_cli() -> Callable[..., Any]:
    """The real `auditor` command as a process (stdout and stderr kept apart)."""
    return run_auditor


@pytest.fixture(scope="session")
def demo_report(
    tmp_path_factory: pytest.TempPathFactory, session_db: str, run_cli: Callable[..., Any]
) -> dict[str, Any]:
    """The JSON report of a real audit of fixtures/demo with the golden packs."""
    out = tmp_path_factory.mktemp("demo") / "report.json"
    args: list[object] = ["audit", DEMO, "--db", session_db, "-f", "json", "-o", out]
    for pack in GOLDEN_PACKS:
        args += ["--policy", pack]
    result = run_cli(*args)
    assert result.exit_code == 1, result.stderr
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    """True under `pytest --update-goldens`."""
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture(scope="session")
def chromium() -> Chromium:
    """The browser the HTML tests use (Debian's chromium).

    `make test` installs it first (scripts/install-chromium.sh, which needs root or sudo). A
    test run does not install system packages itself: without the browser these tests fail and
    say how to install it (they are end to end, so `make test-fast` leaves them out).
    """
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is absent: the browser checks of the HTML report need Debian's "
            "chromium (`make chromium` installs it; `make test` does so first)"
        )
    return Chromium()
