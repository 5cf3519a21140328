"""`auditor export` and `auditor verify` through the real CLI, on real bundles and archives."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageFilter

from auditor.report.thumbs import thumbnail_jpeg
from tests.conftest import DEMO, POLICE_PRINCIPALS, make_bundle


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo audited once into a store, its JSON report, and its evidence archive."""
    from typer.testing import CliRunner

    from auditor.cli import app

    tmp = tmp_path_factory.mktemp("exported")
    bundle = tmp / "demo"
    shutil.copytree(DEMO, bundle)
    db = f"sqlite:///{tmp / 'audit.db'}"
    report_path = tmp / "report.json"
    runner = CliRunner()
    res = runner.invoke(
        app,
        ["audit", str(bundle), "--format", "json", "--output", str(report_path), "--db", db],
        catch_exceptions=False,
    )
    assert res.exit_code == 1, res.output
    run_id = json.loads(report_path.read_text())["run"]["id"]
    archive = tmp / "evidence.zip"
    res = runner.invoke(
        app, ["export", run_id, "--db", db, "--output", str(archive)], catch_exceptions=False
    )
    assert res.exit_code == 0, res.output
    return {
        "bundle": bundle,
        "db": db,
        "report": report_path,
        "run": run_id,
        "archive": archive,
        "tmp": tmp,
    }


def _rezip(
    src: Path, dest: Path, change: Callable[[dict[str, bytes]], None], manifest: bool = True
) -> Path:
    """Copy an archive with some entries changed (and, if asked, the manifest redone)."""
    with zipfile.ZipFile(src) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    change(entries)
    if manifest:
        entries["MANIFEST.sha256"] = "".join(
            f"{hashlib.sha256(d).hexdigest()}  {n}\n"
            for n, d in sorted(entries.items())
            if n != "MANIFEST.sha256"
        ).encode()
    with zipfile.ZipFile(dest, "w") as zf:
        for name, data in sorted(entries.items()):
            zf.writestr(name, data)
    return dest


# -- verify, full mode -------------------------------------------------------------------------


def test_verify_reproduces_the_demo(cli: Callable[..., Any], exported: dict[str, Any]) -> None:
    res = cli("verify", exported["report"], exported["bundle"])
    assert res.exit_code == 0, res.output
    assert "verify: reproduced" in res.output
    assert "every SHA-256 matches" in res.output
    as_json = cli("verify", exported["report"], exported["bundle"], "--json")
    doc = json.loads(as_json.output)
    assert doc["reproduced"] is True and doc["mode"] == "full"
    topics = {p["topic"] for p in doc["points"]}
    assert {"inputs", "packs", "findings", "summary", "errors"} <= topics


def test_verify_names_a_changed_log_and_the_lost_finding(
    cli: Callable[..., Any], exported: dict[str, Any], tmp_path: Path
) -> None:
    bundle = tmp_path / "demo"
    shutil.copytree(exported["bundle"], bundle)
    log = bundle / "logs/pipeline/matcher-2023-05.jsonl"
    lines = log.read_text().splitlines()
    first = json.loads(lines[0])
    first["time"] = first["time"].replace("2023", "2019")
    lines[0] = json.dumps(first)
    log.write_text("\n".join(lines) + "\n")
    res = cli("verify", exported["report"], bundle)
    assert res.exit_code == 1, res.output
    assert "logs/pipeline/matcher-2023-05.jsonl: SHA-256 differs" in res.output
    assert "not found by the re-run" in res.output
    assert "verify: NOT reproduced" in res.output


def test_verify_names_another_pack_version(
    cli: Callable[..., Any], exported: dict[str, Any], tmp_path: Path
) -> None:
    seeds = Path(__file__).resolve().parents[2] / "seeds"
    packs = []
    for pack in sorted(seeds.glob("*.toml")):
        copy = tmp_path / pack.name
        text = pack.read_text()
        if pack.stem == "amazon-rekognition-police-2020":
            text = text.replace('version = "', 'version = "9.', 1)
        copy.write_text(text)
        packs += ["--policy", str(copy)]
    res = cli("verify", exported["report"], exported["bundle"], *packs)
    assert res.exit_code == 1, res.output
    assert "amazon-rekognition-police-2020: report used version" in res.output
    assert "here version 9." in res.output


