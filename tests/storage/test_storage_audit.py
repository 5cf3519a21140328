"""`auditor audit s3://bucket/prefix/`: the real CLI against a real S3 API server on loopback.

The same bundle in the store and on disk must give the same report (outside `run`), with the
same confinement and the same errors; credentials come from the AWS chain and never show.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import DEMO, POLICE_PRINCIPALS, CliResult
from tests.storage.s3_helpers import DEMO_URL, SECRET_KEY, IamS3Server, S3Server, without_run

CLOUDTRAIL = DEMO / "logs" / "cloudtrail" / "111122223333_CloudTrail_us-east-1_rekognition.json"


def _audit(cli: Callable[..., CliResult], bundle: object, out: Path, *extra: object) -> CliResult:
    return cli("audit", bundle, "--format", "json", "--output", out, "--no-cache", *extra)


def test_demo_in_s3_reports_as_on_disk(
    s3: S3Server, cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    """audit.toml, principals.toml, logs, frames and probes all read from the store (local
    pool of 2): the report equals the one of the same bundle on disk, byte for byte outside
    `run`; the store keeps the URL; the secret key shows nowhere."""
    db = tmp_path / "runs.db"
    remote = _audit(
        cli, DEMO_URL, tmp_path / "s3.json", "--workers", "2", "--db", f"sqlite:///{db}"
    )
    local = _audit(cli, DEMO, tmp_path / "disk.json", "--workers", "2", "--no-store")
    assert remote.exit_code == local.exit_code == 1, remote.output
    got = json.loads((tmp_path / "s3.json").read_text())
    want = json.loads((tmp_path / "disk.json").read_text())
    assert got["summary"]["frames_analysed"] > 0 and got["probes"], "frames and probes were read"
    assert json.dumps(without_run(got), sort_keys=True) == json.dumps(
        without_run(want), sort_keys=True
    )
    assert {i["kind"] for i in got["inputs"]} >= {"log", "config", "frame", "probe"}
    with sqlite3.connect(db) as con:
        rows = con.execute("select bundle from runs").fetchall()
    assert rows == [("s3://audits/team-a/demo",)]
    assert SECRET_KEY not in remote.output
    assert SECRET_KEY.encode() not in db.read_bytes()
    assert SECRET_KEY not in (tmp_path / "s3.json").read_text()


def test_html_report_of_s3_bundle_shows_excerpts(
    s3: S3Server, cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    """The HTML report's log excerpts are read back from the store, as from a folder."""
    for name, bundle in (("s3", DEMO_URL), ("disk", DEMO)):
        done = cli(
            "audit", bundle, "--no-frames", "--no-store", "--format", "html",
            "--output", tmp_path / f"{name}.html",
        )  # fmt: skip
        assert done.exit_code == 1, done.output
    remote = (tmp_path / "s3.html").read_text()
    local = (tmp_path / "disk.html").read_text()
    assert remote.count("<pre>") == local.count("<pre>") > 0
    assert "not available (no bundle folder given" not in remote.split("<pre>", 1)[0][-400:]


