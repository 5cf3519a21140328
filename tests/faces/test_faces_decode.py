"""JPEGs decoded by libjpeg-turbo straight into the array (`decode._jpeg_pixels`) are the same
pixels face_recognition's `load_image_file` gives (Pillow's decode, `convert("RGB")`), on every
JPEG of the fixtures (68 real photos and frames: camera, web and dataset photos; and those of
../shared/faces when it is there, 98 more). What that path does not take (CMYK, a bomb over
Pillow's limit, a truncated file) is Pillow's, with Pillow's message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURES
from PIL import Image

from auditor.faces.decode import _jpeg_pixels, decode_bytes

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "faces"
OURS = sorted({*FIXTURES.rglob("*.jpg"), *(ROOT / "fixtures").rglob("*.jpg")})
JPEGS = OURS + sorted(SHARED.rglob("*.jpg"))


def test_there_are_real_jpegs_to_check() -> None:
    assert len(OURS) >= 60


@pytest.mark.parametrize("path", JPEGS, ids=lambda p: p.name)
def test_jpeg_pixels_equal_load_image_file(path: Path) -> None:
    data = path.read_bytes()
    fast = _jpeg_pixels(data, 1 << 30)
    with Image.open(path) as image:
        want = np.asarray(image.convert("RGB"))
        ycc = image.mode in ("RGB", "L")
    assert (fast is not None) == ycc, "YCbCr and grey JPEGs take the libjpeg-turbo path"
    got = decode_bytes(data, 1 << 30)
    assert got.dtype == np.uint8 and got.flags.writeable and np.array_equal(got, want)


def test_what_the_fast_path_leaves_to_pillow(tmp_path: Path) -> None:
    data = (FIXTURES / "obama_small.jpg").read_bytes()
    assert _jpeg_pixels(data[: len(data) // 2], 1 << 30) is None  # truncated: Pillow says so
    buf = tmp_path / "cmyk.jpg"
    Image.open(FIXTURES / "obama_small.jpg").convert("CMYK").save(buf)
    assert _jpeg_pixels(buf.read_bytes(), 1 << 30) is None  # Pillow's own CMYK conversion
    assert _jpeg_pixels(b"\x89PNG\r\n", 1 << 30) is None
