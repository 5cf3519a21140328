"""Fixtures for the object-storage tests: one loopback S3 server per session (stopped at
teardown), its AWS variables in the environment of every audit process, and the demo bundle
uploaded once; and, for the access-policy tests, a second server that enforces IAM policies
(one per module, in its own process)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

from tests.conftest import DEMO
from tests.storage.s3_helpers import IamS3Server, S3Server, start_iam_s3, start_s3


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


@pytest.fixture(scope="module")
def iam_s3() -> Iterator[IamS3Server]:
    """A moto S3 server that authenticates requests and evaluates IAM policies (see
    `start_iam_s3`), stopped at teardown: the demo bundle at `s3://audits/team-a/demo/` and a
    one-log bundle at `s3://locked/bundle/`, uploaded by its admin. Tests make their own IAM
    user and put its key in the audit's environment; the session's `s3` server is untouched."""
    server = start_iam_s3()
    try:
        admin = server.client("s3")
        for bucket in ("audits", "locked"):
            admin.create_bucket(Bucket=bucket)
        for path in sorted(DEMO.rglob("*")):
            if path.is_file():
                key = f"team-a/demo/{path.relative_to(DEMO).as_posix()}"
                admin.put_object(Bucket="audits", Key=key, Body=path.read_bytes())
        gateway = DEMO / "logs" / "edge" / "gateway.log"
        admin.put_object(Bucket="locked", Key="bundle/logs/gateway.log", Body=gateway.read_bytes())
        yield server
    finally:
        server.stop()
