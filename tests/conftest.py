"""Shared test fixtures: paths, a fresh copy of the demo bundle, the real CLI, a temp database."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
DEMO = FIXTURES / "demo"
REALDATA = FIXTURES / "realdata" / "cloudtrail"

#: Record counts from fixtures/realdata/cloudtrail/SOURCES.md.
REAL_COUNTS = {
    "218007301253_CloudTrail_us-east-1_20230710T1235Z_YbVFCP9AYzJDhHV9.json": 185,
    "218007301253_CloudTrail_us-east-1_20230710T1215Z_YMDRJwtmC82bUwAo.json": 156,
    "218007301253_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json": 55,
    "ec2_proxy_s3_exfiltration_2020-09-14011940.json": 103,
    "aws_cloudtrail.jsonl": 6,
}


@pytest.fixture(scope="session", autouse=True)
def weight_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The parsed descriptor-network cache goes to a temporary folder, not the user's cache."""
    import os

    folder = tmp_path_factory.mktemp("auditor-cache")
    os.environ["AUDITOR_CACHE_DIR"] = str(folder)
    return folder


@pytest.fixture(autouse=True)
def no_store_face_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's `--no-store` audits keep their face cache in a database of that test (never
    the user's cache directory, and never a cache another test warmed)."""
    path = tmp_path / "no-store-faces.db"
    monkeypatch.setenv("AUDITOR_CACHE_DB", f"sqlite:///{path}")
    return path


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--update-goldens`: rewrite fixtures/golden/ from the current reporters (review the diff)."""
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite the golden report files in fixtures/golden/",
    )


@pytest.fixture
def demo_bundle(tmp_path: Path) -> Path:
    """A writable copy of fixtures/demo."""
    dest = tmp_path / "demo"
    shutil.copytree(DEMO, dest)
    return dest


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A fresh SQLite database per test."""
    return f"sqlite:///{tmp_path / 'audit.db'}"


#: The installed console script (`[project.scripts]`), beside the interpreter running the tests.
ENTRY_POINT = Path(sys.executable).with_name("auditor")
#: Every CLI call in the tests ends within this many seconds, or the test fails.
CLI_TIMEOUT = 600


@dataclass(frozen=True)
class CliResult:
    """What one run of the real `auditor` process did."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stdout then stderr, for messages in asserts."""
        return self.stdout + self.stderr


def run_auditor(*args: object, cwd: Path | None = None, stdin: str | None = None) -> CliResult:
    """Run the real console entry point in a new process: what a user or a CI job runs, so a
    traceback, a stray print or an exit code is seen exactly as they would see it."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    done = subprocess.run(
        [str(ENTRY_POINT), *(str(a) for a in args)],
        capture_output=True,
        text=True,
        errors="replace",
        input=stdin,
        cwd=cwd,
        env=env,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    # No path through the real command line may end in a Python traceback (the CLI turns
    # every error into one `auditor: error: ...` line and an exit code): checked on every call.
    assert "Traceback (most recent call last)" not in done.stderr, done.stderr
    return CliResult(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """The real `auditor` command, run as a process (see `run_auditor`)."""
    assert ENTRY_POINT.is_file(), f"{ENTRY_POINT} missing: run `make install`"
    return run_auditor


@pytest.fixture
def audit_json(
    cli: Callable[..., Any], tmp_path: Path, db_url: str
) -> Callable[..., tuple[int, dict[str, Any]]]:
    """Audit a bundle through the CLI and return (exit code, JSON report)."""

    def run(bundle: Path, *extra: str) -> tuple[int, dict[str, Any]]:
        out = tmp_path / "report.json"
        if out.exists():
            out.unlink()
        result = cli("audit", bundle, "--format", "json", "--output", out, "--db", db_url, *extra)
        assert out.exists(), result.output
        return result.exit_code, json.loads(out.read_text())

    return run


def make_bundle(
    root: Path,
    logs: dict[str, bytes | str],
    principals: str | None = None,
    audit_toml: str | None = None,
) -> Path:
    """Write a small bundle: {relative log path: content}."""
    for rel, content in logs.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content)
        else:
            path.write_bytes(content)
    if principals is not None:
        (root / "principals.toml").write_text(principals)
    if audit_toml is not None:
        (root / "audit.toml").write_text(audit_toml)
    (root / "logs").mkdir(exist_ok=True)
    return root


POLICE_PRINCIPALS = """
[[principal]]
name = "pd-analyst"
organisation = "Test Police"
category = "police"

[[principal]]
arn = "arn:aws:iam::111122223333:role/pd-*"
organisation = "Role Police"
category = "police"
"""


#: Folders whose every test is `slow`: real Dask clusters (scale) and property-based fuzzing.
#: Single slow tests elsewhere (concurrent audits, the two-process determinism check) carry
#: `@pytest.mark.slow` themselves.
SLOW_FOLDERS = ("scale", "fuzz")
#: Fixtures that make a test end to end (`e2e`): the real `auditor` process, a real audit of the
#: demo with dlib on its photos, a browser, a PostgreSQL server. `make test` runs these tests;
#: `make test-fast` (`-m "not slow and not e2e"`) runs the rest, in-process, in under a minute.
E2E_FIXTURES = frozenset(
    {
        "cli",
        "run_cli",
        "demo_bundle",
        "audit_json",
        "demo_report",
        "reports",  # tests/core/test_report_model.py: the demo audited with dlib, three times
        "session_db",
        "chromium",
        "pg_cluster",
        "pg_url",
        "face_recognition_api",
        "reference",
        "results_in_process",
        "results_pool",
        "by_name",
    }
)


#: Modules whose tests start processes or servers themselves (signals, several processes on
#: one store, an installed wheel, dlib's detectors and cache files rebuilt on disk): e2e too.
E2E_MODULES = frozenset(
    {
        "tests/cli/test_cli_manners.py",
        "tests/evidence_pack/test_cli_verify_export.py",
        "tests/report/test_report_sarif_multitool.py",
        "tests/hardening/test_atomic_reports.py",
        "tests/hardening/test_output_filtering.py",
        "tests/hardening/test_exit_codes.py",
        "tests/policy/test_policy_templates.py",
        "tests/faces/test_faces_cache_integrity.py",
        "tests/faces/test_faces_memory.py",
        "tests/faces/test_faces_hogfile.py",
        "tests/hardening/test_signals.py",
        "tests/store/test_store_hardening.py",
        "tests/store/test_migrations.py",
        "tests/store/test_packaging.py",
        "tests/store/test_without_psycopg.py",
    }
)


def _e2e(item: pytest.Item, module: str) -> bool:
    if module in E2E_MODULES or E2E_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    callspec = getattr(item, "callspec", None)  # a store test run against PostgreSQL
    return callspec is not None and callspec.params.get("store_url") == "postgresql"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests of SLOW_FOLDERS slow, and the end-to-end ones (`_e2e`) e2e."""
    for item in items:
        parts = Path(str(item.fspath)).relative_to(ROOT).parts
        if len(parts) > 2 and parts[0] == "tests" and parts[1] in SLOW_FOLDERS:
            item.add_marker(pytest.mark.slow)
        if _e2e(item, "/".join(parts)):
            item.add_marker(pytest.mark.e2e)
