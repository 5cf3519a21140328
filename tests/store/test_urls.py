"""Database URLs: `postgresql://` means psycopg 3, unsupported or unreachable databases are clear
errors (exit 2 through the CLI), and a password never shows in a message."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from pgcluster import free_port

from auditor.core.errors import StoreError
from auditor.store import Store
from auditor.store.engine import normalise_url


def test_postgresql_urls_mean_psycopg_3() -> None:
    assert normalise_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_url("postgresql+psycopg://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_unsupported_database_is_refused_without_the_password() -> None:
    with pytest.raises(StoreError, match="unsupported database") as err:
        Store("mysql://me:s3cret-pw@db.example/audits")
    assert "s3cret-pw" not in str(err.value) and "***" in str(err.value)


def test_unreachable_server_is_a_clear_cli_error(cli: Callable[..., Any]) -> None:
    url = f"postgresql://me:s3cret-pw@127.0.0.1:{free_port()}/audits"
    result = cli("runs", "--db", url)
    assert result.exit_code == 2
    assert "auditor: error: cannot open database postgresql://me:***@127.0.0.1" in (result.stderr)
    assert "s3cret-pw" not in result.output and "Traceback" not in result.output


def test_postgresql_store_through_the_cli_and_the_environment(
    pg_url: str,
    cli: Callable[..., Any],
    demo_bundle: Any,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AUDITOR_DB", pg_url)
    done = cli("audit", demo_bundle, "--no-frames", "-f", "json", "-o", tmp_path / "r.json")
    assert done.exit_code == 1
    count = len(json.loads((tmp_path / "r.json").read_text())["findings"])
    listed = cli("runs")
    assert "complete" in listed.stdout and f" {count} finding(s)" in listed.stdout


def test_every_supported_backend_is_tested() -> None:
    """The store registry (`store.engine.SUPPORTED`) is walked: a backend added there without a
    fresh database in tests/store/backends.py fails here, so no store runs untested."""
    from backends import FRESH

    from auditor.store.engine import SUPPORTED

    assert set(FRESH) == set(SUPPORTED)
