"""Persistence: runs, inputs, findings and the face cache (sqlmodel; SQLite or PostgreSQL)."""

from __future__ import annotations

from auditor.store.repo import DEFAULT_URL, Store, new_cache_row
from auditor.store.runwriter import save_report

__all__ = ["DEFAULT_URL", "Store", "new_cache_row", "save_report"]
