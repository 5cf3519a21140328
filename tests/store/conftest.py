"""Store fixtures: one throw-away PostgreSQL server per test session, and a fresh database per
test on SQLite and on PostgreSQL (`store_url`), so every store test runs on both."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from backends import FRESH
from pgcluster import Cluster

from auditor.store.engine import SUPPORTED


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A real PostgreSQL server on a free loopback port; always stopped and removed."""

    def terminate(_signum: int, _frame: object) -> None:
        raise SystemExit("terminated")  # so a killed test run still stops its server

    previous = signal.signal(signal.SIGTERM, terminate)
    cluster = Cluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        signal.signal(signal.SIGTERM, previous)


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    name = pg_cluster.create_database()
    try:
        yield pg_cluster.url(name)
    finally:
        pg_cluster.drop_database(name)


@pytest.fixture(params=list(SUPPORTED))
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store URL on each backend of `store.engine.SUPPORTED`."""
    url: str = FRESH[request.param](request, tmp_path)
    return url
