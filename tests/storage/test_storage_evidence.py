"""`auditor export` and `auditor verify` of a bundle in object storage, through the real CLI
against the loopback S3 server.

An NGO re-checks a published audit where the material lives, so both commands read the bundle
through the same `BundleFS` as the audit: the archive of a run made from `s3://` holds the same
records, packs, config and thumbnails as the archive of the same bundle on disk, and a report
verifies against the store; a changed or missing key is named, never passed over.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEMO, CliResult, run_auditor
from tests.storage.s3_helpers import DEMO_URL, SECRET_KEY, S3Server

LOG = "logs/pipeline/matcher-2023-05.jsonl"


def _entries(archive: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _run(cli: Callable[..., CliResult], bundle: object, tmp: Path, name: str) -> tuple[str, str]:
    """Audit `bundle` into a store of its own: (database URL, run id)."""
    db = f"sqlite:///{tmp / f'{name}.db'}"
    out = tmp / f"{name}.json"
    done = cli("audit", bundle, "--format", "json", "--output", out, "--db", db, "--no-cache")
    assert done.exit_code == 1, done.output
    return db, json.loads(out.read_text())["run"]["id"]


@pytest.fixture(scope="module")
def runs(
    s3: S3Server, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[str, str, Path]]:
    """The demo audited once from the store and once from disk, with each run's JSON report."""
    tmp = tmp_path_factory.mktemp("s3-evidence")
    out: dict[str, tuple[str, str, Path]] = {}
    for name, bundle in (("s3", DEMO_URL), ("disk", DEMO)):
        db, run = _run(run_auditor, bundle, tmp, name)
        out[name] = (db, run, tmp / f"{name}.json")
    return out


def test_export_of_an_s3_run_equals_export_from_disk(
    s3: S3Server,
    cli: Callable[..., CliResult],
    runs: dict[str, tuple[str, str, Path]],
    tmp_path: Path,
) -> None:
    """`export` finds the bundle where the run read it (the URL kept in the store) and cuts the
    same records, packs, config and thumbnails as from the folder; only report.json's `run`
    block and the manifest line of report.json differ."""
    archives = {}
    for name, (db, run, _) in runs.items():
        archives[name] = tmp_path / f"{name}.zip"
        done = cli("export", run, "--db", db, "--output", archives[name])
        assert done.exit_code == 0, done.output
        assert SECRET_KEY not in done.output
    remote, local = _entries(archives["s3"]), _entries(archives["disk"])
    assert set(remote) == set(local)
    assert any(n.startswith("thumbs/") for n in remote), "frames were read from the store"
    for name in sorted(set(remote) - {"report.json", "README.txt", "MANIFEST.sha256"}):
        assert remote[name] == local[name], name
    got, want = (json.loads(e["report.json"]) for e in (remote, local))
    assert {k: v for k, v in got.items() if k != "run"} == {
        k: v for k, v in want.items() if k != "run"
    }
    assert SECRET_KEY.encode() not in b"".join(remote.values())


def test_verify_a_report_against_the_store(
    s3: S3Server, cli: Callable[..., CliResult], runs: dict[str, tuple[str, str, Path]]
) -> None:
    """Full mode from the store: every input's SHA-256 and a complete re-run, exit 0. The
    report made from disk verifies against the store too: the bytes are the same."""
    for name in ("s3", "disk"):
        done = cli("verify", runs[name][2], DEMO_URL, "--json")
        assert done.exit_code == 0, done.output
        result = json.loads(done.stdout)
        assert result["reproduced"] is True and result["mode"] == "full"
        inputs = next(p for p in result["points"] if p["topic"] == "inputs")
        assert inputs["ok"] and "every SHA-256 matches" in inputs["message"]


def test_verify_an_archive_with_its_bundle_in_the_store(
    s3: S3Server,
    cli: Callable[..., CliResult],
    runs: dict[str, tuple[str, str, Path]],
    tmp_path: Path,
) -> None:
    """An evidence archive plus the bundle URL: full mode with the archive's own packs."""
    db, run, _ = runs["s3"]
    archive = tmp_path / "evidence.zip"
    assert cli("export", run, "--db", db, "--output", archive).exit_code == 0
    done = cli("verify", archive, DEMO_URL)
    assert done.exit_code == 0, done.output
    assert "verify: reproduced" in done.stdout


