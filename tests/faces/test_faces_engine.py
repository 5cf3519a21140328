"""The engine gives face_recognition's faces and descriptors, in job order, in and out of a pool."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from auditor.faces.engine import ImageJob, ImageResult, analyse, analyse_chunk
from auditor.faces.params import FaceParams

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "faces"
PHOTOS = sorted(p for p in FIXTURES.rglob("*") if p.suffix.lower() in {".jpg", ".png"})
TOLERANCE = 1e-4


def jobs_for(paths: list[Path]) -> list[ImageJob]:
    return [ImageJob(str(path), path.relative_to(FIXTURES).as_posix()) for path in paths]


def assert_same_as_reference(results: list[ImageResult], reference: dict[str, Any]) -> None:
    assert [r.path for r in results] == [j.display for j in jobs_for(PHOTOS)]  # job order
    for result in results:
        boxes, encodings = reference[result.path]
        assert result.error is None, result.path
        assert [face.box for face in result.faces] == boxes, result.path
        for face, encoding in zip(result.faces, encodings, strict=True):
            assert len(face.descriptor) == 128
            diff = np.abs(np.asarray(face.descriptor) - encoding).max()
            assert diff <= TOLERANCE, (result.path, diff)


def test_in_process_equals_face_recognition(
    results_in_process: list[ImageResult], reference: dict[str, Any]
) -> None:
    assert_same_as_reference(results_in_process, reference)


def test_pool_equals_face_recognition(
    results_pool: list[ImageResult], reference: dict[str, Any]
) -> None:
    assert_same_as_reference(results_pool, reference)


def test_face_counts_per_photo(by_name: dict[str, ImageResult]) -> None:
    expected = {
        "two_people.jpg": 2,
        "32bit.png": 1,
        "obama_small.jpg": 1,
        "2008_002470.jpg": 6,  # a group photo: 0 faces at upsample 0
        "mmod_cars_test_image.jpg": 0,
    }
    for name, count in expected.items():
        assert len(by_name[name].faces) == count, name
    johns = [r for name, r in by_name.items() if name.startswith("johns/")]
    assert len(johns) == 54
    assert all(len(r.faces) == 1 for r in johns)


def test_upsample_zero_misses_small_faces() -> None:
    group = FIXTURES / "2008_002470.jpg"
    [result] = analyse([ImageJob(str(group), "group")], FaceParams(upsample=0, workers=1))
    assert result.faces == ()


def test_metadata_and_timings(by_name: dict[str, ImageResult]) -> None:
    result = by_name["two_people.jpg"]
    data = (FIXTURES / "two_people.jpg").read_bytes()
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert (result.width, result.height) == (1126, 661)
    assert set(result.timings) == {"decode", "detect", "landmarks", "descriptors"}
    assert all(seconds >= 0 for seconds in result.timings.values())
    assert result.timings["descriptors"] > 0


@pytest.mark.parametrize(
    "crop", [(115, 74, 320, 240), (0, 0, 198, 150)], ids=["top-left", "bottom-right"]
)
def test_boxes_are_trimmed_like_face_recognition(
    crop: tuple[int, int, int, int], tmp_path: Path, face_recognition_api: Any
) -> None:
    # Cut the face at two edges, so dlib's rectangle sticks out of the image.
    cut = tmp_path / "cut.png"
    Image.open(FIXTURES / "obama_small.jpg").convert("RGB").crop(crop).save(cut)
    api = face_recognition_api
    img = api.load_image_file(str(cut))
    [raw] = api._raw_face_locations(img, 1)
    height, width = img.shape[:2]
    assert raw.left() < 0 or raw.top() < 0 or raw.right() > width or raw.bottom() > height
    boxes = api.face_locations(img, number_of_times_to_upsample=1)
    [encoding] = api.face_encodings(img, known_face_locations=boxes)

    [result] = analyse([ImageJob(str(cut), "cut.png")], FaceParams(workers=1))
    assert [face.box for face in result.faces] == boxes
    assert np.abs(np.asarray(result.faces[0].descriptor) - encoding).max() <= TOLERANCE


def test_pool_and_in_process_agree_exactly(
    results_in_process: list[ImageResult], results_pool: list[ImageResult]
) -> None:
    assert [r.faces for r in results_pool] == [r.faces for r in results_in_process]


def test_small_runs_stay_in_process() -> None:
    # Fewer jobs than two chunks: no pool, so nothing to start (progress once per chunk).
    progress: list[int] = []
    jobs = jobs_for([FIXTURES / "mmod_cars_test_image.jpg"] * 3)
    results = list(analyse(jobs, FaceParams(workers=2, chunk=8), progress.append))
    assert progress == [3]
    assert [r.faces for r in results] == [(), (), ()]


def test_worker_function_and_results_pickle() -> None:
    assert pickle.loads(pickle.dumps(analyse_chunk)) is analyse_chunk
    params = pickle.loads(pickle.dumps(FaceParams(workers=1)))
    results = analyse_chunk(jobs_for([FIXTURES / "obama_small.jpg"]), params)
    assert pickle.loads(pickle.dumps(results)) == results


@pytest.mark.parametrize(
    "kwargs", [{"jitters": 2}, {"upsample": -1}, {"chunk": 0}, {"workers": 0}, {"max_pixels": 0}]
)
def test_params_are_validated(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        FaceParams(**kwargs)


@pytest.mark.parametrize("count", [16, 17, 59, 300])
def test_pool_chunks_cover_every_job_in_order_and_shrink_at_the_end(count: int) -> None:
    from auditor.faces.engine import _pool_chunks

    jobs = [ImageJob(str(i), str(i)) for i in range(count)]
    chunks = _pool_chunks(jobs, FaceParams(workers=2, chunk=8))
    assert [job for chunk in chunks for job in chunk] == jobs
    assert max(len(chunk) for chunk in chunks) <= 8
    assert len(chunks[-1]) == 1 and len(chunks) >= 8
