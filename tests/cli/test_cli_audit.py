"""The real CLI on real bundles: the demo's exact findings, exit codes, bad input, the store."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import POLICE_PRINCIPALS, REAL_COUNTS, REALDATA, ROOT, make_bundle

AMAZON = "amazon-rekognition-police-2020"

#: The demo's expected findings under the Amazon pack (fixtures/demo/README.md).
DEMO_EXPECTED = [
    (
        "2021-03-04T10:15:02Z",
        "SearchFacesByImage",
        "Metro City Police Department",
        "succeeded",
        1,
        None,
    ),
    ("2021-03-05T09:00:40Z", "CompareFaces", "Metro City Police Department", "succeeded", 2, None),
    (
        "2021-06-21T22:41:13Z",
        "SearchFacesByImage",
        "Metro City Police Department",
        "failed",
        3,
        None,
    ),
    (
        "2022-01-12T16:20:05Z",
        "SearchFacesByImage",
        "Metro City Police Department",
        "succeeded",
        5,
        None,
    ),
    ("2022-03-03T03:03:03Z", "SearchFaces", "Harbor County Sheriff's Office", "succeeded", 9, None),
    ("2023-05-02T06:00:00Z", "SearchUsersByImage", "East District Police", "succeeded", None, 1),
    ("2023-06-01T12:00:00Z", "CompareFaces", "East District Police", "succeeded", None, 2),
]

AuditJson = Callable[..., tuple[int, dict[str, Any]]]


def test_demo_exact_findings_without_frames(demo_bundle: Path, audit_json: AuditJson) -> None:
    code, report = audit_json(demo_bundle, "--policy", AMAZON, "--no-frames")
    assert code == 1
    got = [
        (
            f["events"][0]["time"],
            f["events"][0]["operation"],
            f["events"][0]["organisation"],
            f["events"][0]["outcome"],
            f["events"][0]["record"],
            f["events"][0]["line"] if f["events"][0]["source"] != "cloudtrail" else None,
        )
        for f in report["findings"]
    ]
    assert got == DEMO_EXPECTED
    assert [f["attempt"] for f in report["findings"]] == [
        False,
        False,
        True,
        False,
        False,
        False,
        False,
    ]
    assert {f["rule"] for f in report["findings"]} == {"AMZ-REK-001"}
    first = report["findings"][0]["events"][0]
    assert first["event_id"] == "0c9a7e11-demo-4000-a000-000000000001"
    assert first["file"] == "logs/cloudtrail/111122223333_CloudTrail_us-east-1_rekognition.json"
    assert (first["principal"], first["category"], first["kind"]) == (
        "arn:aws:sts::111122223333:assumed-role/metro-pd-search/j.doe",
        "police",
        "identification_1toN",
    )
    s = report["summary"]
    assert s["events"] == 10 + 156 + 103 + 6 + 6 + 2 + 10
    assert s["findings"] == {"critical": 0, "high": 7, "medium": 0, "low": 0}
    assert (s["attempts"], s["excused"], s["unknown_principals"], s["suspected_face_matching"]) == (
        1,
        1,
        1,
        1,
    )
    assert report["errors"] == [] and report["run"]["status"] == "complete"
    assert report["schema"] == "auditor.report/v1"
    logs = {i["path"]: i for i in report["inputs"] if i["kind"] == "log"}
    bg = (
        "logs/cloudtrail/background/"
        "218007301253_CloudTrail_us-east-1_20230710T1215Z_YMDRJwtmC82bUwAo.json.gz"
    )
    assert logs[bg]["records"] == 156 and len(logs[bg]["sha256"]) == 64
    assert [p["id"] for p in report["packs"]] == [AMAZON]


def test_demo_with_frames_and_probes(demo_bundle: Path, audit_json: AuditJson) -> None:
    code, report = audit_json(demo_bundle, "--policy", AMAZON)
    assert code == 1
    by_op = {(f["events"][0]["time"]): f for f in report["findings"]}
    first = by_op["2021-03-04T10:15:02Z"]
    assert [(fr["path"], fr["faces"]) for fr in first["frames"]] == [
        ("frames/metro-pd/cam-01/f0001.jpg", 3)
    ]
    assert len(set(first["frames"][0]["persons"])) == 3
    assert by_op["2022-01-12T16:20:05Z"]["frames"][0]["faces"] == 0  # a frame with no face
    assert [p["name"] for p in by_op["2021-06-21T22:41:13Z"]["probes"]] == ["rose-leslie"]
    assert [p["name"] for p in by_op["2023-05-02T06:00:00Z"]["probes"]] == ["alex-lacamoire"]
    assert report["summary"]["frames_analysed"] == 8
    assert report["summary"]["faces_detected"] == 11
    assert report["summary"]["persons"] == 6
    probes = {p["name"]: p["event_ids"] for p in report["probes"]}
    assert probes == {
        "alex-lacamoire": ["east-0001", "gw-0001"],
        "rose-leslie": ["0c9a7e11-demo-4000-a000-000000000003"],
    }
    text = json.dumps(report)
    assert "descriptor" not in text  # reports never carry face descriptors


def test_same_inputs_same_bytes_apart_from_run(demo_bundle: Path, audit_json: AuditJson) -> None:
    _, one = audit_json(demo_bundle, "--policy", AMAZON, "--no-frames")
    _, two = audit_json(demo_bundle, "--policy", AMAZON, "--no-frames")
    assert one.pop("run") != two.pop("run")
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)


@pytest.mark.parametrize(
    ("fail_on", "code"), [("low", 1), ("high", 1), ("critical", 0), ("never", 0)]
)
def test_fail_on(demo_bundle: Path, audit_json: AuditJson, fail_on: str, code: int) -> None:
    assert (
        audit_json(demo_bundle, "--policy", AMAZON, "--no-frames", "--fail-on", fail_on)[0] == code
    )


def test_clean_bundle_exits_zero(tmp_path: Path, audit_json: AuditJson) -> None:
    bundle = make_bundle(
        tmp_path / "b", {"logs/real.json": (REALDATA / sorted(REAL_COUNTS)[0]).read_text()}
    )
    code, report = audit_json(bundle, "--policy", AMAZON)
    assert code == 0 and report["findings"] == [] and report["run"]["status"] == "complete"


def test_every_real_file_in_one_bundle(tmp_path: Path, audit_json: AuditJson) -> None:
    logs: dict[str, bytes | str] = {f"logs/{n}": (REALDATA / n).read_bytes() for n in REAL_COUNTS}
    logs["logs/gz/copy.json.gz"] = gzip.compress((REALDATA / sorted(REAL_COUNTS)[1]).read_bytes())
    code, report = audit_json(make_bundle(tmp_path / "b", logs), "--workers", "2")
    assert code == 0
    assert (
        report["summary"]["events"]
        == sum(REAL_COUNTS.values()) + REAL_COUNTS[sorted(REAL_COUNTS)[1]]
    )
    assert report["errors"] == []


def police_line(**kw: object) -> str:
    rec: dict[str, object] = {
        "time": "2023-01-01T00:00:00Z",
        "principal": "pd-analyst",
        "service": "rekognition",
        "operation": "SearchFacesByImage",
    }
    rec.update(kw)
    return json.dumps(rec) + "\n"


BAD_INPUTS: dict[str, tuple[bytes, str, int | None]] = {
    "malformed line": (police_line().encode() + b"{oops\n", "malformed JSON", 2),
    "non-utf8": (police_line().encode() + b'{"time": "\xff"}\n', "malformed JSON", 2),
    "missing fields": (
        police_line().encode() + b'{"time": "2023-01-01T00:00:00Z"}\n',
        "missing field",
        2,
    ),
    "truncated gzip": (gzip.compress(police_line().encode() * 3000)[:-200], "truncated gzip", None),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_reported_and_the_audit_goes_on(
    tmp_path: Path, audit_json: AuditJson, case: str
) -> None:
    content, needle, line = BAD_INPUTS[case]
    name = "logs/bad.jsonl.gz" if case == "truncated gzip" else "logs/bad.jsonl"
    bundle = make_bundle(
        tmp_path / "b",
        {name: content, "logs/good.jsonl": police_line()},
        principals=POLICE_PRINCIPALS,
    )
    code, report = audit_json(bundle, "--policy", AMAZON, "--no-frames")
    assert code == 3
    assert report["run"]["status"] == "incomplete"
    (error,) = report["errors"]
    assert error["file"] == name and needle in error["message"]
    if line is not None:
        assert error["line"] == line
    assert len(report["findings"]) >= 2  # findings so far are still written
    bad_input = next(i for i in report["inputs"] if i["path"] == name)
    assert bad_input["errors"] == 1


def test_unknown_file_type_and_escaping_frame(tmp_path: Path, audit_json: AuditJson) -> None:
    bundle = make_bundle(
        tmp_path / "b",
        {
            "logs/notes.docx": b"PK\x03\x04",
            "logs/p.jsonl": police_line(frame="../../../etc/passwd"),
        },
        principals=POLICE_PRINCIPALS,
    )
    code, report = audit_json(bundle, "--policy", AMAZON)
    assert code == 3
    msgs = {(e["file"], e["line"]): e["message"] for e in report["errors"]}
    assert "unknown log file type" in msgs[("logs/notes.docx", None)]
    assert "climbs out of the bundle" in msgs[("logs/p.jsonl", 1)]
    assert report["findings"][0]["frames"] == []


def test_missing_and_unreadable_frames(tmp_path: Path, audit_json: AuditJson) -> None:
    bundle = make_bundle(
        tmp_path / "b",
        {
            "logs/p.jsonl": police_line(frame="frames/missing.jpg")
            + police_line(frame="frames/text.jpg"),
            "frames/text.jpg": "this is not a JPEG",
        },
        principals=POLICE_PRINCIPALS,
    )
    code, report = audit_json(bundle, "--policy", AMAZON)
    assert code == 3  # the unreadable frame; the missing one is only a notice
    files = sorted(e["file"] for e in report["errors"])
    assert files == ["frames/text.jpg"]
    statuses = {fr["path"]: fr["status"] for f in report["findings"] for fr in f["frames"]}
    assert statuses == {"frames/missing.jpg": "missing", "frames/text.jpg": "unreadable"}


def test_exit_1_with_findings_on_real_background(tmp_path: Path, audit_json: AuditJson) -> None:
    bundle = make_bundle(
        tmp_path / "b",
        {
            "logs/p.jsonl": police_line(),
            "logs/bg.json": (REALDATA / sorted(REAL_COUNTS)[0]).read_text(),
        },
        principals=POLICE_PRINCIPALS,
    )
    code, report = audit_json(bundle, "--policy", AMAZON)
    assert code == 1 and len(report["findings"]) == 1


def test_bad_principals_file_exits_2_with_location(tmp_path: Path, cli: Callable[..., Any]) -> None:
    bundle = make_bundle(
        tmp_path / "b",
        {"logs/p.jsonl": police_line()},
        principals='[[principal]]\nname = "x"\norganisation = "o"\ncategory = "cops"\n',
    )
    result = cli("audit", bundle, "--no-store")
    assert result.exit_code == 2
    assert "principals.toml:4" in result.stderr and "unknown category 'cops'" in result.stderr


def test_bad_audit_toml_exits_2(tmp_path: Path, cli: Callable[..., Any]) -> None:
    bundle = make_bundle(
        tmp_path / "b", {"logs/p.jsonl": police_line()}, audit_toml="timezone = 'Nowhere/x'\n"
    )
    result = cli("audit", bundle, "--no-store")
    assert result.exit_code == 2 and "audit.toml:1: timezone: unknown timezone" in result.stderr


def test_bad_pack_exits_2_with_file_line_field(tmp_path: Path, cli: Callable[..., Any]) -> None:
    pack = (ROOT / "seeds" / f"{AMAZON}.toml").read_text()
    broken = pack.replace('severity = "high"', 'severity = "severe"')
    lineno = broken.splitlines().index('severity = "severe"') + 1
    (tmp_path / "p.toml").write_text(broken)
    bundle = make_bundle(tmp_path / "b", {"logs/p.jsonl": police_line()})
    result = cli("audit", bundle, "--policy", tmp_path / "p.toml", "--no-store")
    assert result.exit_code == 2
    assert f"p.toml:{lineno}: rules[0].severity: unknown severity 'severe'" in result.stderr
    lint = cli("policy", "lint", tmp_path / "p.toml")
    assert lint.exit_code == 2 and f"p.toml:{lineno}" in lint.output


@pytest.mark.parametrize(
    "args",
    [
        ("--policy", "no-such-pack"),
        ("--fail-on", "sometimes"),
        ("--format", "pdf"),
        ("--no-frames", "--all-frames"),
    ],
)
def test_usage_errors_exit_2(
    demo_bundle: Path, cli: Callable[..., Any], args: tuple[str, ...]
) -> None:
    assert cli("audit", demo_bundle, "--no-store", *args).exit_code == 2


def test_missing_bundle_exits_2(tmp_path: Path, cli: Callable[..., Any]) -> None:
    result = cli("audit", tmp_path / "nope", "--no-store")
    assert result.exit_code == 2 and "bundle not found" in result.stderr


def test_runs_are_stored_and_listed(
    demo_bundle: Path, cli: Callable[..., Any], db_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "r.json"
    assert (
        cli(
            "audit",
            demo_bundle,
            "--no-frames",
            "--policy",
            AMAZON,
            "--db",
            db_url,
            "-f",
            "json",
            "-o",
            out,
        ).exit_code
        == 1
    )
    listed = cli("runs", "--db", db_url, "--json")
    (row,) = [json.loads(x) for x in listed.output.splitlines()]
    report = json.loads(out.read_text())
    assert row["id"] == report["run"]["id"] and row["findings"] == 7 and row["exit_code"] == 1
    again = cli("report", row["id"][:8], "--db", db_url, "-f", "json")
    assert json.loads(again.stdout) == report
    import sqlite3

    con = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    assert con.execute("select count(*) from findings").fetchone()[0] == 7
    assert con.execute("select count(*) from inputs where kind='log'").fetchone()[0] == 7
    assert con.execute("pragma journal_mode").fetchone()[0] == "wal"


def test_db_from_environment(
    demo_bundle: Path, cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("AUDITOR_DB", url)
    cli("audit", demo_bundle, "--no-frames", "-f", "json", "-o", tmp_path / "x.json")
    assert (tmp_path / "env.db").exists()
    assert "exit 1" in cli("runs").output


def test_table_output_and_policy_commands(demo_bundle: Path, cli: Callable[..., Any]) -> None:
    result = cli("audit", demo_bundle, "--no-frames", "--no-store", "--policy", AMAZON)
    assert result.exit_code == 1
    assert "Harbor County Sheriff's Office (police)" in result.stdout
    assert "MatchFaceTemplate looks like face matching" in result.stdout
    assert AMAZON in cli("policy", "list").output
    shown = cli("policy", "show", AMAZON).output
    assert "Marinus Analytics" in shown and "missing_person" in shown and "2020-06-10" in shown


def test_python_m_auditor_subprocess_exit_codes(demo_bundle: Path, tmp_path: Path) -> None:
    env = {**os.environ, "AUDITOR_DB": f"sqlite:///{tmp_path / 's.db'}"}
    run = [
        sys.executable,
        "-m",
        "auditor",
        "audit",
        str(demo_bundle),
        "--no-frames",
        "--policy",
        AMAZON,
    ]
    found = subprocess.run(run, capture_output=True, text=True, env=env, timeout=120)
    assert found.returncode == 1 and "AMZ-REK-001" in found.stdout
    assert "\x1b[" not in found.stdout  # no colour or progress bar when not on a terminal
    clean = subprocess.run(
        run + ["--fail-on", "never"], capture_output=True, text=True, env=env, timeout=120
    )
    assert clean.returncode == 0
    bad = subprocess.run(
        [sys.executable, "-m", "auditor", "audit", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
