"""Fixtures for the object-storage tests: one loopback S3 server per session (stopped at
teardown), its AWS variables in the environment of every audit process, and the demo bundle
uploaded once."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from s3_helpers import S3Server, start_s3  # noqa: E402

from tests.conftest import DEMO  # noqa: E402

#: Where the demo bundle is uploaded: `s3://audits/team-a/demo/` (same folder name as on disk,
#: so the report's bundle name is the same).
DEMO_URL = "s3://audits/team-a/demo/"


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    """A moto S3 server on 127.0.0.1 (free port); the AWS chain of this process and of every
    process it starts (CLI, Dask workers) points at it while the session runs."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = start_s3()
    saved = {k: os.environ.get(k) for k in server.env()}
    os.environ.update(server.env())
    try:
        server.bucket("audits")
        server.upload_tree(DEMO, "audits", "team-a/demo")
        yield server
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()
