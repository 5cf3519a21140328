"""Shared, session-scoped results for the frame-pass tests: real dlib on real photos.

The engine runs once in-process and once with a two-process pool; face_recognition (the
reference) runs once. Every test then reads these results, which keeps the suite fast.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from auditor.faces.engine import ImageJob, ImageResult, analyse
from auditor.faces.params import FaceParams

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "faces"
PHOTOS = sorted(p for p in FIXTURES.rglob("*") if p.suffix.lower() in {".jpg", ".png"})


def _jobs(paths: list[Path]) -> list[ImageJob]:
    return [ImageJob(str(path), path.relative_to(FIXTURES).as_posix()) for path in paths]


@pytest.fixture(scope="session")
def face_recognition_api() -> Any:
    """face_recognition's api module (imports pkg_resources and loads all four models)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import face_recognition.api as api
    return api


@pytest.fixture(scope="session")
def reference(face_recognition_api: Any) -> dict[str, tuple[list[Any], list[Any]]]:
    """name -> (boxes, encodings) from face_locations(img, 1) + face_encodings(img, boxes)."""
    api = face_recognition_api
    out = {}
    for path in PHOTOS:
        img = api.load_image_file(str(path))
        boxes = api.face_locations(img, number_of_times_to_upsample=1)
        encodings = api.face_encodings(img, known_face_locations=boxes)
        out[path.relative_to(FIXTURES).as_posix()] = (boxes, encodings)
    return out


@pytest.fixture(scope="session")
def results_in_process() -> list[ImageResult]:
    return list(analyse(_jobs(PHOTOS), FaceParams(workers=1)))


@pytest.fixture(scope="session")
def results_pool() -> list[ImageResult]:
    progress: list[int] = []
    results = list(analyse(_jobs(PHOTOS), FaceParams(workers=2), progress.append))
    assert sum(progress) == len(PHOTOS) and len(progress) > 2  # pool path, several chunks
    return results


@pytest.fixture(scope="session")
def by_name(results_in_process: list[ImageResult]) -> dict[str, ImageResult]:
    return {result.path: result for result in results_in_process}
