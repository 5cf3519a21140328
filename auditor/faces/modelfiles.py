"""Where the dlib model files are, which dlib build runs them, and a fingerprint of both.

Why this module exists:

* `face_recognition_models` is only a carrier of `.dat` files, but importing it imports
  `pkg_resources` (gone from setuptools 81 and absent from new Python 3.12+ venvs). We locate the
  package directory with `importlib.util.find_spec`, which does not execute the package.
* Only two files are used: the 5-point landmark model and the ResNet descriptor model. HOG is built
  into dlib. The 68-point model (non-commercial iBUG 300-W licence, 100 MB) is never loaded.
* Cached frame results are only valid for the same models, the same dlib and Pillow builds (a
  no-BLAS wheel and an FMA build move some boxes by pixels) and the same result-changing parameters.
  `fingerprint` hashes exactly those, and deliberately not the worker count or chunk size, which
  never change results.
"""

from __future__ import annotations

import hashlib
import importlib.util
from functools import lru_cache
from pathlib import Path

from auditor.core.errors import AuditorError

_MODEL_FILES = {
    "shape_predictor_5": "shape_predictor_5_face_landmarks.dat",
    "resnet": "dlib_face_recognition_resnet_model_v1.dat",
}


class ModelFilesMissing(AuditorError, RuntimeError):
    """The `face_recognition_models` package or one of its files is not installed.

    An AuditorError, so the command line says so (exit 2) instead of reporting an internal error.
    """


@lru_cache(maxsize=1)
def model_paths() -> dict[str, Path]:
    """Paths of the two model files we load, keyed "shape_predictor_5" and "resnet"."""
    spec = importlib.util.find_spec("face_recognition_models")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise ModelFilesMissing(
            "the face_recognition_models package is not installed "
            "(pip install face-recognition-models==0.3.0)"
        )
    paths: dict[str, Path] = {}
    for key, name in _MODEL_FILES.items():
        candidates = [Path(loc) / "models" / name for loc in locations]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            raise ModelFilesMissing(f"model file {name} not found under {', '.join(locations)}")
        paths[key] = found
    return paths


@lru_cache(maxsize=8)
def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a model file, hashed once per process."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_hashes() -> dict[str, str]:
    """sha256 of each model file used (hashed once per process)."""
    return {key: sha256_file(path) for key, path in model_paths().items()}


#: dlib's CNN face detector, loaded only by `--detector cnn` (cnn_detector)
DETECTOR_FILE = "mmod_human_face_detector.dat"


@lru_cache(maxsize=1)
def detector_path() -> Path:
    """Path of `mmod_human_face_detector.dat` (shipped in face_recognition_models)."""
    folder = model_paths()["resnet"].parent
    found = folder / DETECTOR_FILE
    if not found.is_file():
        raise ModelFilesMissing(f"model file {DETECTOR_FILE} not found in {folder}")
    return found
