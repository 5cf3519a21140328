"""Each part through the real command line: JSON layouts, the suspected sweep, wrappers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tests.logsamples import SAMPLES

PRINCIPALS = """
[[principal]]
arn = "arn:aws:sts::111122223333:assumed-role/metro-pd-search/*"
organisation = "Metro City Police Department"
category = "police"
"""


def _audit(cli: Any, tmp_path: Path, files: list[str], *extra: str) -> tuple[int, dict[str, Any]]:
    bundle = tmp_path / "b"
    for rel in files:
        target = bundle / "logs" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLES / rel, target)
    (bundle / "principals.toml").write_text(PRINCIPALS)
    out = tmp_path / "r.json"
    res = cli(
        "audit", bundle, "--no-frames", "--no-store", "--format", "json", "--output", out, *extra
    )
    return res.exit_code, json.loads(out.read_text())


def test_json_layouts_through_the_cli(tmp_path: Path, cli: Any) -> None:
    code, report = _audit(
        cli, tmp_path, ["json-layouts/jq-records.json", "json-layouts/commented.json"]
    )
    assert report["errors"] == [] and code == 1  # police searches: findings
    sources = {
        i["path"]: (i["source"], i["records"]) for i in report["inputs"] if i["kind"] == "log"
    }
    assert sources == {
        "logs/json-layouts/jq-records.json": ("cloudtrail", 3),
        "logs/json-layouts/commented.json": ("jsonl", 2),
    }
    ops = {e["operation"] for f in report["findings"] for e in f["events"]}
    assert "SearchFacesByImage" in ops


def test_the_sweep_through_the_cli(tmp_path: Path, cli: Any) -> None:
    """A free-text log no source reads: the audit is incomplete (exit 3), the file's error is
    listed, and so is each face call it names, as a suspected event the packs judge."""
    code, report = _audit(
        cli,
        tmp_path,
        ["free-text/boto3-clienterror.log", "free-text/startup-routes.log"],
        "--fail-on-undecided",
    )
    assert code == 3
    assert sorted(e["file"] for e in report["errors"]) == [
        "logs/free-text/boto3-clienterror.log",
        "logs/free-text/startup-routes.log",
    ]
    assert report["summary"]["suspected_face_matching"] == 2
    assert report["summary"]["kinds"] == {"suspected_face_matching": 2}
    notices = [(n["file"], n["line"]) for n in report["notices"]]
    assert notices == [
        ("logs/free-text/boto3-clienterror.log", 5),
        ("logs/free-text/boto3-clienterror.log", 12),
    ]
    # the denied role is attributed through principals.toml like any other event
    assert report["summary"]["unknown_principals"] == 1  # the second line names no role


def test_wrapped_logs_through_the_cli(tmp_path: Path, cli: Any) -> None:
    files = [
        "containers/docker-compose-logs.txt",
        "containers/kubectl-prefix.log",
        "cloudwatch/subscription-payload.gz",
    ]
    code, report = _audit(cli, tmp_path, files)
    assert report["errors"] == []
    logs = {i["path"]: (i["source"], i["records"]) for i in report["inputs"] if i["kind"] == "log"}
    assert logs == {
        "logs/containers/docker-compose-logs.txt": ("wrapped", 4),
        "logs/containers/kubectl-prefix.log": ("wrapped", 2),
        "logs/cloudwatch/subscription-payload.gz": ("wrapped", 2),
    }
    kinds = report["summary"]["kinds"]
    assert kinds["identification_1toN"] == 4 and kinds["suspected_face_matching"] == 1
    # the Azure Face calls of the kubectl and CloudWatch files are judged like any access-log
    # line: Microsoft's limited-access rule applies to every Azure Face identification
    rules = sorted((f["rule"], f["events"][0]["operation"]) for f in report["findings"])
    assert rules == [("MS-LA-001", "Identify"), ("MS-LA-001", "Identify"), ("MS-LA-001", "Verify")]
    assert code == 1
