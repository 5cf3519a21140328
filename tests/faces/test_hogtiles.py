"""hogtiles.py finds exactly what dlib's whole-frame HOG detector finds, in bounded memory.

Real dlib on real photos: frames are built by pasting the fixture photos (and the shared face
photos when they are there), scaled up and down, onto a noisy canvas, so faces of many sizes
sit across strip seams. Small strips (200 rows) make every level several strips even on small
frames, and narrow bands (a few hundred columns) cut every wide level into column pieces and
send the narrow levels through the stored level (`bands`). Compared with
`detector.run(img, upsample)`: the same boxes in the same order, the same scores (==, not
approximately) and the same weight indices; and before suppression, with a low threshold, the
same set of every window on every level.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import dlib
import numpy as np
import pytest
from PIL import Image

from auditor.faces.hogtiles import (
    TiledHogDetector,
    one_level_variant,
    pack_double,
    parse_hog_file,
    pyramid_level_count,
    resize_rgb,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from camera_frames import build_frame  # noqa: E402 - the frame builder the benchmarks use

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "faces"
SHARED = [Path(__file__).resolve().parents[3] / "shared" / "faces"]
PHOTOS = [FIXTURES / "two_people.jpg", FIXTURES / "obama_small.jpg", FIXTURES / "2008_002470.jpg"]
_SHARED = next((base for base in SHARED if base.is_dir()), None)
PHOTOS += sorted(_SHARED.rglob("*.jpg"))[::6] if _SHARED is not None else []


def _frame(width: int, height: int, seed: int) -> np.ndarray:
    """Photos scaled by 0.5-3x pasted left to right, top to bottom on a gradient+noise canvas
    (bench/camera_frames.py, which builds the benchmark's frames the same way)."""
    return np.asarray(build_frame((width, height), seed, photos=PHOTOS))


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hog") / "frontal_face_detector.svm"
    dlib.get_frontal_face_detector().save(str(path))
    return path


def _boxes(rects: Any) -> list[tuple[int, int, int, int]]:
    return [(r.left(), r.top(), r.right(), r.bottom()) for r in rects]


# (width, height, seed, upsample): 12 frames, odd sizes included (levels not multiples of 8)
FRAMES = [(1280, 720, seed, 1) for seed in range(6)] + [
    (1001, 777, 11, 1),
    (640, 480, 12, 1),
    (1920, 1080, 13, 1),
    (1366, 768, 14, 0),
    (2000, 1125, 15, 0),
    (853, 1203, 16, 1),
]


@pytest.mark.parametrize(("width", "height", "seed", "upsample"), FRAMES)
def test_same_faces_boxes_scores_and_weights(
    saved: Path, width: int, height: int, seed: int, upsample: int
) -> None:
    img = _frame(width, height, seed)
    whole = dlib.fhog_object_detector(str(saved))
    rects, scores, indices = whole.run(img, upsample, 0.0)
    assert len(rects) > 0
    for band_cols in (None, 900):
        tiled = TiledHogDetector(saved, strip_rows=200, band_cols=band_cols)
        t_rects, t_scores, t_indices = tiled.run(img, upsample)
        assert _boxes(t_rects) == _boxes(rects), band_cols
        assert t_scores == list(scores)
        assert t_indices == list(indices)
        assert _boxes(tiled(img, upsample)) == _boxes(whole(img, upsample))


@pytest.mark.parametrize(
    ("width", "height", "seed", "strip_rows", "band_cols"),
    [
        (1280, 720, 21, 200, None),
        (1111, 999, 22, 512, None),
        (700, 1500, 23, 136, None),
        (1280, 720, 24, 512, 640),  # four bands of 512-row strips
        (1999, 1001, 25, 200, 1000),  # odd widths: pieces end off the cell grid
        (853, 1203, 26, 136, 500),  # short strips and narrow bands together
    ],
)
def test_every_window_on_every_level_before_suppression(
    saved: Path,
    tmp_path: Path,
    width: int,
    height: int,
    seed: int,
    strip_rows: int,
    band_cols: int | None,
) -> None:
    """A low threshold gives hundreds of windows; with suppression switched off in the
    whole-frame detector too, every (score, weight, box) must be there on both sides."""
    data = saved.read_bytes()
    params = parse_hog_file(data)
    lo, hi = params.overlap_span
    no_nms = tmp_path / "no_nms.svm"
    no_nms.write_bytes(data[:lo] + pack_double(1.0) + pack_double(1.0) + data[hi:])
    img = _frame(width, height, seed)
    rects, scores, indices = dlib.fhog_object_detector(str(no_nms)).run(img, 1, -1.0)
    whole = sorted(zip(scores, indices, _boxes(rects), strict=True))
    tiled = sorted(TiledHogDetector(saved, strip_rows, band_cols).detections(img, 1, -1.0))
    assert len(whole) > 50
    assert tiled == whole


def test_resize_is_byte_identical_to_dlib() -> None:
    """The numpy resize_image equals dlib's on real photos, at pyramid_up and pyramid_down<6>
    sizes and a few others."""
    for path in PHOTOS[:8]:
        with Image.open(path) as opened:
            img = np.asarray(opened.convert("RGB"))
        nr, nc = img.shape[:2]
        for out_nr, out_nc in [
            (2 * nr + 1, 2 * nc + 2),
            (5 * nr // 6, 5 * nc // 6),
            (nr // 3 + 7, nc // 2 + 3),
        ]:
            assert np.array_equal(
                resize_rgb(img, out_nr, out_nc), dlib.resize_image(img, out_nr, out_nc)
            ), (path, out_nr, out_nc)
        assert np.array_equal(dlib.pyramid_down(6)(img), resize_rgb(img, 5 * nr // 6, 5 * nc // 6))


def test_variant_file(saved: Path, tmp_path: Path) -> None:
    """The variant differs only in max_pyramid_levels and the overlap thresholds, and dlib
    reads it and writes the very same bytes back."""
    data = saved.read_bytes()
    params = parse_hog_file(data)
    assert (params.cell_size, params.window_width, params.window_height) == (8, 80, 80)
    assert params.max_pyramid_levels == 1000 and params.num_detectors == 5
    assert 0 < params.iou_thresh < 1 and 0 < params.percent_covered_thresh < 1
    variant = one_level_variant(data, params)
    path = tmp_path / "variant.svm"
    path.write_bytes(variant)
    again = tmp_path / "again.svm"
    dlib.fhog_object_detector(str(path)).save(str(again))
    assert again.read_bytes() == variant
    changed = parse_hog_file(variant)
    assert (changed.max_pyramid_levels, changed.iou_thresh, changed.percent_covered_thresh) == (
        1,
        1.0,
        1.0,
    )
    assert pyramid_level_count(2 * 720 + 1, 2 * 1280 + 2, params) > 1


def test_grayscale_goes_to_the_whole_frame_detector(saved: Path) -> None:
    img = np.ascontiguousarray(_frame(640, 480, 3)[:, :, 1])
    rects, scores, indices = dlib.fhog_object_detector(str(saved)).run(img, 1, 0.0)
    t_rects, t_scores, t_indices = TiledHogDetector(saved).run(img, 1)
    assert (_boxes(t_rects), t_scores, t_indices) == (_boxes(rects), list(scores), list(indices))


def test_band_plan_covers_every_level_once(saved: Path) -> None:
    """Narrow bands on a 1280x720 frame at upsample 1: five bands, the wide levels cut into
    pieces that meet with the window's overlap, the first narrow level stored; every band
    computes the columns its pieces scan and its next stage reads."""
    from auditor.faces.hogtiles.bands import column_overlap, plan_bands
    from auditor.faces.hogtiles.resize import source_span

    params = parse_hog_file(saved.read_bytes())
    tiled = TiledHogDetector(saved, strip_rows=512, band_cols=640)
    stages = tiled._stages(720, 1280, 1)
    bands = plan_bands(1280, stages, 1, 5, params)
    assert len(bands.passes) == 5 and bands.store == 3
    overlap = column_overlap(params)
    widths = [1280] + [plan.nc for plan in stages]
    for stage in range(1, bands.store):  # the split levels: pieces tile the level
        spans = [band.scans[stage] for band in bands.passes]
        assert all(span is not None for span in spans)
        assert spans[0][0] == 0 and spans[-1][1] == widths[stage]
        for one, nxt in zip(spans, spans[1:], strict=False):
            assert one[1] == nxt[0] + overlap and nxt[0] % params.cell_size == 0
    stored = [band.windows[bands.store] for band in bands.passes]
    assert stored[0][0] == 0 and stored[-1][1] == widths[bands.store]
    assert all(a[1] == b[0] for a, b in zip(stored, stored[1:], strict=False))
    for band in bands.passes:
        for stage in range(bands.store):
            lo, hi = band.windows[stage]
            need = source_span(stages[stage].cols, *band.windows[stage + 1])
            assert lo <= need[0] and need[1] <= hi
            scan = band.scans[stage]
            assert scan is None or (lo <= scan[0] and scan[1] <= hi)
