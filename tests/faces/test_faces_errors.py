"""Unreadable inputs come back as results with a message; nothing is raised out of analyse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageFile

from auditor.faces.decode import decode_file
from auditor.faces.engine import ImageJob, ImageResult, analyse
from auditor.faces.params import FaceParams

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "faces"
PARAMS = FaceParams(workers=1)


def run_one(path: Path, params: FaceParams = PARAMS) -> ImageResult:
    [result] = analyse([ImageJob(str(path), path.name)], params)
    return result


def test_missing_file(tmp_path: Path) -> None:
    result = run_one(tmp_path / "nope.jpg")
    assert result.error == "file not found"
    assert (result.faces, result.sha256, result.width) == ((), "", 0)
    assert result.path == "nope.jpg"  # the display name, never the absolute path


def test_directory(tmp_path: Path) -> None:
    assert "directory" in (run_one(tmp_path).error or "")


def test_text_file_named_jpg(tmp_path: Path) -> None:
    fake = tmp_path / "notes.jpg"
    fake.write_text("not a picture\n")
    result = run_one(fake)
    assert result.error is not None and "not an image" in result.error
    assert result.sha256  # the bytes were read, so they are hashed


def test_truncated_jpeg_even_after_face_recognition_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = (FIXTURES / "two_people.jpg").read_bytes()
    half = tmp_path / "half.jpg"
    half.write_bytes(data[: len(data) // 2])
    # `import face_recognition` turns this on for the whole process; the engine must not care.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    result = run_one(half)
    assert result.error is not None and "truncated" in result.error
    assert result.faces == ()
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # restored


def test_over_the_pixel_limit_is_refused_before_decoding() -> None:
    result = run_one(FIXTURES / "obama_small.jpg", FaceParams(workers=1, max_pixels=320 * 240 - 1))
    assert result.error is not None
    assert "320x240" in result.error and "over the limit" in result.error
    assert run_one(FIXTURES / "obama_small.jpg", FaceParams(workers=1, max_pixels=320 * 240)).faces


def test_pil_decompression_bomb_becomes_the_same_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)  # warning above, error above 2x
    result = run_one(FIXTURES / "obama_small.jpg")
    assert result.error is not None and "too many pixels" in result.error


def test_rgba_png_decodes(by_name: dict[str, ImageResult]) -> None:
    result = by_name["32bit.png"]
    assert result.error is None
    assert (result.width, result.height, len(result.faces)) == (626, 1200, 1)


@pytest.mark.parametrize("mode", ["RGBA", "P", "L", "LA", "I;16", "CMYK"])
def test_pixels_equal_load_image_file(mode: str, tmp_path: Path, face_recognition_api: Any) -> None:
    source = Image.open(FIXTURES / "obama_small.jpg")
    converted = source.convert(mode) if mode != "I;16" else source.convert("I").convert("I;16")
    path = tmp_path / ("frame.jpg" if mode == "CMYK" else "frame.png")
    converted.save(path)
    decoded = decode_file(str(path), 1_000_000)
    assert decoded.error is None and decoded.pixels is not None
    expected = face_recognition_api.load_image_file(str(path))
    assert decoded.pixels.dtype == np.uint8 and decoded.pixels.shape == expected.shape
    assert np.array_equal(decoded.pixels, expected)


def test_errors_keep_their_place_among_good_frames(tmp_path: Path) -> None:
    good = FIXTURES / "obama_small.jpg"
    jobs = [
        ImageJob(str(good), "a"),
        ImageJob(str(tmp_path / "missing.jpg"), "b"),
        ImageJob(str(good), "c"),
    ]
    results = list(analyse(jobs, PARAMS))
    assert [r.path for r in results] == ["a", "b", "c"]
    assert [len(r.faces) for r in results] == [1, 0, 1]
    assert results[1].error == "file not found"
    assert results[0].faces == results[2].faces


def test_a_chunk_of_only_errors(tmp_path: Path) -> None:
    jobs = [ImageJob(str(tmp_path / f"{i}.jpg"), str(i)) for i in range(3)]
    assert [r.error for r in analyse(jobs, PARAMS)] == ["file not found"] * 3