def test_verify_rerun_that_cannot_read_an_input_is_exit_3(
    cli: Callable[..., Any], exported: dict[str, Any], tmp_path: Path
) -> None:
    bundle = tmp_path / "demo"
    shutil.copytree(exported["bundle"], bundle)
    gz = next((bundle / "logs").rglob("*.json.gz"))
    gz.write_bytes(gz.read_bytes()[:200])  # a truncated gzip
    res = cli("verify", exported["report"], bundle)
    assert res.exit_code == 3, res.output
    assert "SHA-256 differs" in res.output
    assert "input error in the re-run" in res.output


def test_verify_refuses_what_is_not_a_report(cli: Callable[..., Any], tmp_path: Path) -> None:
    bogus = tmp_path / "x.json"
    bogus.write_text('{"schema": "something/else"}')
    res = cli("verify", bogus, DEMO)
    assert res.exit_code == 2
    assert "not an auditor.report/v1 document" in res.output
    res = cli("verify", bogus)
    assert res.exit_code == 2


# -- export ------------------------------------------------------------------------------------


def test_export_holds_only_what_findings_rest_on(exported: dict[str, Any]) -> None:
    report = json.loads(exported["report"].read_text())
    with zipfile.ZipFile(exported["archive"]) as zf:
        names = zf.namelist()
        entries = {n: zf.read(n) for n in names}
    assert names == sorted(names)
    assert {"report.json", "records.jsonl", "MANIFEST.sha256", "README.txt"} <= set(names)
    # the manifest is `sha256sum -c` compatible and covers every other entry
    listed = {}
    for line in entries["MANIFEST.sha256"].decode().splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    assert set(listed) == set(names) - {"MANIFEST.sha256"}
    assert all(hashlib.sha256(entries[n]).hexdigest() == d for n, d in listed.items())
    # exactly the records behind the findings, no more
    records = [json.loads(line) for line in entries["records.jsonl"].splitlines()]
    wanted = {(e["file"], e["line"], e["record"]) for f in report["findings"] for e in f["events"]}
    assert {(r["file"], r["line"], r["record"]) for r in records} == wanted
    for r in records:
        assert hashlib.sha256(r["raw"].encode()).hexdigest() == r["sha256"]
    # packs byte for byte as the report hashed them; config as the inputs hashed them
    for pack in report["packs"]:
        assert hashlib.sha256(entries[f"packs/{pack['id']}.toml"]).hexdigest() == pack["sha256"]
    for item in report["inputs"]:
        if item["kind"] == "config":
            assert hashlib.sha256(entries[f"config/{item['path']}"]).hexdigest() == item["sha256"]
    # no whole logs, frames or probes, and no descriptors anywhere
    assert not any(n.startswith(("logs/", "frames/", "probes/")) for n in names)
    assert not _has_vector(json.loads(entries["report.json"]))
    assert not any(_has_vector(json.loads(x)) for x in entries["records.jsonl"].splitlines())


def _has_vector(obj: Any) -> bool:
    """Anything that looks like a face descriptor: a key named so, or 128 floats in a row."""
    if isinstance(obj, dict):
        return any("descriptor" in str(k).lower() or _has_vector(v) for k, v in obj.items())
    if isinstance(obj, list):
        if len(obj) == 128 and all(isinstance(v, float) for v in obj):
            return True
        return any(_has_vector(v) for v in obj)
    return False


def test_export_is_deterministic(
    cli: Callable[..., Any], exported: dict[str, Any], tmp_path: Path
) -> None:
    again = tmp_path / "again.zip"
    res = cli("export", exported["run"], "--db", exported["db"], "--output", again)
    assert res.exit_code == 0, res.output
    assert again.read_bytes() == exported["archive"].read_bytes()


def _sharpness(img: Image.Image) -> float:
    edges = np.asarray(img.convert("L").filter(ImageFilter.FIND_EDGES), dtype=float)
    return float(edges.var())


