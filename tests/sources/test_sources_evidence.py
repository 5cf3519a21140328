"""The new sources' records survive `auditor export` and `auditor verify`: the published records
(access-log lines, an Azure `{"records": [...]}` entry, a Lambda Kinesis event's record) are put
back into a sparse bundle and read again to the same findings."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from auditor.evidence_pack.sparse import FILLER
from auditor.sources.jsondoc import FILLER_SOURCE, is_filler
from tests.conftest import ROOT, make_bundle
from tests.logsamples import SAMPLES

PRINCIPALS = """
[[principal]]
address = "172.16.0.0/12"
organisation = "Metro City Police Department"
category = "police"

[[principal]]
name = "3f1c9a2e-7b44-4d0e-8b51-2c6d9e0f1a7b"
organisation = "Metro City Police Department"
category = "police"

[[principal]]
address = "10.50.0.0/16"
organisation = "Metro City Police Department"
category = "police"

[[principal]]
account = "111122223333"
organisation = "Harbor County Sheriff's Office"
category = "police"
"""


def test_sources_skip_the_sparse_bundles_filler() -> None:
    assert orjson.loads(FILLER)["eventSource"] == FILLER_SOURCE and is_filler(orjson.loads(FILLER))


def test_export_and_verify_round_trip(tmp_path: Path, cli: Callable[..., Any], db_url: str) -> None:
    event = json.loads((SAMPLES / "rekognition-video/lambda-kinesis-event.json").read_text())
    event["Records"] = event["Records"][:2]  # leave out the deliberately broken record
    bundle = make_bundle(
        tmp_path / "b",
        {
            "logs/azure/PT1H.json": (SAMPLES / "azure-monitor/PT1H.json").read_bytes(),
            "logs/kinesis/event.json": json.dumps(event, indent=2) + "\n",
            "logs/proxy/access_common.log": (SAMPLES / "apache/access_common.log").read_bytes(),
        },
        principals=PRINCIPALS,
    )
    # the Microsoft pack without its US-only context, so that logs without a country apply
    pack = (ROOT / "seeds/microsoft-face-police-2020.toml").read_text()
    pack = pack.replace('[rules.context]\ncountry = ["US"]\n', "", 1)
    # a changed pack is another version: the shipped one is compared byte for byte
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
    files = {f["events"][0]["file"] for f in data["findings"]}
    assert files == {
        "logs/azure/PT1H.json",
        "logs/kinesis/event.json",
        "logs/proxy/access_common.log",
    }
    azure = [f for f in data["findings"] if f["events"][0]["file"] == "logs/azure/PT1H.json"]
    assert {f["events"][0]["record"] for f in azure} == {1}  # inside the records document
    archive = tmp_path / "ev.zip"
    res = cli("export", data["run"]["id"], "--db", db_url, "--output", archive, *packs)
    assert res.exit_code == 0, res.output
    res = cli("verify", archive)
    assert res.exit_code == 0, res.output
    total = len(data["findings"])
    assert f"{total} of {total} finding(s) reproduced" in res.output
    res = cli("verify", report, bundle, *packs)
    assert res.exit_code == 0, res.output
