"""How a store test gets a fresh, empty database of each backend `store.engine.SUPPORTED` names
(the `store_url` fixture in conftest.py runs every store test on each)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

FRESH: dict[str, Callable[[Any, Path], str]] = {
    "sqlite": lambda request, tmp_path: f"sqlite:///{tmp_path / 'store.db'}",
    # a database on the session's throw-away PostgreSQL server, dropped after the test
    "postgresql": lambda request, tmp_path: str(request.getfixturevalue("pg_url")),
}
