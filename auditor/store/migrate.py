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

import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from auditor.errors import StoreError
from auditor.store.engine import writing

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: The revision that describes the tables release 0.1.0 created without Alembic.
LEGACY_REVISION = "0001"
_LEGACY_TABLES = {"runs", "inputs", "findings", "face_cache"}
_ATTEMPTS = 8
_upgraded: set[str] = set()  # engine URLs already at head in this process


def head_revision() -> str:
    """The newest revision this version knows."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision stamped in the database (None: not under Alembic)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Upgrade the database to head; raises StoreError when that cannot be done."""
    key = engine.url.render_as_string(hide_password=False)
    if key in _upgraded:
        return
    head = head_revision()
    for attempt in range(_ATTEMPTS):
        try:
            with writing(engine) as conn:
                _upgrade(conn, head)
            break
        except DBAPIError:
            # another process is creating or upgrading the same store: look again
            if attempt == _ATTEMPTS - 1:
                raise
            time.sleep(0.1 * (attempt + 1))
    _upgraded.add(key)


def _upgrade(conn: Connection, head: str) -> None:
    current = MigrationContext.configure(conn).get_current_revision()
    if current == head:
        return
    script = ScriptDirectory(str(MIGRATIONS))
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
            raise StoreError(
                f"the database has some of the store's tables ({', '.join(sorted(tables))}) "
                "but not all, and no schema revision: not an auditor store"
            )
    command.upgrade(config, "head")
