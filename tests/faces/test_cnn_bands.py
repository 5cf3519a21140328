"""The MMOD network run band by band (`cnn_bands`) gives the score map of the whole pyramid,
bit for bit, on real photos, with bands small enough that every pyramid is cut many times; and
the band arithmetic holds on its own (every output row exact, from one band)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PIL import Image

from auditor.faces.cnn_bands import banded_scores, exact_rows, out_size
from auditor.faces.cnn_detector import MIN_BAND_ROWS, CnnDetector, band_rows
from tests.faces.conftest import FIXTURES

PHOTOS = ["obama_small.jpg", "two_people.jpg", "2008_002470.jpg"]


@pytest.fixture(scope="module")
def detector() -> CnnDetector:
    return CnnDetector()


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize("rows", [MIN_BAND_ROWS, 512])
def test_bands_give_the_whole_score_map(detector: CnnDetector, name: str, rows: int) -> None:
    img = np.asarray(Image.open(FIXTURES / name).convert("RGB"))
    pyramid, _ = detector._prepare(img, 1)
    batch = pyramid[None]
    calls: list[int] = []

    def run(x: Any) -> Any:
        calls.append(x.shape[2])
        return detector._run(x)

    whole = detector._run(batch)
    banded = banded_scores(run, batch, detector.convs, rows)
    assert len(calls) >= 3 and max(calls) <= rows, calls  # really cut into bands
    assert banded.shape == whole.shape and np.array_equal(banded, whole)


def test_band_arithmetic_covers_every_output_row_once(detector: CnnDetector) -> None:
    convs = detector.convs
    assert [c[1] for c in convs] == [2, 2, 2, 1, 1, 1, 1]  # dlib's human face detector
    for total in (400, 1001, 3506, 7814):
        want = out_size(convs, total)
        assert exact_rows(convs, total, 0, total) == (0, want, 0)  # the whole pyramid
        if total > 64 + MIN_BAND_ROWS:
            lo, hi, first = exact_rows(convs, total, 64, 64 + MIN_BAND_ROWS)
            assert first == 8 and lo > first and hi < want  # an interior band loses its edges
    with pytest.raises(ValueError, match="stride grid"):
        exact_rows(convs, 1000, 4, 400)
    with pytest.raises(ValueError, match="too small"):
        banded_scores(lambda x: x, np.zeros((1, 3, 1000, 8), np.float32), convs, 96)


def test_band_rows_follow_the_width() -> None:
    assert band_rows(3864) == 512 and band_rows(100_000) == MIN_BAND_ROWS
    assert all(band_rows(w) % 8 == 0 for w in (1304, 3864, 7700))
