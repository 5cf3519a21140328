"""The store as an attacker or a careless operator meets it: passwords in URL queries are
masked, a server that never answers costs a bounded wait, a corrupted SQLite file is one
located line. Through the real CLI, on a real PostgreSQL server where a server is involved."""

from __future__ import annotations

import json
import os
import signal
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


# -- runs left behind by a killed audit ---------------------------------------------------------

_WRITER = """
import sys, time
from datetime import UTC, datetime
from auditor.run import lifecycle
from auditor.store import Store

lifecycle.install()
store = Store(sys.argv[1])
try:
    with store.open_run(sys.argv[2], "bundle", datetime.now(UTC), "test") as writer:
        print("writing", flush=True)
        time.sleep(120)
except lifecycle.Terminated as exc:
    sys.exit(exc.exit_code)
"""


def _writer(url: str, run_id: str) -> subprocess.Popen[str]:
    """A real process in the middle of writing a run (the store's own writer, then asleep)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, url, run_id], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    return proc


def _status(cli: Cli, url: str) -> dict[str, str]:
    listed = cli("runs", "--json", "--db", url)
    assert listed.exit_code == 0, listed.output
    return {
        json.loads(line)["id"]: json.loads(line)["status"] for line in listed.stdout.splitlines()
    }


def test_sigterm_marks_the_run_being_written_failed(cli: Cli, store_url: str) -> None:
    proc = _writer(store_url, "run-term")
    assert _status(cli, store_url)["run-term"] == "running"
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=30) == 143
    assert _status(cli, store_url)["run-term"] == "failed"


def test_prune_stale_marks_runs_of_killed_audits_failed(cli: Cli, store_url: str) -> None:
    killed = _writer(store_url, "run-killed")
    alive = _writer(store_url, "run-alive")
    try:
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)
        assert _status(cli, store_url) == {"run-killed": "running", "run-alive": "running"}
        res = cli("runs", "--prune-stale", "--db", store_url)
        assert res.exit_code == 0, res.output
        assert "run run-killed: its audit is gone; marked failed" in res.output
        assert _status(cli, store_url) == {"run-killed": "failed", "run-alive": "running"}
    finally:
        alive.kill()
        alive.wait(timeout=30)


def test_prune_stale_leaves_runs_it_cannot_check(cli: Cli, store_url: str) -> None:
    """A run recorded without its writer (an older version), or from another host."""
    from sqlalchemy import update

    from auditor.store import Store
    from auditor.store.writer import table

    proc = _writer(store_url, "run-old")
    proc.kill()
    proc.wait(timeout=30)
    store = Store(store_url)
    with store.engine.begin() as conn:
        conn.execute(update(table("runs")).values(report=""))
    store.close()
    res = cli("runs", "--prune-stale", "--db", store_url)
    assert res.exit_code == 0, res.output
    assert "1 running run(s) cannot be checked from this host" in res.output
    assert _status(cli, store_url) == {"run-old": "running"}


def test_sigterm_while_the_audit_writes_to_a_locked_store(
    cli: Cli, pg_url: str, demo_bundle: Path, tmp_path: Path
) -> None:
    """The real CLI, stuck writing findings into a real server where another session holds the
    findings table: SIGTERM ends it (143) and its run is marked failed."""
    import psycopg

    assert cli("runs", "--db", pg_url).exit_code == 0  # the schema exists
    conninfo = pg_url.replace("postgresql://", "postgresql://", 1)
    with psycopg.connect(conninfo) as locker:
        locker.execute("LOCK TABLE findings IN ACCESS EXCLUSIVE MODE")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "auditor",
                "audit",
                str(demo_bundle),
                "--no-frames",
                "--db",
                pg_url,
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
        deadline = time.monotonic() + 60
        with psycopg.connect(conninfo, autocommit=True) as watcher:
            while time.monotonic() < deadline:
                row = watcher.execute("SELECT status FROM runs").fetchone()
                if row is not None:
                    break
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.1)
            assert row == ("running",)
            time.sleep(0.5)  # blocked on the lock now
            os.kill(proc.pid, signal.SIGTERM)
            code = proc.wait(timeout=30)
            err = proc.stderr.read() if proc.stderr else ""
            assert code == 143, err
            assert "auditor: terminated by SIGTERM" in err, err
            assert watcher.execute("SELECT status FROM runs").fetchone() == ("failed",)
        locker.rollback()
