"""Bring a store's schema to this version's head revision, every time a store is opened.

The Alembic scripts ship inside the package (`auditor/store/migrations/`), so an installed
auditor upgrades any store it is pointed at. Three starting points:

* an empty database: every revision runs;
* a store made by release 0.1.0 (`create_all`, no `alembic_version` table): it is stamped at
  revision 0001, which describes exactly that schema, and upgraded from there;
* a store already under Alembic: the missing revisions run (none when it is at head).

The check and the upgrade share one write transaction, so an upgrade is all or nothing. When
several auditors open a new PostgreSQL store at once, all but one fail on the tables the winner
is creating; they roll back and look again (the winner has by then committed the head revision).
SQLite queues them on its write lock instead.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from auditor.core.errors import StoreError
from auditor.store.engine import writing

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: The revision that describes the tables release 0.1.0 created without Alembic.
LEGACY_REVISION = "0001"
_LEGACY_TABLES = {"runs", "inputs", "findings", "face_cache"}
#: The newest revision in versions/ (a test checks it): a store already there is opened without
#: loading Alembic at all, which keeps every command's start-up fast.
HEAD = "0002"
_ATTEMPTS = 8
#: Alembic keeps the running migration in module-level state (`alembic.context`): one at a time
#: per process. Other processes are kept apart by the database (see the module docstring).
_LOCK = threading.Lock()


def current_revision(conn: Connection) -> str | None:
    """The revision stamped in the database (None: not under Alembic)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> None:
    """Upgrade the database to head; raises StoreError when that cannot be done."""
    with engine.connect() as conn:
        if current_revision(conn) == HEAD:
            return
    for attempt in range(_ATTEMPTS):
        try:
            with _LOCK, writing(engine) as conn:
                _upgrade(conn)
            return
        except DBAPIError:
            # another process is creating or upgrading the same store: look again
            if attempt == _ATTEMPTS - 1:
                raise
            time.sleep(0.1 * (attempt + 1))


def _upgrade(conn: Connection) -> None:
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    current = current_revision(conn)
    if current == HEAD:
        return
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    if current is not None:
        try:
            script.get_revision(current)
        except (CommandError, RevisionError):
            raise StoreError(
                f"the store is at schema revision {current}, newer than this auditor knows "
                f"(up to {head}): upgrade auditor"
            ) from None
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    if current is None:
        tables = set(inspect(conn).get_table_names())
        if _LEGACY_TABLES <= tables:
            command.stamp(config, LEGACY_REVISION)
        elif tables & _LEGACY_TABLES:
            some = ", ".join(sorted(tables & _LEGACY_TABLES))
            raise StoreError(
                f"the database has some of the store's tables ({some}) but not all, "
                "and no schema revision: not an auditor store"
            )
    command.upgrade(config, "head")
