"""One store per run, opened on first use and closed when the run ends.

An audit reads and writes the face cache and then records the run; `auditor faces` only uses
the cache. Both hand a `LazyStore` down instead of a URL, so the cache and the run share one
connection pool, nothing is opened (or created) when nothing needs it, and the caller that made
it closes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported on first use: sqlmodel and sqlalchemy cost `faces --no-cache`
    from auditor.store import Store  # ~0.5 s and ~15 MB it never needs


class LazyStore:
    """The store at `url` (None: no store), opened by the first call."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self._store: Store | None = None

    def __call__(self) -> Store | None:
        if self.url is None:
            return None
        if self._store is None:
            from auditor.store import Store

            self._store = Store(self.url)
        return self._store

    def close(self) -> None:
        """Close the store if it was opened."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> LazyStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
