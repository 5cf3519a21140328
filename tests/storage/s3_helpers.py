"""A real S3 API server on loopback for the object-storage tests, and helpers to fill it.

The server is moto's `ThreadedMotoServer` (the S3 server s3fs's own tests run against), bound to
127.0.0.1 on a free port and stopped at teardown. The audit reaches it through the standard AWS
configuration chain only (`AWS_ENDPOINT_URL_S3`, `AWS_ACCESS_KEY_ID`, ...), exactly as a user's
audit reaches AWS: nothing in the auditor knows it is a test server.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: Test credentials: moto accepts any; they must never appear in a report or a store.
ACCESS_KEY = "AKIAAUDITORTESTKEY01"
SECRET_KEY = "auditor-test-secret-never-printed"


@dataclass
class S3Server:
    """A running moto server and a boto3 client for it."""

    endpoint: str
    server: Any
    client: Any

    def env(self) -> dict[str, str]:
        """The AWS configuration chain's variables that point an audit at this server."""
        return {
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def bucket(self, name: str) -> str:
        self.client.create_bucket(Bucket=name)
        return name

    def upload_tree(self, folder: Path, bucket: str, prefix: str) -> None:
        """Every regular file under `folder` to `s3://bucket/prefix/<relative path>`."""
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                key = f"{prefix}/{path.relative_to(folder).as_posix()}"
                self.client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())

    def stop(self) -> None:
        self.server.stop()


def start_s3() -> S3Server:
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )
    return S3Server(endpoint, server, client)


def without_run(report: dict[str, Any]) -> dict[str, Any]:
    """The report less what differs between any two runs (`run`: ids, clock, executor)."""
    return {k: v for k, v in report.items() if k not in ("run",)}


def iter_keys(client: Any, bucket: str, prefix: str) -> Iterator[str]:
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield item["Key"]


#: Where the demo bundle is uploaded: `s3://audits/team-a/demo/` (same folder name as on disk,
#: so the report's bundle name is the same).
DEMO_URL = "s3://audits/team-a/demo/"
