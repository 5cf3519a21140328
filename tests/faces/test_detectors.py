"""The detector registry, walked: every detector `--detector` offers is reached through
`get_detector`, can run on this install, names what it runs on, and finds on real photos the
boxes face_recognition finds with the model of the same name (`face_locations(img, 1,
model=name)`, the reference each detector must equal)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import FIXTURES
from PIL import Image

from auditor.cli.options import DetectorName
from auditor.faces import detectors
from auditor.faces.detectors import (
    DEFAULT_DETECTOR,
    DETECTORS,
    DetectorUnavailable,
    get_detector,
)
from auditor.faces.fingerprint import build_info

PHOTOS = ["obama_small.jpg", "two_people.jpg"]


def test_the_registry_is_what_the_cli_offers() -> None:
    assert DETECTORS == ("hog", "cnn") and DEFAULT_DETECTOR in DETECTORS
    assert [d.value for d in DetectorName] == list(DETECTORS)
    with pytest.raises(DetectorUnavailable, match="unknown detector 'mtcnn'"):
        get_detector("mtcnn")


@pytest.mark.parametrize("name", DETECTORS)
def test_each_detector_runs_and_equals_face_recognition(
    name: str, face_recognition_api: Any
) -> None:
    found = get_detector(name)
    assert found is get_detector(name) and found.name == name  # one instance per process
    found.check()
    found.preload()
    found.warm()
    facts = found.build()
    assert all(isinstance(k, str) for k in facts)
    assert facts.items() <= build_info(detector=name).items()
    images = [np.asarray(Image.open(FIXTURES / p).convert("RGB")) for p in PHOTOS]
    got = found.find(images, 1)
    assert len(got) == len(images)
    for img, (seconds, boxes) in zip(images, got, strict=True):
        want = face_recognition_api.face_locations(img, 1, model=name)
        assert seconds >= 0 and boxes == [tuple(b) for b in want], name
    assert sum(len(boxes) for _, boxes in got) >= 3


def test_hog_streams_large_frames_only() -> None:
    assert not detectors.streams_pyramid(1920, 1080, 1) and not detectors.streams_pyramid(
        3840, 2160, 0
    )
    assert detectors.streams_pyramid(1921, 1080, 1) and detectors.streams_pyramid(4096, 4096, 0)
