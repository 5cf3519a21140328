"""The store as an attacker or a careless operator meets it: passwords in URL queries are
masked, a server that never answers costs a bounded wait, a corrupted SQLite file is one
located line. Through the real CLI, on a real PostgreSQL server where a server is involved."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.store.engine import safe_url

Cli = Callable[..., Any]


def test_a_password_in_the_query_is_masked() -> None:
    shown = safe_url("postgresql://me:pw1@db.example/a?sslmode=require&password=pw2&PASS=pw3")
    assert "pw1" not in shown and "pw2" not in shown and "pw3" not in shown
    assert "password=***" in shown and "me:***@" in shown and "sslmode=require" in shown


def test_a_query_password_never_shows_in_a_server_error(cli: Cli, pg_url: str) -> None:
    """A real server refusing a database that is not there: the message names the URL, masked."""
    base, _, _ = pg_url.rpartition("/")
    url = f"{base}/no_such_database?password=s3cret-pw"
    res = cli("runs", "--db", url)
    assert res.exit_code == 2, res.output
    assert "no_such_database?password=***" in res.output
    assert "s3cret-pw" not in res.output
    res = cli("audit", "nowhere", "--db", url)
    assert "s3cret-pw" not in res.output


def test_an_unparsable_url_is_not_echoed(cli: Cli) -> None:
    res = cli("runs", "--db", "postgresql://me:s3cret-pw@[broken/db?password=s3cret-pw")
    assert res.exit_code == 2, res.output
    assert "s3cret-pw" not in res.output


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections (the kernel's backlog) and never says a word."""
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(16)
        yield srv.getsockname()[1]


def test_a_server_that_never_answers_is_a_bounded_wait(cli: Cli, silent_server: int) -> None:
    """libpq waits for ever by default; the store gives every connection a connect_timeout."""
    start = time.monotonic()
    res = cli("runs", "--db", f"postgresql://me@127.0.0.1:{silent_server}/a")
    took = time.monotonic() - start
    assert res.exit_code == 2, res.output
    assert "cannot open database" in res.output
    assert 5 < took < 40, took  # the 10 s default, not for ever
    start = time.monotonic()
    res = cli("runs", "--db", f"postgresql://me@127.0.0.1:{silent_server}/a?connect_timeout=2")
    assert res.exit_code == 2, res.output
    assert time.monotonic() - start < 9  # a connect_timeout in the URL wins


def _auditor(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture
def recorded(tmp_path: Path, demo_bundle: Path) -> Path:
    db = tmp_path / "audit.db"
    done = _auditor(
        "audit", str(demo_bundle), "--no-frames", "--db", f"sqlite:///{db}", cwd=tmp_path
    )
    assert done.returncode == 1, done.stderr
    return db


def _one_clean_line(done: subprocess.CompletedProcess[str], db: Path) -> str:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"auditor: error: sqlite:///{db}: ") or lines[0].startswith(
        f"auditor: error: cannot open database sqlite:///{db}: "
    ), lines[0]
    for leak in ("SELECT", "[SQL", "sqlalche.me", "internal error", "Metro City"):
        assert leak not in done.stderr
    return lines[0]


def test_a_corrupted_column_is_one_located_line(recorded: Path, tmp_path: Path) -> None:
    with sqlite3.connect(recorded) as conn:
        run_id = conn.execute("SELECT id FROM runs").fetchone()[0]
        conn.execute("UPDATE runs SET report = CAST(X'7b22ff22fe' || report AS TEXT)")
    for args in (["runs"], ["report", run_id[:12]], ["export", run_id[:12], "-o", "x.zip"]):
        done = _auditor(*args, "--db", f"sqlite:///{recorded}", cwd=tmp_path)
        line = _one_clean_line(done, recorded)
        assert "Could not decode to UTF-8 column 'report'" in line


def test_a_corrupted_findings_row_is_one_located_line(recorded: Path, tmp_path: Path) -> None:
    with sqlite3.connect(recorded) as conn:
        run_id = conn.execute("SELECT id FROM runs").fetchone()[0]
        conn.execute("UPDATE findings SET body = 'not json' WHERE seq = 0")
    done = _auditor("report", run_id[:12], "--db", f"sqlite:///{recorded}", cwd=tmp_path)
    _one_clean_line(done, recorded)
    assert f"cannot read the findings of run {run_id}" in done.stderr


@pytest.mark.parametrize("damage", ["random bytes", "torn pages"])
def test_a_corrupted_sqlite_file_is_one_located_line(
    recorded: Path, tmp_path: Path, damage: str
) -> None:
    data = bytearray(recorded.read_bytes())
    if damage == "random bytes":
        data = bytearray(b"\x8f" * len(data))
    else:
        for at in range(4096 * 2, len(data), 4096):
            data[at + 8 : at + 600] = b"\xff" * 592
    recorded.write_bytes(bytes(data))
    done = _auditor("runs", "--db", f"sqlite:///{recorded}", cwd=tmp_path)
    _one_clean_line(done, recorded)
