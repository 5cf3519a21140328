"""Evidence cannot be changed through the model cache (parsed weights and ONNX graph).

Each case runs the real command line in a fresh process (`python -m auditor audit ...`) with its
own cache folder, so nothing loaded by an earlier test hides what the cache holds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from auditor.faces import dlibnet
from auditor.faces.modelfiles import model_paths
from auditor.faces.onnx_kernel import build_model
from tests.conftest import DEMO

ROOT = Path(__file__).resolve().parents[2]


def _audit(cache: Path, out: Path) -> tuple[int, dict[str, Any], str]:
    env = {**os.environ, "AUDITOR_CACHE_DIR": str(cache)}
    run = [sys.executable, "-m", "auditor", "audit", str(DEMO), "--format", "json"]
    run += ["--output", str(out), "--no-cache", "--workers", "1"]
    done = subprocess.run(run, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    report = json.loads(out.read_text()) if out.exists() else {}
    return done.returncode, report, done.stderr


def _evidence(report: dict[str, Any]) -> list[Any]:
    return [(f["id"], f.get("frames"), f.get("probes")) for f in report["findings"]]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, dict[str, Any]]:
    """A clean run: it fills its cache folder (weights, graph and their SHA-256 records)."""
    cache = tmp_path_factory.mktemp("clean-cache")
    code, report, err = _audit(cache, cache / "report.json")
    assert report, err
    return cache / "dlibnet", code, report


def _fresh_cache(clean_dir: Path, tmp_path: Path) -> Path:
    cache = tmp_path / "cache"
    (cache / "dlibnet").mkdir(parents=True)
    for item in clean_dir.iterdir():
        if ".tmp" not in item.name:
            (cache / "dlibnet" / item.name).write_bytes(item.read_bytes())
    return cache


def _other_graph() -> bytes:
    """A valid graph of the same network with one weight changed: other descriptors."""
    net = dlibnet.load(model_paths()["resnet"])
    net.layers[0].arrays["weights"] = net.layers[0].arrays["weights"] * np.float32(1.5)
    data: bytes = build_model(net).SerializeToString()
    return data


def test_engine_names_the_derived_files_that_ran(clean: tuple[Path, int, dict[str, Any]]) -> None:
    folder, _, report = clean
    build = report["face_engine"]["build"]
    [graph] = folder.glob("*.onnx")
    [weights] = folder.glob("*.npz")
    import hashlib

    assert build["sha256:resnet_graph"] == hashlib.sha256(graph.read_bytes()).hexdigest()
    assert build["sha256:resnet_weights"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert (folder / (graph.name + ".sha256")).read_text() == build["sha256:resnet_graph"]


def test_a_planted_graph_is_rebuilt_and_changes_nothing(
    clean: tuple[Path, int, dict[str, Any]], tmp_path: Path
) -> None:
    """A valid ONNX graph placed in the cache (its record left alone): a hash mismatch, so a
    cache miss; the graph is rebuilt and the report equals the clean one."""
    folder, code, report = clean
    cache = _fresh_cache(folder, tmp_path)
    [graph] = (cache / "dlibnet").glob("*.onnx")
    planted = _other_graph()
    graph.write_bytes(planted)
    again_code, again, err = _audit(cache, tmp_path / "report.json")
    assert again_code == code, err
    assert again["face_engine"] == report["face_engine"]
    assert _evidence(again) == _evidence(report)
    assert graph.read_bytes() != planted  # replaced by the rebuilt graph


def test_a_graph_planted_with_its_record_shows_in_face_engine(
    clean: tuple[Path, int, dict[str, Any]], tmp_path: Path
) -> None:
    """Graph and record both replaced: it runs, and face_engine names what ran (the planted
    graph's hash, so another fingerprint): the change cannot pass as the original engine."""
    import hashlib

    folder, _, report = clean
    cache = _fresh_cache(folder, tmp_path)
    [graph] = (cache / "dlibnet").glob("*.onnx")
    planted = _other_graph()
    graph.write_bytes(planted)
    (cache / "dlibnet" / (graph.name + ".sha256")).write_text(hashlib.sha256(planted).hexdigest())
    _, again, err = _audit(cache, tmp_path / "report.json")
    assert again, err
    engine = again["face_engine"]
    assert engine["build"]["sha256:resnet_graph"] == hashlib.sha256(planted).hexdigest()
    assert (
        engine["build"]["sha256:resnet_graph"]
        != report["face_engine"]["build"]["sha256:resnet_graph"]
    )
    assert engine["fingerprint"] != report["face_engine"]["fingerprint"]


@pytest.mark.parametrize("damage", ["truncated npz", "truncated npz and graph", "garbage record"])
def test_a_damaged_cache_is_a_miss_not_an_internal_error(
    clean: tuple[Path, int, dict[str, Any]], tmp_path: Path, damage: str
) -> None:
    folder, code, report = clean
    cache = _fresh_cache(folder, tmp_path)
    [weights] = (cache / "dlibnet").glob("*.npz")
    [graph] = (cache / "dlibnet").glob("*.onnx")
    if damage.startswith("truncated npz"):
        weights.write_bytes(weights.read_bytes()[:1000])
    if damage.endswith("graph"):
        graph.write_bytes(graph.read_bytes()[:5000])
    if damage == "garbage record":
        (cache / "dlibnet" / (weights.name + ".sha256")).write_bytes(b"\xff\xfe")
    again_code, again, err = _audit(cache, tmp_path / "report.json")
    assert "internal error" not in err and "BadZipFile" not in err
    assert again_code == code, err
    assert again["face_engine"] == report["face_engine"]
    assert _evidence(again) == _evidence(report)
    assert weights.stat().st_size > 1_000_000  # rebuilt and replaced
