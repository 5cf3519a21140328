"""One store per run, opened on first use and closed when the run ends.

An audit reads and writes the face cache and then records the run; `auditor faces` only uses
the cache. Both hand a `LazyStore` down instead of a URL, so the cache and the run share one
connection pool, nothing is opened (or created) when nothing needs it, and the caller that made
it closes it.
"""

from __future__ import annotations

from auditor.store import Store


class LazyStore:
    """The store at `url` (None: no store), opened by the first call."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self._store: Store | None = None

    def __call__(self) -> Store | None:
        if self.url is None:
            return None
        if self._store is None:
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
