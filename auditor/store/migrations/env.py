"""Alembic environment of the store: migrations run on the connection `auditor.store` passes.

`auditor.store.migrate` opens the database, starts one write transaction and hands its connection
over in `config.attributes["connection"]`; every revision then runs inside that transaction (both
SQLite, as the store configures it, and PostgreSQL have transactional DDL), so an upgrade is all
or nothing. A new revision: copy the newest file in versions/, keep ids sequential (0003, ...),
change `tables.py` to match, and let tests/store/test_migrations.py compare the two.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("the auditor store migrations run through auditor.store.migrate.upgrade")

context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
