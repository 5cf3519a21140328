"""Where the auditor keeps caches of its own, outside any bundle and any run store.

`$AUDITOR_CACHE_DIR` when set, else the user cache directory of the platform for `auditor`
(platformdirs: `$XDG_CACHE_HOME/auditor` or `~/.cache/auditor` on Linux, `~/Library/Caches/auditor`
on macOS, `%LOCALAPPDATA%\\auditor\\Cache` on Windows). It holds the parsed descriptor network
(`dlibnet/`) and the face cache of audits that record no run (`faces.db`), so that CI jobs run
with `--no-store` still recompute no face they have seen. Both are caches: deleting the folder
costs time, never a result.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

#: Names the cache folder instead of the platform's user cache directory.
CACHE_DIR_ENV = "AUDITOR_CACHE_DIR"
#: Names the face-cache database of `--no-store` audits (any store URL) instead of `faces.db`.
CACHE_DB_ENV = "AUDITOR_CACHE_DB"
FACE_CACHE_FILE = "faces.db"


def user_cache_dir() -> Path:
    """The auditor's cache folder (see the module's docstring); not created here."""
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        return Path(explicit)
    return Path(platformdirs.user_cache_dir("auditor", appauthor=False))


def face_cache_url(explicit: str | None = None) -> str:
    """The database of the face cache when no run store is used: `explicit` (`--cache-db`),
    else `$AUDITOR_CACHE_DB`, else SQLite `faces.db` in `user_cache_dir()`."""
    chosen = explicit or os.environ.get(CACHE_DB_ENV)
    if chosen:
        return chosen
    return f"sqlite:///{(user_cache_dir() / FACE_CACHE_FILE).absolute()}"
