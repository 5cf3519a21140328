"""What a face result depends on: the build, the model files and the result-changing parameters.

The face cache keys on `fingerprint`, the report's `face_engine` shows `build_info`, and Dask
workers are compared with the client by it, so all three read one definition here.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from auditor.faces.detectors import detector_build
from auditor.faces.hogfile import detector_hash
from auditor.faces.kernels import kernel_build
from auditor.faces.modelfiles import model_hashes
from auditor.faces.params import FaceParams

#: Bump when the engine changes what it computes (decoding, trimming, landmark or descriptor calls).
#: The descriptor kernel is keyed separately (`result_params`, `build_info`).
PIPELINE_VERSION = 1


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
    import simplejpeg

    info: dict[str, object] = {
        "dlib": str(dlib.__version__),
        "pillow": str(PIL.__version__),
        "simplejpeg": str(simplejpeg.__version__),
    }
    info.update(_dlib_flags())
    info.update({f"sha256:{key}": value for key, value in model_hashes().items()})
    # the saved copy of dlib's HOG detector that the engine loads (hogfile.py)
    info["sha256:hog_detector"] = detector_hash()
    return tuple(info.items())


def build_info(kernel: str = "dlib", detector: str = "hog") -> dict[str, object]:
    """dlib version and build flags (BLAS, CUDA, AVX...), Pillow version and model file hashes,
    plus what the descriptor kernel runs on (the onnxruntime version and provider) and, for
    the cnn detector, the hashes of its model, parse and graph (nothing more for hog).

    Pillow and simplejpeg are included because they decode the frames (simplejpeg the YCbCr
    and grey JPEGs, `decode._jpeg_pixels`): a different libjpeg can change pixels.
    """
    return {**dict(_build_info()), **kernel_build(kernel), **detector_build(detector)}


def result_params(params: FaceParams) -> dict[str, object]:
    """The parameters that change what the engine returns (not workers, not chunk size)."""
    return {
        "detector": params.detector,
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
        "build": build_info(params.kernel, params.detector),
        "params": result_params(params),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