def test_missing_prefix_is_a_usage_error(
    s3: S3Server, cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    done = _audit(cli, "s3://audits/no-such-bundle/", tmp_path / "r.json", "--no-store")
    assert done.exit_code == 2, done.output
    assert "s3://audits/no-such-bundle" in done.stderr and "not found" in done.stderr


def test_missing_frame_key_is_located(
    s3: S3Server, cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    """A frame a log references but the store lacks: a notice, or with --require-frames an
    input error naming the key (exit 3), as on disk."""
    doc = json.loads(CLOUDTRAIL.read_text())
    doc["Records"][0]["requestParameters"]["image"]["s3Object"]["name"] = "metro-pd/gone.jpg"
    s3.client.put_object(Bucket="audits", Key="missing/audit.toml", Body=b"")
    s3.client.put_object(Bucket="audits", Key="missing/principals.toml", Body=POLICE_PRINCIPALS)
    s3.client.put_object(Bucket="audits", Key="missing/logs/ct.json", Body=json.dumps(doc))
    done = _audit(cli, "s3://audits/missing", tmp_path / "r.json", "--no-store", "--require-frames")
    assert done.exit_code == 3, done.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert any(
        e["file"] == "frames/metro-pd/gone.jpg" and "missing" in e["message"]
        for e in report["errors"]
    ), report["errors"]


def test_keys_that_are_not_plain_paths_are_refused(
    s3: S3Server, cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    """A key with `..` or an empty part would name another key once normalised: refused and
    reported by name, never read; frame references that climb out never reach the store."""
    doc = json.loads(CLOUDTRAIL.read_text())
    doc["Records"][0]["requestParameters"]["image"]["s3Object"]["name"] = "../../outside.jpg"
    s3.client.put_object(Bucket="audits", Key="outside.jpg", Body=b"not read")
    s3.client.put_object(Bucket="audits", Key="odd/logs/ct.json", Body=json.dumps(doc))
    s3.client.put_object(Bucket="audits", Key="odd/logs/a/../b.json", Body=b"{}")
    s3.client.put_object(Bucket="audits", Key="odd/logs//c.json", Body=b"{}")
    done = _audit(cli, "s3://audits/odd/", tmp_path / "r.json", "--no-store")
    assert done.exit_code == 3, done.output
    errors = json.loads((tmp_path / "r.json").read_text())["errors"]
    messages = {e["file"]: e["message"] for e in errors}
    assert "not a normal path" in messages["logs/a/../b.json"]
    assert "not a normal path" in messages["logs//"]  # the keys under an empty folder name
    assert any("climbs out of the bundle" in e["message"] for e in errors), errors


def test_unreadable_key_is_an_incomplete_audit(
    s3: S3Server, cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    """An object the audit may list but not read (archived to Glacier: GetObject is refused
    until it is restored) is an input error naming it: exit 3, the other logs still read."""
    s3.client.put_object(Bucket="audits", Key="cold/principals.toml", Body=POLICE_PRINCIPALS)
    s3.client.put_object(Bucket="audits", Key="cold/logs/ct.json", Body=CLOUDTRAIL.read_bytes())
    s3.client.put_object(
        Bucket="audits", Key="cold/logs/old.json", Body=CLOUDTRAIL.read_bytes(),
        StorageClass="GLACIER",
    )  # fmt: skip
    done = _audit(cli, "s3://audits/cold", tmp_path / "r.json", "--no-store", "--no-frames")
    assert done.exit_code == 3, done.output
    report = json.loads((tmp_path / "r.json").read_text())
    errors = [e for e in report["errors"] if e["file"] == "logs/old.json"]
    assert errors, report["errors"]
    read = {i["path"]: i["records"] for i in report["inputs"] if i["kind"] == "log"}
    assert read["logs/ct.json"] == 10  # the other log was read in full
    assert "logs/old.json" in done.stderr or errors[0]["message"]


#: The demo log the access-policy test's user may list but not read (one finding comes from it).
DENIED_LOG = "logs/edge/gateway.log"


def test_key_denied_by_an_access_policy_is_an_incomplete_audit(
    iam_s3: IamS3Server,
    cli: Callable[..., CliResult],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A key the caller's IAM policy denies (s3:GetObject, explicit Deny on its ARN; s3:* on
    the rest of the bucket): S3 answers 403 AccessDenied. The audit reads every other file,
    reports the denied one as an input error naming it and saying access was denied, exits 3,
    and the findings of the other files are those of the same bundle on disk without it.

    moto evaluates the policy only once it authenticates requests: `INITIAL_NO_AUTH_ACTION_COUNT`
    (moto docs/docs/iam.rst, https://docs.getmoto.org/en/latest/docs/iam.html; the checks are
    moto/iam/access_control.py, `S3IAMRequest`, given the `arn:aws:s3:::bucket/key` resource
    by moto/s3/responses.py). See `start_iam_s3` and the `iam_s3` fixture."""
    keys = iam_s3.user(
        "demo-reader",
        [
            {"Effect": "Allow", "Action": "s3:*",
             "Resource": ["arn:aws:s3:::audits", "arn:aws:s3:::audits/*"]},
            {"Effect": "Deny", "Action": "s3:GetObject",
             "Resource": f"arn:aws:s3:::audits/team-a/demo/{DENIED_LOG}"},
        ],
    )  # fmt: skip
    # the policy is enforced as written: this user's own read of the key is refused by S3
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as refused:
        iam_s3.client("s3", keys).get_object(Bucket="audits", Key=f"team-a/demo/{DENIED_LOG}")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    for name, value in iam_s3.env(keys).items():
        monkeypatch.setenv(name, value)

    out = tmp_path / "s3.json"
    done = _audit(cli, DEMO_URL, out, "--no-store")
    assert done.exit_code == 3, done.output
    assert "Traceback" not in done.stderr
    report = json.loads(out.read_text())
    assert [(e["file"], e["message"]) for e in report["errors"]] == [
        (DENIED_LOG, "cannot open: access denied by the store (Forbidden)")
    ], report["errors"]
    read = {i["path"]: i["records"] for i in report["inputs"] if i["kind"] == "log"}
    assert read.pop(DENIED_LOG) == 0 and len(read) == 6, read  # listed, not one record read

    # everything else was read: the same findings as the bundle on disk without that file
    local = tmp_path / "demo"
    shutil.copytree(DEMO, local)
    (local / DENIED_LOG).unlink()
    assert _audit(cli, local, tmp_path / "disk.json", "--no-store").exit_code == 1
    want = json.loads((tmp_path / "disk.json").read_text())
    assert report["findings"] and report["findings"] == want["findings"]
    assert read == {i["path"]: i["records"] for i in want["inputs"] if i["kind"] == "log"}
    assert report["summary"]["frames_analysed"] == want["summary"]["frames_analysed"] > 0

    for secret in (keys["SecretAccessKey"], keys["AccessKeyId"]):
        assert secret not in done.output and secret not in out.read_text()


def test_listing_denied_by_an_access_policy_is_a_usage_error(
    iam_s3: IamS3Server,
    cli: Callable[..., CliResult],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bundle whose listing the caller's policy denies (s3:ListBucket): nothing can be
    audited, so exit 2 with one error line naming the URL and the refusal, no report.

    moto checks s3:ListBucket against the bucket's ARN only: it does not evaluate Condition
    keys such as `s3:prefix` (moto/iam/access_control.py passes no request values to
    `_check_conditions` for S3), so the deny here covers the bucket `locked`, not one prefix."""
    keys = iam_s3.user(
        "locked-reader",
        [
            {"Effect": "Allow", "Action": "s3:*",
             "Resource": ["arn:aws:s3:::locked", "arn:aws:s3:::locked/*"]},
            {"Effect": "Deny", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::locked"},
        ],
    )  # fmt: skip
    for name, value in iam_s3.env(keys).items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "r.json"
    done = _audit(cli, "s3://locked/bundle/", out, "--no-store")
    assert done.exit_code == 2, done.output
    assert done.stderr.strip() == (
        "auditor: error: s3://locked/bundle/: cannot list the bundle: Access Denied"
    ), done.stderr
    assert not out.exists()
    assert keys["SecretAccessKey"] not in done.output and keys["AccessKeyId"] not in done.output


def test_rfc3164_lines_in_a_store_take_the_year_of_the_objects_last_modified(
    s3: S3Server, cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    """Classic syslog times have no year; on disk it comes from the file's modification time,
    in object storage from the object's `LastModified` (moto: the upload time), and each event
    says so. A line dated after that time is of the year before."""
    from datetime import UTC, datetime

    lines = (DEMO.parents[0] / "realworld" / "wrappers" / "syslog-rfc3164.log").read_bytes()
    s3.client.put_object(Bucket="audits", Key="syslog/logs/messages.log", Body=lines)
    out = tmp_path / "r.json"
    done = cli("audit", "s3://audits/syslog", "--no-frames", "--no-store", "--format", "json",
               "--output", out)  # fmt: skip
    assert done.exit_code in (0, 1), done.output
    report = json.loads(out.read_text())
    assert report["errors"] == []
    now = datetime.now(UTC)
    years = {f["events"][0]["time"][:4] for f in report["findings"]} | {
        s["time"][:4] for g in report["undecided"] for s in g["sample"]
    }
    # the corpus lines are dated May 11: this year once May 11 has passed, else the year before
    may = datetime(now.year, 5, 11, tzinfo=UTC)
    assert years == {str(now.year if now > may else now.year - 1)}