def test_export_thumbnails_are_blurred(exported: dict[str, Any]) -> None:
    report = json.loads(exported["report"].read_text())
    frame = next(fr for f in report["findings"] for fr in f["frames"] if fr["faces"] > 0)
    with zipfile.ZipFile(exported["archive"]) as zf:
        published = Image.open(io.BytesIO(zf.read(f"thumbs/{frame['sha256']}.jpg")))
        published.load()
    sharp = thumbnail_jpeg(
        str(exported["bundle"]), frame["path"], frame["sha256"], frame["boxes"], show_faces=True
    )
    assert isinstance(sharp, tuple)
    clear = Image.open(io.BytesIO(sharp[0]))
    assert published.size == clear.size
    scale = clear.width / Image.open(exported["bundle"] / frame["path"]).width
    top, right, bottom, left = (round(v * scale) for v in frame["boxes"][0])
    box = (left + 3, top + 3, right - 3, bottom - 3)  # inside the drawn rectangle
    # inside the face box the published thumbnail has lost the face's detail; elsewhere it is
    # the same picture (JPEG noise aside)
    inside = _mean_abs_diff(published.crop(box), clear.crop(box))
    corner = (0, 0, max(8, left - 20), max(8, top - 20))
    outside = _mean_abs_diff(published.crop(corner), clear.crop(corner))
    assert inside > 4 * max(outside, 1.0), (inside, outside)
    assert _sharpness(published.crop(box)) < 0.6 * _sharpness(clear.crop(box))


def _mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    return float(
        np.abs(
            np.asarray(a.convert("L"), dtype=float) - np.asarray(b.convert("L"), dtype=float)
        ).mean()
    )


def test_export_of_an_unknown_run_is_exit_2(
    cli: Callable[..., Any], exported: dict[str, Any], tmp_path: Path
) -> None:
    res = cli("export", "ffffffffffff", "--db", exported["db"], "--output", tmp_path / "x.zip")
    assert res.exit_code == 2
    assert not (tmp_path / "x.zip").exists()


# -- verify, log-only mode ---------------------------------------------------------------------


def test_verify_archive_alone_and_with_its_report(
    cli: Callable[..., Any], exported: dict[str, Any]
) -> None:
    res = cli("verify", exported["archive"])
    assert res.exit_code == 0, res.output
    assert "verify (log-only)" in res.output
    assert "every archive entry matches MANIFEST.sha256" in res.output
    res = cli("verify", exported["report"], exported["archive"])
    assert res.exit_code == 0, res.output
    assert "the given report is the archive's report.json" in res.output


