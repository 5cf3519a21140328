"""Persistence: runs, inputs, findings and the face cache (sqlmodel; SQLite or PostgreSQL).

`Store.open_run` writes a run as its findings stream in; `Store.iter_findings` and
`Store.load_report` read it back. The schema is managed by Alembic (`migrate`).
"""

from __future__ import annotations

from auditor.store.engine import missing_database
from auditor.store.repo import DEFAULT_URL, Store, new_cache_row
from auditor.store.writer import BATCH, RunWriter

__all__ = ["BATCH", "DEFAULT_URL", "RunWriter", "Store", "missing_database", "new_cache_row"]
