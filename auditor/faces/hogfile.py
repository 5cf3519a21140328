"""dlib's frontal face (HOG) detector, loaded from a saved copy instead of rebuilt every time.

Why: `dlib.get_frontal_face_detector()` rebuilds the detector from a string compiled into dlib
(decompressing it and deserializing the filters) on every call: measured ~1 s of an idle core
per process, and the engine needs one per process and one per thread. The same detector
`save`d to a file and read back with `dlib.fhog_object_detector(path)` takes ~0.05 s and is
the same object: the same boxes and scores (tested on every fixture photo).

The saved file is derived data in the user's cache folder, so it is treated like the ONNX graph
(`derived.py`): kept with its SHA-256 record, checked on every load (a mismatch rebuilds it), and
its SHA-256 goes into `build_info`, so the report names the detector that actually ran. It is
named after the dlib version, so another dlib build never reads it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from auditor.faces.derived import checked_hash, write_checked
from auditor.faces.dlibnet import cache_dir


def _hog_file() -> Path:
    import dlib

    return cache_dir() / "hog" / f"frontal_face_detector-dlib{dlib.__version__}.svm"


def _build() -> tuple[Any, str]:
    """dlib's built-in detector, and the SHA-256 of its saved form (kept when possible)."""
    import dlib

    detector = dlib.get_frontal_face_detector()
    with tempfile.TemporaryDirectory() as scratch:
        saved = os.path.join(scratch, "detector.svm")
        detector.save(saved)
        data = Path(saved).read_bytes()
    return detector, write_checked(_hog_file(), data)


def load_detector() -> tuple[Any, str]:
    """(a frontal face detector, the SHA-256 of its saved form)."""
    import dlib

    path = _hog_file()
    digest = checked_hash(path)
    if digest is not None:
        try:
            return dlib.fhog_object_detector(str(path)), digest
        except RuntimeError:  # a file dlib cannot read although its record matches: rebuild
            pass
    return _build()


def detector_file() -> Path:
    """The saved detector file, checked against its SHA-256 record (built and kept first when
    it is missing or does not match): the strip scan (`hogtiles`) reads its fields from it."""
    if checked_hash(_hog_file()) is None:
        _build()
    return _hog_file()


def detector_hash() -> str:
    """SHA-256 of the saved detector (building and keeping it on first use)."""
    digest = checked_hash(_hog_file())
    return digest if digest is not None else _build()[1]
