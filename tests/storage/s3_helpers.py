"""A real S3 API server on loopback for the object-storage tests, and helpers to fill it.

The server is moto's `ThreadedMotoServer` (the S3 server s3fs's own tests run against), bound to
127.0.0.1 on a free port and stopped at teardown. The audit reaches it through the standard AWS
configuration chain only (`AWS_ENDPOINT_URL_S3`, `AWS_ACCESS_KEY_ID`, ...), exactly as a user's
audit reaches AWS: nothing in the auditor knows it is a test server.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
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


#: The requests a policy-enforcing server (`start_iam_s3`) serves before it authenticates: the
#: three IAM calls that make its admin user (user, access key, inline policy). Every later
#: request is signed and checked against the caller's IAM policies.
_BOOTSTRAP_REQUESTS = 3


@dataclass
class IamS3Server:
    """A moto server in a process of its own that enforces IAM policies, and an admin client.

    Its own process because moto's switch is process-wide (`moto.settings.
    INITIAL_NO_AUTH_ACTION_COUNT` and a class-level request counter in
    `moto/core/authorization.py`): flipped in this process it would make the session's
    `ThreadedMotoServer` (whose backends are shared in-process too) authenticate as well."""

    endpoint: str
    process: subprocess.Popen[bytes]
    admin: dict[str, str]

    def client(self, service: str, keys: dict[str, str] | None = None) -> Any:
        """A boto3 client signed with `keys` (default: the admin's)."""
        import boto3

        keys = keys or self.admin
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"],
            region_name="us-east-1",
        )

    def user(self, name: str, statements: list[dict[str, Any]]) -> dict[str, str]:
        """An IAM user with `statements` as its only (inline) policy: its new access key."""
        iam = self.client("iam")
        iam.create_user(UserName=name)
        policy = {"Version": "2012-10-17", "Statement": statements}
        iam.put_user_policy(UserName=name, PolicyName="bundle", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}

    def env(self, keys: dict[str, str]) -> dict[str, str]:
        """The AWS chain's variables that point an audit at this server as the owner of `keys`."""
        return {
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": keys["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": keys["SecretAccessKey"],
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_iam_s3() -> IamS3Server:
    """A moto server (`python -m moto.server`) on 127.0.0.1 that authenticates every request
    after the first `_BOOTSTRAP_REQUESTS`, and evaluates the IAM policies of the caller's user
    (Allow/Deny, Action, Resource ARN; not Condition keys such as `s3:prefix`).

    Documented in moto's docs/docs/iam.rst ("IAM-like Access Control",
    https://docs.getmoto.org/en/latest/docs/iam.html): the `INITIAL_NO_AUTH_ACTION_COUNT`
    environment variable; the checks are `moto/iam/access_control.py` (`S3IAMRequest`), called
    for S3 from `moto/s3/responses.py` with the bucket or `bucket/key` ARN as the resource."""
    import boto3

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(_BOOTSTRAP_REQUESTS)
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:  # a bare TCP connect: no request that the server would count
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto server on port {port} did not start") from None
                time.sleep(0.1)
        # the unauthenticated requests: exactly _BOOTSTRAP_REQUESTS of them
        iam = boto3.client(
            "iam",
            endpoint_url=endpoint,
            aws_access_key_id="AKIABOOTSTRAPNOTAUSER",
            aws_secret_access_key="bootstrap",
            region_name="us-east-1",
        )
        iam.create_user(UserName="admin")
        allow_all = {"Effect": "Allow", "Action": "*", "Resource": "*"}
        admin_policy = {"Version": "2012-10-17", "Statement": [allow_all]}
        iam.put_user_policy(
            UserName="admin", PolicyName="admin", PolicyDocument=json.dumps(admin_policy)
        )
        key = iam.create_access_key(UserName="admin")["AccessKey"]
        admin = {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}
    except BaseException:
        process.kill()
        process.wait()
        raise
    return IamS3Server(endpoint, process, admin)


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
