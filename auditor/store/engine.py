"""Open a database URL as a SQLAlchemy engine, and run short write transactions on it.

Two backends are supported: SQLite (the default, one file) and PostgreSQL (`postgresql://...`,
driven by psycopg 3). The only SQLite-specific code is connection setup: WAL mode, a busy
timeout, foreign keys, and letting SQLAlchemy emit BEGIN itself (Python's sqlite3 module would
otherwise run DDL outside any transaction, and a migration must be all or nothing). A write
transaction on SQLite starts with BEGIN IMMEDIATE, so concurrent writers queue on the busy
timeout instead of failing when a read turns into a write.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import create_engine

from auditor.core.errors import StoreError

# The store reports database failures itself, once, as a StoreError; SQLAlchemy's pool would
# also log them with a traceback (to stderr, through logging's last-resort handler).
logging.getLogger("sqlalchemy.pool").addHandler(logging.NullHandler())

#: Dialects the store is written and tested for.
SUPPORTED = ("sqlite", "postgresql")
_WRITE = "auditor_write"  # execution option: BEGIN IMMEDIATE on SQLite
_NO_TX = "auditor_no_transaction"  # execution option: no BEGIN at all (VACUUM)


def normalise_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3 (SQLAlchemy would pick psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


#: Query parameters of a database URL that hold a secret (libpq takes `?password=` too).
SECRET_PARAMS = frozenset({"password", "pass", "pwd", "passwd", "sslpassword", "sslkey"})
#: Seconds a PostgreSQL connection attempt may take (libpq's default is to wait for ever);
#: a `connect_timeout` in the URL wins.
CONNECT_TIMEOUT = 10
_SECRET_QUERY = re.compile(
    r"([?&](?:" + "|".join(sorted(SECRET_PARAMS)) + r")=)[^&]*", re.IGNORECASE
)


def safe_url(url: str) -> str:
    """The URL with any password masked (`user:***@`, `?password=***`), for messages and logs."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return "<unparsable database URL>"
    return _SECRET_QUERY.sub(r"\1***", parsed.render_as_string(hide_password=True))


def missing_database(url: str) -> str | None:
    """The path of a SQLite file database that does not exist yet (None for anything else),
    so commands that only read can say so instead of creating an empty one."""
    try:
        parsed = make_url(normalise_url(url))
    except (ArgumentError, ValueError):
        return None  # open_engine gives the error
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return None if Path(parsed.database).exists() else parsed.database


def open_engine(url: str) -> Engine:
    """An engine for `url`; raises StoreError for an unsupported or unusable URL."""
    try:
        parsed = make_url(normalise_url(url))
    except (ArgumentError, ValueError):
        # the parser's message quotes the whole URL, password included
        raise StoreError("bad database URL: it cannot be parsed (see --db)") from None
    if parsed.get_backend_name() not in SUPPORTED:
        raise StoreError(
            f"unsupported database {safe_url(url)}: use sqlite:///PATH or postgresql://..."
        )
    try:
        # hide_parameters: no face descriptor or report text ever lands in an error message
        connect_args: dict[str, Any] = {}
        if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = CONNECT_TIMEOUT
        engine = create_engine(parsed, hide_parameters=True, connect_args=connect_args)
    except ModuleNotFoundError as exc:
        raise StoreError(
            f"PostgreSQL needs the `postgres` extra (pip install 'auditor[postgres]'): {exc}"
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def interruption(exc: BaseException) -> BaseException | None:
    """The signal exception (KeyboardInterrupt, the audit's Terminated, SystemExit) that a
    database error was raised while handling, if any.

    A signal that arrives while the driver waits for the server interrupts the wait; cleaning
    up the half-sent statement then fails too, and that failure would hide the signal. Callers
    re-raise what this returns instead of turning it into a StoreError.
    """
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if not isinstance(cur, Exception):
            return cur
        cur = cur.__cause__ or cur.__context__
    return None


def describe(exc: BaseException) -> str:
    """The database's own words for an error (no SQL text, no parameters, no links, no data:
    SQLite quotes the undecodable text of a corrupted column, so that part is cut off)."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    if not text:
        return type(exc).__name__
    line = text.splitlines()[0].split(" with text ", 1)[0]
    return line if len(line) <= 200 else line[:197] + "..."


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """One short write transaction: committed on success, rolled back on any error."""
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})
        with conn.begin():
            yield conn


@contextmanager
def autocommit(engine: Engine) -> Iterator[Connection]:
    """A connection outside any transaction (SQLite's VACUUM refuses to run inside one)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.execution_options(**{_NO_TX: True})
        else:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN (see `_sqlite_begin`)
    cur = dbapi_conn.cursor()
    # The busy timeout first: switching a new database to WAL takes a lock that several auditors
    # opening the same new file at once contend for, and without a timeout the loser fails at
    # once with "database is locked". Some SQLite builds answer BUSY to the switch without
    # calling the busy handler, so it is retried for a while too.
    cur.execute("PRAGMA busy_timeout=30000")
    for attempt in range(300):
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 299:
                raise
            time.sleep(0.1)
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    options = conn.get_execution_options()
    if options.get(_NO_TX):
        return
    conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(_WRITE) else "BEGIN")
