"""Object storage at size: a 10,000-key CloudTrail archive in its AWS layout, a 1 GiB object
streamed in bounded memory, and a bundle read by Dask workers from the store (all `slow`)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import DEMO, ENTRY_POINT, CliResult
from tests.storage.s3_helpers import DEMO_URL, S3Server, without_run

pytestmark = pytest.mark.slow

CLOUDTRAIL = DEMO / "logs" / "cloudtrail" / "111122223333_CloudTrail_us-east-1_rekognition.json"
KEYS = int(os.environ.get("AUDITOR_TEST_S3_KEYS", "10000"))
DAYS = 20


def _archive(dest: Path) -> list[Path]:
    """10,000 gzip CloudTrail files under AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/:
    one record each, every 50th a police face search, the rest background S3 reads."""
    records = json.loads(CLOUDTRAIL.read_text())["Records"]
    search, background = records[0], dict(records[0])
    background.update(eventSource="s3.amazonaws.com", eventName="GetObject")
    made = []
    for i in range(KEYS):
        day = 1 + i % DAYS
        rec = dict(search if i % 50 == 0 else background)
        rec["eventID"] = f"ev-{i:05d}"
        rec["eventTime"] = f"2020-05-{day:02d}T{(i // DAYS) % 24:02d}:{i % 60:02d}:00Z"
        folder = dest / f"logs/AWSLogs/111122223333/CloudTrail/us-east-1/2020/05/{day:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"111122223333_CloudTrail_us-east-1_202005{day:02d}T{i:05d}Z_x.json.gz"
        path.write_bytes(gzip.compress(json.dumps({"Records": [rec]}).encode(), mtime=0))
        made.append(path)
    for name in ("audit.toml", "principals.toml"):
        (dest / name).write_bytes((DEMO / name).read_bytes())
    return made


def test_cloudtrail_archive_of_10000_keys(
    s3: S3Server, cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    """Listed folder by folder and read on the local pool: the same report as on disk."""
    bundle = tmp_path / "archive"
    files = _archive(bundle)
    s3.bucket("trail")

    def put(path: Path) -> None:
        key = "org/archive/" + path.relative_to(bundle).as_posix()
        s3.client.put_object(Bucket="trail", Key=key, Body=path.read_bytes())

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, [*files, bundle / "audit.toml", bundle / "principals.toml"]))
    args = ("--no-frames", "--no-store", "--workers", "2", "--format", "json", "--output")
    remote = cli("audit", "s3://trail/org/archive/", *args, tmp_path / "s3.json")
    local = cli("audit", bundle, *args, tmp_path / "disk.json")
    assert remote.exit_code == local.exit_code, remote.output + local.output
    got = json.loads((tmp_path / "s3.json").read_text())
    want = json.loads((tmp_path / "disk.json").read_text())
    assert sum(1 for i in got["inputs"] if i["kind"] == "log") == KEYS
    assert got["summary"]["face_operations"] == KEYS // 50
    assert sum(i["records"] for i in got["inputs"] if i["kind"] == "log") == KEYS
    assert json.dumps(without_run(got), sort_keys=True) == json.dumps(
        without_run(want), sort_keys=True
    )


GIB = 1 << 30


def test_one_gib_object_is_streamed(s3: S3Server, tmp_path: Path) -> None:
    """A 1 GiB log object (a sparse file: one line of NUL bytes, longer than the line limit) is
    read and hashed as it streams: its SHA-256 is right and the audit's peak memory stays
    within 128 MiB of the same audit of a 1 KiB object."""
    big = tmp_path / "big.log"
    with big.open("wb") as fh:
        fh.truncate(GIB)  # sparse: no disk used for the source
    s3.bucket("huge")
    with big.open("rb") as fh:
        s3.client.put_object(Bucket="huge", Key="b/logs/big.log", Body=fh)
    s3.client.put_object(Bucket="huge", Key="s/logs/big.log", Body=b"\0" * 1024)
    big.unlink()
    digest = hashlib.sha256()
    zeros = b"\0" * (1 << 20)
    for _ in range(GIB >> 20):
        digest.update(zeros)

    def peak(url: str, out: Path) -> int:
        """Peak RSS (KiB) of one `auditor audit` process (its own wrapper, so nothing else
        counts)."""
        argv = [str(ENTRY_POINT), "audit", url, "--no-frames", "--no-store", "--workers", "1",
                "--format", "json", "--output", str(out)]  # fmt: skip
        code = (
            "import resource,subprocess,sys;"
            f"r=subprocess.run({argv!r},capture_output=True,text=True);"
            "sys.stderr.write(r.stderr);"
            "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=900,
            env=os.environ.copy(),
        )  # fmt: skip
        rc, kib = done.stdout.split()
        assert rc == "3", done.stderr  # the line over the limit is an input error
        return int(kib)

    small = peak("s3://huge/s/", tmp_path / "small.json")
    large = peak("s3://huge/b/", tmp_path / "big.json")
    report = json.loads((tmp_path / "big.json").read_text())
    (entry,) = [i for i in report["inputs"] if i["path"] == "logs/big.log"]
    assert entry["sha256"] == digest.hexdigest()
    assert any("longer than the limit" in e["message"] for e in report["errors"])
    print(f"peak RSS: 1 GiB object {large} KiB, 1 KiB object {small} KiB")
    assert large - small < 128 * 1024, f"peak RSS {large} KiB vs {small} KiB for 1 KiB"


def test_dask_workers_read_from_the_store(s3: S3Server, tmp_path: Path) -> None:
    """Logs, frames and probes read by two Dask workers from the store (their own AWS chain,
    from their environment): the same report as the local pool on the same URL."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scale"))
    from scale_helpers import audit_cli, start_cluster

    cluster = start_cluster(tmp_path / "cluster")
    try:
        on_dask = audit_cli(DEMO_URL, tmp_path / "dask.json", "--scheduler", cluster.address)
        assert on_dask.returncode == 0, on_dask.stderr + cluster.log_text()
    finally:
        cluster.stop()
    pooled = audit_cli(DEMO_URL, tmp_path / "pool.json", "--workers", "2")
    assert pooled.returncode == 0, pooled.stderr
    got = json.loads((tmp_path / "dask.json").read_text())
    want = json.loads((tmp_path / "pool.json").read_text())
    assert got["run"]["executor"] == "dask"
    assert got["summary"]["frames_analysed"] > 0
    assert json.dumps(without_run(got), sort_keys=True) == json.dumps(
        without_run(want), sort_keys=True
    )
