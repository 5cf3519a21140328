"""Fixtures for the scale-out tests (helpers in scale_helpers.py). Every cluster fixture stops
the processes it started, whatever the test did."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from scale_helpers import Cluster, audit_cli, build_scale_bundle, start_cluster


@pytest.fixture(scope="session")
def scale_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_scale_bundle(tmp_path_factory.mktemp("scale") / "bundle")


@pytest.fixture(scope="session")
def local_report(scale_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The scale bundle audited with today's default: the local process pool (2 workers)."""
    out = tmp_path_factory.mktemp("local") / "report.json"
    done = audit_cli(scale_bundle, out, "--workers", "2")
    assert done.returncode == 3, done.stderr  # incomplete: the bundle has input errors
    return out.read_text()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A scheduler and two workers shared by the tests that do not change it."""
    running = start_cluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def own_cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A scheduler and two workers for one test (which may kill a worker)."""
    running = start_cluster(tmp_path / "cluster")
    try:
        yield running
    finally:
        running.stop()
