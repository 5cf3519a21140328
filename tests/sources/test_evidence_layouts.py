"""The records behind findings in the new layouts survive `auditor export` and `auditor verify`
from the archive alone: documents one after the other, commented documents, arrays, wrapped
lines and CloudWatch events are cut out, put back in a sparse bundle and read to the same
findings."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import ROOT
from tests.logsamples import SAMPLES

PRINCIPALS = """
[[principal]]
address = "0.0.0.0/0"
organisation = "Metro City Police Department"
category = "police"

[[principal]]
account = "111122223333"
organisation = "Metro City Police Department"
category = "police"

[[principal]]
name = "pd-east-analyst"
organisation = "Metro City Police Department"
category = "police"
"""
FILES = [
    "json-layouts/jq-records.json",
    "json-layouts/commented.json",
    "json-layouts/pipeline-array.json",
    "containers/docker-compose-logs.txt",
    "containers/kubectl-prefix.log",
    "containers/cri-containerd.log",
    "syslog/rfc3164.log",
    "cloudwatch/subscription-payload.gz",
    "cloudwatch/filter-log-events.json",
]


def test_export_and_verify_the_new_layouts(
    tmp_path: Path, cli: Callable[..., Any], db_url: str
) -> None:
    bundle = tmp_path / "b"
    for rel in FILES:
        target = bundle / "logs" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLES / rel, target)
    (bundle / "principals.toml").write_text(PRINCIPALS)
    pack = (ROOT / "seeds/microsoft-face-police-2020.toml").read_text()
    pack = pack.replace('[rules.context]\ncountry = ["US"]\n', "", 1)
    # a changed pack is another version (the shipped one is compared byte for byte)
    pack, n = re.subn(r'^version = "([^"]+)"', r'version = "\1-nous"', pack, count=1, flags=re.M)
    assert n == 1
    (tmp_path / "ms.toml").write_text(pack)
    packs = (
        "--policy",
        str(tmp_path / "ms.toml"),
        "--policy",
        str(ROOT / "seeds/amazon-rekognition-police-2020.toml"),
    )
    report = tmp_path / "r.json"
    res = cli(
        "audit",
        bundle,
        "--no-frames",
        "--db",
        db_url,
        "--format",
        "json",
        "--output",
        report,
        *packs,
    )
    assert res.exit_code == 1, res.output
    data = json.loads(report.read_text())
    assert data["errors"] == []
    files = {f["events"][0]["file"].removeprefix("logs/") for f in data["findings"]}
    # the local-library calls (face_recognition) are in no pack's scope: no finding there
    assert files == set(FILES) - {
        "containers/cri-containerd.log",
        "json-layouts/pipeline-array.json",
    }
    archive = tmp_path / "ev.zip"
    res = cli("export", data["run"]["id"], "--db", db_url, "--output", archive, *packs)
    assert res.exit_code == 0, res.output
    res = cli("verify", archive)
    assert res.exit_code == 0, res.output
    total = len(data["findings"])
    assert f"{total} of {total} finding(s) reproduced" in res.output
