"""Fixtures for the object-storage tests: one loopback S3 server per session (stopped at
teardown), its AWS variables in the environment of every audit process, and the demo bundle
uploaded once."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

from tests.conftest import DEMO
from tests.storage.s3_helpers import S3Server, start_s3


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