@pytest.fixture()
def changed(s3: S3Server) -> Any:
    """The demo under another prefix with the same folder name (`team-b/demo`), one log
    rewritten; yields a function that deletes a key of it."""
    prefix = "team-b/demo"
    s3.upload_tree(DEMO, "audits", prefix)
    body = (DEMO / LOG).read_bytes().replace(b"\n", b"\n\n", 1)
    s3.client.put_object(Bucket="audits", Key=f"{prefix}/{LOG}", Body=body)

    def delete(rel: str) -> None:
        s3.client.delete_object(Bucket="audits", Key=f"{prefix}/{rel}")

    yield delete
    for item in s3.client.list_objects_v2(Bucket="audits", Prefix=prefix).get("Contents", []):
        s3.client.delete_object(Bucket="audits", Key=item["Key"])


def test_verify_names_a_key_that_changed(
    s3: S3Server,
    cli: Callable[..., CliResult],
    runs: dict[str, tuple[str, str, Path]],
    changed: Any,
) -> None:
    """A log rewritten in the store: NOT reproduced (exit 1), and the inputs point names it."""
    done = cli("verify", runs["s3"][2], "s3://audits/team-b/demo/", "--json")
    assert done.exit_code == 1, done.output
    inputs = next(p for p in json.loads(done.stdout)["points"] if p["topic"] == "inputs")
    assert not inputs["ok"]
    assert [d.split(":")[0] for d in inputs["details"]] == [LOG]
    assert "SHA-256 differs" in inputs["details"][0]


def test_export_refuses_a_changed_or_missing_key(
    s3: S3Server,
    cli: Callable[..., CliResult],
    runs: dict[str, tuple[str, str, Path]],
    changed: Any,
    tmp_path: Path,
) -> None:
    """Export publishes only what the audit read: a rewritten log, then a deleted one, are each
    exit 2 with the file named, and no archive is written."""
    db, run, _ = runs["s3"]
    archive = tmp_path / "evidence.zip"
    done = cli("export", run, "--db", db, "--bundle", "s3://audits/team-b/demo", "-o", archive)
    assert done.exit_code == 2
    assert f"{LOG}: changed since the run" in done.stderr
    changed(LOG)
    done = cli("export", run, "--db", db, "--bundle", "s3://audits/team-b/demo", "-o", archive)
    assert done.exit_code == 2
    assert f"{LOG}: cannot be read from the bundle" in done.stderr
    assert "Traceback" not in done.output and not archive.exists()


def test_verify_and_export_of_a_missing_prefix_are_usage_errors(
    s3: S3Server,
    cli: Callable[..., CliResult],
    runs: dict[str, tuple[str, str, Path]],
    tmp_path: Path,
) -> None:
    """No key under the prefix: exit 2 naming the URL, before any re-run."""
    done = cli("verify", runs["s3"][2], "s3://audits/nobody/demo/")
    assert done.exit_code == 2
    assert "s3://audits/nobody/demo" in done.stderr and "bundle not found" in done.stderr
    db, run, _ = runs["s3"]
    done = cli(
        "export", run, "--db", db, "--bundle", "s3://audits/nobody/demo", "-o", tmp_path / "x.zip"
    )
    assert done.exit_code == 2 and "bundle not found" in done.stderr


def test_report_takes_the_bundle_url(
    s3: S3Server,
    cli: Callable[..., CliResult],
    runs: dict[str, tuple[str, str, Path]],
    tmp_path: Path,
) -> None:
    """`auditor report RUN --bundle URL` reads the thumbnails from the store it names (a URL
    given there is kept whole, not folded into a path)."""
    db, run, _ = runs["disk"]
    pages = {}
    for name, url in (("store", DEMO_URL), ("nowhere", "s3://audits/nobody/demo/")):
        out = tmp_path / f"{name}.html"
        done = cli("report", run, "--db", db, "--format", "html", "-o", out, "--bundle", url)
        assert done.exit_code == 0, done.output
        pages[name] = out.read_text()
    missing = "not shown: the frame is not in the bundle folder"
    assert missing not in pages["store"] and "data:image/jpeg;base64," in pages["store"]
    assert missing in pages["nowhere"]
