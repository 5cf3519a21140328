"""`auditor faces`, the face cache through the CLI, and privacy of reports."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import DEMO

AuditJson = Callable[..., tuple[int, dict[str, Any]]]


def test_faces_command_counts_boxes_and_timings(cli: Callable[..., Any], db_url: str) -> None:
    result = cli("faces", DEMO / "frames" / "metro-pd", "--json", "--db", db_url)
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [(Path(r["path"]).name, r["faces"]) for r in rows] == [
        ("f0001.jpg", 3),
        ("f0002.jpg", 1),
        ("f0003.jpg", 1),
        ("f0004.jpg", 2),
        ("f0005.jpg", 0),
    ]
    assert all(len(b) == 4 for r in rows for b in r["boxes"])
    assert set(rows[0]["timings"]) == {"decode", "detect", "landmarks", "descriptors"}
    assert not rows[0]["cached"]
    again = json.loads(cli("faces", DEMO / "frames" / "metro-pd", "--json", "--db", db_url).stdout)
    assert all(r["cached"] for r in again)
    assert [r["boxes"] for r in again] == [r["boxes"] for r in rows]
    assert "descriptor" not in result.stdout.replace('"descriptors"', "")


def test_faces_text_output_and_errors(cli: Callable[..., Any], tmp_path: Path) -> None:
    (tmp_path / "bad.jpg").write_text("not an image")
    shutil.copyfile(DEMO / "frames/thorn/f0007.jpg", tmp_path / "ok.jpg")
    result = cli("faces", tmp_path, "--no-cache")
    assert result.exit_code == 3
    assert "ok.jpg: 1 face(s)" in result.stdout
    assert "bad.jpg: ERROR" in result.stdout
    # a path that does not exist is a usage error, before any model is loaded
    result = cli("faces", tmp_path, tmp_path / "missing.png", "--no-cache")
    assert result.exit_code == 2
    assert "missing.png: not found" in result.stderr and result.stdout == ""


def test_warm_audit_comes_from_cache_and_purge_empties_it(
    demo_bundle: Path, audit_json: AuditJson, cli: Callable[..., Any], db_url: str
) -> None:
    _, cold = audit_json(demo_bundle, "--policy", "amazon-rekognition-police-2020")
    _, warm = audit_json(demo_bundle, "--policy", "amazon-rekognition-police-2020")
    assert (cold["run"]["frames_from_cache"], cold["run"]["frames_computed"]) == (0, 8)
    assert (warm["run"]["frames_from_cache"], warm["run"]["frames_computed"]) == (8, 0)
    cold.pop("run")
    warm.pop("run")
    assert cold == warm
    engine = cold["face_engine"]
    assert engine["build"]["dlib"] and "sha256:resnet" in engine["build"]
    assert engine["params"]["upsample"] == 1
    # upsample is part of the fingerprint: a changed parameter recomputes
    _, other = audit_json(
        demo_bundle, "--policy", "amazon-rekognition-police-2020", "--upsample", "2"
    )
    assert other["run"]["frames_computed"] == 8
    con = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    assert con.execute("select count(distinct fingerprint) from face_cache").fetchone()[0] == 2
    rows = con.execute("select count(*) from face_cache").fetchone()[0]
    assert rows >= 16  # 8 frames at each of two fingerprints
    con.close()
    purged = cli("cache", "purge", "--db", db_url)
    assert purged.exit_code == 0 and f"purged cached faces of {rows} image(s)" in purged.stdout
    con = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    assert con.execute("select count(*) from face_cache").fetchone()[0] == 0


def test_no_cache_keeps_nothing(demo_bundle: Path, audit_json: AuditJson, db_url: str) -> None:
    _, report = audit_json(demo_bundle, "--policy", "amazon-rekognition-police-2020", "--no-cache")
    assert report["summary"]["faces_detected"] == 11
    con = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    assert con.execute("select count(*) from face_cache").fetchone()[0] == 0


def test_all_frames_analyses_unreferenced_frames(demo_bundle: Path, audit_json: AuditJson) -> None:
    shutil.copyfile(DEMO / "frames/thorn/f0007.jpg", demo_bundle / "frames/extra.jpg")
    _, referenced = audit_json(demo_bundle, "--policy", "amazon-rekognition-police-2020")
    _, every = audit_json(demo_bundle, "--policy", "amazon-rekognition-police-2020", "--all-frames")
    assert referenced["summary"]["frames_analysed"] == 8
    assert every["summary"]["frames_analysed"] == 9


def test_probe_with_two_faces_is_an_input_error(demo_bundle: Path, audit_json: AuditJson) -> None:
    shutil.copyfile(DEMO / "frames/shopco/f0008.jpg", demo_bundle / "probes/rose-leslie/group.jpg")
    code, report = audit_json(demo_bundle, "--policy", "amazon-rekognition-police-2020")
    assert code == 3
    (error,) = report["errors"]
    assert (
        error["file"] == "probes/rose-leslie/group.jpg"
        and "exactly one face, found 2" in error["message"]
    )
    # the probe's other photo still works
    assert any(p["name"] == "rose-leslie" and p["event_ids"] for p in report["probes"])


def test_probe_of_someone_in_no_frame_is_a_miss(demo_bundle: Path, audit_json: AuditJson) -> None:
    simm = sorted((Path(__file__).parents[2] / "fixtures/faces/johns/John_Simm").glob("*.jpg"))[0]
    (demo_bundle / "probes/john-simm").mkdir()
    shutil.copyfile(simm, demo_bundle / "probes/john-simm/1.jpg")
    code, report = audit_json(demo_bundle, "--policy", "amazon-rekognition-police-2020")
    assert code == 1 and report["errors"] == []
    probes = {p["name"]: p["event_ids"] for p in report["probes"]}
    assert probes["john-simm"] == []
    assert probes["alex-lacamoire"] == ["east-0001", "gw-0001"]
    assert all(p["name"] != "john-simm" for f in report["findings"] for p in f["probes"])
    inputs = {i["path"]: i for i in report["inputs"]}
    assert inputs["probes/john-simm/1.jpg"]["kind"] == "probe"


def test_stricter_probe_tolerance_drops_a_distant_match(
    demo_bundle: Path, audit_json: AuditJson
) -> None:
    # rose-leslie matches at 0.475 in the demo: a 0.4 tolerance must not report her
    _, report = audit_json(
        demo_bundle, "--policy", "amazon-rekognition-police-2020", "--probe-tolerance", "0.4"
    )
    probes = {p["name"]: p["event_ids"] for p in report["probes"]}
    assert probes["rose-leslie"] == [] and probes["alex-lacamoire"] == ["east-0001", "gw-0001"]


def test_kernels_agree_on_the_demo_and_never_share_cache_rows(
    demo_bundle: Path, audit_json: AuditJson, cli: Callable[..., Any], db_url: str
) -> None:
    """`--kernel dlib` and the default onnx kernel: same people counts and probe hits on the
    demo, the kernel named in face_engine, and a fingerprint (so cache rows) of its own."""
    code_onnx, onnx = audit_json(demo_bundle)
    code_dlib, dlib = audit_json(demo_bundle, "--kernel", "dlib")
    assert code_onnx == code_dlib
    assert onnx["face_engine"]["params"]["kernel"] == "onnx"
    assert onnx["face_engine"]["build"]["onnxruntime"]
    assert dlib["face_engine"]["params"]["kernel"] == "dlib"
    assert "onnxruntime" not in dlib["face_engine"]["build"]
    assert dlib["run"]["frames_computed"] == onnx["run"]["frames_computed"] > 0
    for report in (onnx, dlib):
        report.pop("run")
        report.pop("face_engine")
    assert onnx == dlib  # findings, people counts, probe hits: everything but the engine
    con = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    assert con.execute("select count(distinct fingerprint) from face_cache").fetchone()[0] == 2
    con.close()
    bad = cli("faces", DEMO / "frames", "--kernel", "numpy", "--no-cache")
    said = " ".join(bad.stderr.replace("│", " ").split())
    assert bad.exit_code == 2 and "'numpy' is not one of 'onnx', 'dlib'" in said


def test_verify_reruns_with_the_reports_kernel(
    demo_bundle: Path, audit_json: AuditJson, cli: Callable[..., Any], tmp_path: Path
) -> None:
    """A report made with `--kernel dlib` is re-run with dlib's kernel (the face engine then
    matches exactly); a report from before kernels existed was made with dlib's."""
    from auditor.evidence_pack.verify import rerun_options

    _, report = audit_json(demo_bundle, "--kernel", "dlib")
    saved = tmp_path / "dlib-report.json"
    saved.write_text(json.dumps(report))
    res = cli("verify", saved, demo_bundle, "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["reproduced"] is True
    assert "face engine" not in {p["topic"] for p in doc["points"]}
    engine = report["face_engine"]
    assert rerun_options(report, 1, None).face_kernel == "dlib"
    del engine["params"]["kernel"]
    assert rerun_options(report, 1, None).face_kernel == "dlib"
    engine["params"]["kernel"] = "onnx"
    assert rerun_options(report, 1, None).face_kernel == "onnx"
