"""Model files are found without importing face_recognition_models; fingerprints key results."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from auditor.faces.fingerprint import build_info, fingerprint
from auditor.faces.modelfiles import model_paths
from auditor.faces.params import FaceParams

ROOT = Path(__file__).resolve().parents[2]


def test_only_the_two_models_we_use() -> None:
    paths = model_paths()
    assert set(paths) == {"shape_predictor_5", "resnet"}
    assert all(path.is_file() for path in paths.values())
    assert not any("68" in path.name or "mmod" in path.name for path in paths.values())


def test_build_info() -> None:
    info = build_info()
    assert isinstance(info["dlib"], str) and info["dlib"]
    assert isinstance(info["DLIB_USE_BLAS"], bool) and isinstance(info["DLIB_USE_CUDA"], bool)
    for key in ("sha256:shape_predictor_5", "sha256:resnet"):
        digest = info[key]
        assert isinstance(digest, str) and len(digest) == 64


def test_fingerprint_follows_result_changing_parameters_only() -> None:
    base = FaceParams(workers=1)
    assert fingerprint(base) == fingerprint(replace(base, workers=2, chunk=3))
    assert fingerprint(base) != fingerprint(replace(base, upsample=0))
    assert fingerprint(base) != fingerprint(replace(base, max_pixels=1000))
    assert fingerprint(base) != fingerprint(replace(base, padding=0.3))
    assert fingerprint(base) == fingerprint(replace(base, jitters=1))  # dlib: 0 and 1 alike
    assert len(fingerprint(base)) == 64


def test_engine_never_imports_face_recognition_models() -> None:
    code = (
        "import sys\n"
        "from auditor.faces import FaceParams, ImageJob, analyse, fingerprint\n"
        f"job = ImageJob({str(ROOT / 'fixtures/faces/obama_small.jpg')!r}, 'x')\n"
        "[r] = analyse([job], FaceParams(workers=1))\n"
        "fingerprint(FaceParams())\n"
        "bad = [m for m in ('face_recognition_models', 'face_recognition', 'pkg_resources')"
        " if m in sys.modules]\n"
        "print(len(r.faces), bad)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == "1 []"
