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
import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.errors import AuditorError

if TYPE_CHECKING:
    from auditor.faces.engine import FaceParams

#: Bump when the engine changes what it computes (decoding, trimming, landmark or descriptor calls).
#: The descriptor kernel is keyed separately (`result_params`, `build_info`).
PIPELINE_VERSION = 1

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
def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_hashes() -> dict[str, str]:
    """sha256 of each model file used (hashed once per process)."""
    return {key: _sha256_file(path) for key, path in model_paths().items()}


def _dlib_flags() -> dict[str, object]:
    import dlib

    # Names differ between dlib releases (20.0 has USE_AVX_INSTRUCTIONS, no DLIB_HAVE_*), so
    # record every upper-case build flag dlib exposes instead of a fixed list.
    flags: dict[str, object] = {}
    for name in sorted(dir(dlib)):
        if name.isupper() and (name.startswith(("DLIB_", "USE_"))):
            value = getattr(dlib, name)
            if isinstance(value, bool | int | str):
                flags[name] = value
    return flags


@lru_cache(maxsize=1)
def _build_info() -> tuple[tuple[str, object], ...]:
    import dlib
    import PIL

    info: dict[str, object] = {"dlib": str(dlib.__version__), "pillow": str(PIL.__version__)}
    info.update(_dlib_flags())
    info.update({f"sha256:{key}": value for key, value in model_hashes().items()})
    return tuple(info.items())


def build_info(kernel: str = "dlib") -> dict[str, object]:
    """dlib version and build flags (BLAS, CUDA, AVX...), Pillow version and model file hashes,
    plus what the descriptor kernel runs on (the onnxruntime version and provider).

    Pillow is included because it decodes the frames: a different libjpeg can change pixels.
    """
    from auditor.faces.kernels import kernel_build

    return {**dict(_build_info()), **kernel_build(kernel)}


def result_params(params: FaceParams) -> dict[str, object]:
    """The parameters that change what the engine returns (not workers, not chunk size)."""
    return {
        "detector": "hog",
        "landmarks": "shape_predictor_5",
        "upsample": params.upsample,
        # dlib treats num_jitters 0 and 1 alike (no jitter): same results, same fingerprint.
        "jitters": params.jitters if params.jitters > 1 else 0,
        "padding": params.padding,
        "max_pixels": params.max_pixels,
        # dlib or onnx: they agree within 1e-6 (tested), but cached results never mix.
        "kernel": params.kernel,
    }


def fingerprint(params: FaceParams) -> str:
    """sha256 over pipeline version, build info, model hashes and result-changing parameters."""
    payload = {
        "pipeline": PIPELINE_VERSION,
        "build": build_info(params.kernel),
        "params": result_params(params),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
