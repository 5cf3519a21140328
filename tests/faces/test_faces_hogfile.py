"""The saved copy of dlib's HOG detector (hogfile.py) is dlib's built-in detector.

Real dlib on every fixture photo: the detector read back from the cache file gives the same
boxes and the same scores as `dlib.get_frontal_face_detector()` at upsample 0 and 1; a cache
file that does not match its record is rebuilt, and build_info names the file that ran.
"""

from __future__ import annotations

from pathlib import Path

import dlib
import numpy as np
import pytest
from conftest import PHOTOS
from PIL import Image

from auditor.faces import hogfile
from auditor.faces.derived import sha256_bytes


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_saved_detector_finds_what_dlibs_own_finds(cache: Path) -> None:
    built, digest = hogfile.load_detector()  # first use: built and kept
    saved_file = hogfile._hog_file()
    assert saved_file.is_file() and sha256_bytes(saved_file.read_bytes()) == digest
    saved, again = hogfile.load_detector()  # now read back from the file
    assert again == digest
    reference = dlib.get_frontal_face_detector()
    found = 0
    for path in PHOTOS:
        img = np.array(Image.open(path).convert("RGB"))
        for upsample in (0, 1):
            want = reference.run(img, upsample)
            got = saved.run(img, upsample)
            assert [str(r) for r in got[0]] == [str(r) for r in want[0]], path.name
            assert got[1] == want[1] and got[2] == want[2], path.name
            found += len(want[0])
    assert found >= 10  # the photos do have faces


def test_a_tampered_file_is_rebuilt(cache: Path) -> None:
    _, digest = hogfile.load_detector()
    saved_file = hogfile._hog_file()
    saved_file.write_bytes(b"not a detector")
    detector, again = hogfile.load_detector()
    assert again == digest
    assert sha256_bytes(saved_file.read_bytes()) == digest
    img = np.array(Image.open(PHOTOS[0]).convert("RGB"))
    assert len(detector(img, 1)) == len(dlib.get_frontal_face_detector()(img, 1))


def test_build_info_names_the_detector_file(cache: Path) -> None:
    from auditor.faces.fingerprint import _build_info, build_info

    _build_info.cache_clear()
    try:
        info = build_info("dlib")
        assert info["sha256:hog_detector"] == sha256_bytes(hogfile._hog_file().read_bytes())
    finally:
        _build_info.cache_clear()