def test_verify_archive_with_the_bundle_is_a_full_check(
    cli: Callable[..., Any], exported: dict[str, Any]
) -> None:
    res = cli("verify", exported["archive"], exported["bundle"], "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["mode"] == "full"


def test_verify_archive_catches_an_entry_changed_behind_the_manifest(
    cli: Callable[..., Any], exported: dict[str, Any], tmp_path: Path
) -> None:
    def change(entries: dict[str, bytes]) -> None:
        entries["README.txt"] += b"edited\n"

    bad = _rezip(exported["archive"], tmp_path / "bad.zip", change, manifest=False)
    res = cli("verify", bad)
    assert res.exit_code == 1, res.output
    assert "README.txt: its SHA-256 differs from MANIFEST.sha256" in res.output


def test_verify_archive_catches_a_doctored_record(
    cli: Callable[..., Any], exported: dict[str, Any], tmp_path: Path
) -> None:
    def change(entries: dict[str, bytes]) -> None:
        lines = entries["records.jsonl"].splitlines()
        rec = json.loads(lines[0])
        raw = rec["raw"].replace("2021-03-04T10:15:02Z", "2019-03-04T10:15:02Z")
        assert raw != rec["raw"]
        rec["raw"], rec["sha256"] = raw, hashlib.sha256(raw.encode()).hexdigest()
        lines[0] = json.dumps(rec, sort_keys=True).encode()
        entries["records.jsonl"] = b"\n".join(lines) + b"\n"

    bad = _rezip(exported["archive"], tmp_path / "doctored.zip", change)
    res = cli("verify", bad)
    assert res.exit_code == 1, res.output
    assert "not found by the re-run" in res.output


@pytest.mark.parametrize("file", ["logs/../../escape.json", "/etc/passwd", "frames/x.json"])
def test_verify_archive_refuses_records_outside_logs(
    cli: Callable[..., Any], exported: dict[str, Any], tmp_path: Path, file: str
) -> None:
    def change(entries: dict[str, bytes]) -> None:
        raw = '{"eventName": "x"}'
        rec = {
            "file": file,
            "line": 1,
            "record": None,
            "source": "cloudtrail",
            "shape": "line",
            "encoding": "utf-8",
            "raw": raw,
            "sha256": hashlib.sha256(raw.encode()).hexdigest(),
        }
        entries["records.jsonl"] += json.dumps(rec).encode() + b"\n"

    bad = _rezip(exported["archive"], tmp_path / "hostile.zip", change)
    res = cli("verify", bad)
    assert res.exit_code == 2, res.output
    assert "records.jsonl" in res.output
    assert not (tmp_path.parent / "escape.json").exists()


def test_one_line_delivery_files_round_trip(cli: Callable[..., Any], tmp_path: Path) -> None:
    """Records inside a one-line gzipped `{"Records":[...]}` file keep their line and index."""

    def rec(name: str, source: str, n: int) -> dict[str, Any]:
        return {
            "eventVersion": "1.08",
            "eventTime": f"2021-03-0{n}T10:00:00Z",
            "eventSource": source,
            "eventName": name,
            "awsRegion": "us-east-1",
            "eventID": f"id-{n}",
            "userIdentity": {
                "type": "AssumedRole",
                "arn": "arn:aws:iam::111122223333:role/pd-search",
                "accountId": "111122223333",
            },
        }

    records = [
        rec("GetObject", "s3.amazonaws.com", 1),
        rec("SearchFacesByImage", "rekognition.amazonaws.com", 2),
        rec("DescribeInstances", "ec2.amazonaws.com", 3),
        rec("SearchFaces", "rekognition.amazonaws.com", 4),
    ]
    line = json.dumps({"Records": records}).encode()
    bundle = make_bundle(
        tmp_path / "b", {"logs/trail.json.gz": gzip.compress(line)}, principals=POLICE_PRINCIPALS
    )
    db = f"sqlite:///{tmp_path / 'a.db'}"
    out = tmp_path / "r.json"
    res = cli(
        "audit",
        bundle,
        "--policy",
        "amazon-rekognition-police-2020",
        "--no-frames",
        "--format",
        "json",
        "--output",
        out,
        "--db",
        db,
    )
    assert res.exit_code == 1, res.output
    report = json.loads(out.read_text())
    assert {(e["line"], e["record"]) for f in report["findings"] for e in f["events"]} == {
        (1, 1),
        (1, 3),
    }
    archive = tmp_path / "e.zip"
    assert cli("export", report["run"]["id"], "--db", db, "--output", archive).exit_code == 0
    with zipfile.ZipFile(archive) as zf:
        shapes = {json.loads(x)["shape"] for x in zf.read("records.jsonl").splitlines()}
    assert shapes == {"line-record"}
    res = cli("verify", archive)
    assert res.exit_code == 0, res.output
    assert f"{len(report['findings'])} of {len(report['findings'])} finding(s) reproduced" in (
        res.output
    )


def test_verify_leaves_no_spill_folder(
    exported: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """verify re-runs the audit; the re-run's spill files are removed when it is done, for a
    bundle check and for an archive-only check alike."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setenv("AUDITOR_SPILL_BATCH", "3")  # the re-run spills its findings
    from tests.conftest import run_auditor

    for args in ((exported["report"], exported["bundle"]), (exported["archive"],)):
        res = run_auditor("verify", *args)
        assert res.exit_code == 0, res.output
        # (onnxruntime leaves a `.ses` file of its own in TMPDIR; only ours are checked)
        assert sorted(p.name for p in scratch.glob("auditor-*")) == [], args
