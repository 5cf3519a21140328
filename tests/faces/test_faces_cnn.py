"""The cnn detector: the parser, the cache, and parity with face_recognition's `model="cnn"`.

Parity is checked through the real engine on real photos: every box within 1 px of
`face_recognition.face_locations(img, U, model="cnn")` and every confidence within 1e-3 of
dlib's `cnn_face_detection_model_v1`. dlib's CNN costs seconds per frame, so the suite checks
a few photos (the upsample-1 ones are `slow`); bench/cnn_parity.py checks every photo of
../shared/faces (docs/faces.md has the result).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from auditor.faces import mmodnet
from auditor.faces.cnn_detector import CnnDetector
from auditor.faces.cnn_pyramid import pyramid_rects
from auditor.faces.detectors import DetectorUnavailable, check_detector
from auditor.faces.dlibnet import DlibNetError
from auditor.faces.engine import analyse
from auditor.faces.fingerprint import fingerprint
from auditor.faces.modelfiles import detector_path
from auditor.faces.params import FaceParams
from tests.conftest import DEMO
from tests.faces.conftest import FIXTURES, _jobs

BOX_PX = 1
CONFIDENCE = 1e-3


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    return detector_path().read_bytes()


@pytest.fixture(scope="module")
def detector() -> CnnDetector:
    return CnnDetector()


def test_parser_reads_every_layer(model_bytes: bytes) -> None:
    net = mmodnet.parse_bytes(model_bytes)
    kinds = [layer.kind for layer in net.layers]
    assert kinds == ["con", "affine", "relu"] * 6 + ["con"]
    convs = [layer for layer in net.layers if layer.kind == "con"]
    assert [c.arrays["weights"].shape for c in convs] == [
        (16, 3, 5, 5), (32, 16, 5, 5), (32, 32, 5, 5),
        (45, 32, 5, 5), (45, 45, 5, 5), (45, 45, 5, 5), (1, 45, 9, 9),
    ]  # fmt: skip
    assert [(c.attrs["stride"], c.attrs["pad"]) for c in convs] == [(2, 0)] * 3 + [(1, 2)] * 3 + [
        (1, 4)
    ]
    assert net.window == (80, 80)
    assert np.allclose(net.means, (122.782, 117.001, 104.298))
    assert (net.pyramid_padding, net.pyramid_outer_padding) == (10, 11)
    assert 0.3 < net.nms_iou < 0.4 and net.nms_covered == 1.0
    parameters = sum(c.arrays["weights"].size + c.arrays["bias"].size for c in convs)
    # the file is the parameters as float32, the batch-norm statistics and some structure
    assert 0 < len(model_bytes) - 4 * parameters < 40_000


@pytest.mark.parametrize("where", ["truncated", "renamed", "trailing"])
def test_parser_names_the_offset_of_a_bad_file(model_bytes: bytes, where: str) -> None:
    if where == "truncated":
        data = model_bytes[: len(model_bytes) // 2]
    elif where == "renamed":
        data = model_bytes.replace(b"bn_con2", b"bn_conX", 1)
    else:
        data = model_bytes + b"\x00"
    with pytest.raises(DlibNetError, match=r"^byte \d+: ") as info:
        mmodnet.parse_bytes(data)
    if where == "renamed":
        assert "expected layer 'bn_con2', found 'bn_conX'" in str(info.value)


def test_parse_is_cached_by_sha256_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path))
    model = detector_path()
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    first = mmodnet.load(model)
    [cached] = (tmp_path / "mmodnet").glob("*.npz")
    assert cached.name.startswith(digest)
    again = mmodnet.load(model)
    assert again.weights_sha256 == first.weights_sha256
    for a, b in zip(first.layers, again.layers, strict=True):
        assert a.kind == b.kind and all(np.array_equal(a.arrays[k], b.arrays[k]) for k in a.arrays)
    cached.write_bytes(cached.read_bytes()[:-10])  # tampered: a miss, parsed again
    rebuilt = mmodnet.load(model)
    assert rebuilt.weights_sha256 == first.weights_sha256
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == first.weights_sha256


def test_pyramid_levels_shrink_by_five_sixths_and_never_overlap() -> None:
    rects, rows, cols = pyramid_rects(480, 640, 10, 11)
    assert rects[0] == (11, 11, 650, 490) and cols == 640 + 22
    sizes = [(r[2] - r[0] + 1, r[3] - r[1] + 1) for r in rects]
    for (w1, h1), (w2, h2) in zip(sizes, sizes[1:], strict=False):
        assert (w2, h2) == (int(w1 * 5 / 6), int(h1 * 5 / 6))
    for i, a in enumerate(rects):
        assert 0 <= a[0] and 0 <= a[1] and a[2] < cols and a[3] < rows
        for b in rects[i + 1 :]:
            assert a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1]


def _reference(api: Any, path: Path, upsample: int) -> tuple[list[Any], list[float]]:
    img = api.load_image_file(str(path))
    boxes = api.face_locations(img, number_of_times_to_upsample=upsample, model="cnn")
    confidences = [d.confidence for d in api.cnn_face_detector(img, upsample)]
    return boxes, confidences


def _check_parity(api: Any, detector: CnnDetector, names: list[str], upsample: int) -> None:
    paths = [FIXTURES / name for name in names]
    results = list(analyse(_jobs(paths), FaceParams(workers=1, upsample=upsample, detector="cnn")))
    total = 0
    for path, result in zip(paths, results, strict=True):
        boxes, confidences = _reference(api, path, upsample)
        assert len(result.faces) == len(boxes), path.name
        total += len(boxes)
        for face, box in zip(result.faces, boxes, strict=True):
            assert max(abs(a - b) for a, b in zip(face.box, box, strict=True)) <= BOX_PX
        mine = detector.detect(api.load_image_file(str(path)), upsample)
        assert [d.box for d in mine] == [f.box for f in result.faces]
        for det, confidence in zip(mine, confidences, strict=True):
            assert abs(det.confidence - confidence) <= CONFIDENCE
    assert total >= len(paths)


def test_parity_with_face_recognition_cnn_upsample_0(
    face_recognition_api: Any, detector: CnnDetector
) -> None:
    _check_parity(face_recognition_api, detector, ["two_people.jpg", "obama_small.jpg"], 0)


@pytest.mark.slow
def test_parity_with_face_recognition_cnn_upsample_1(
    face_recognition_api: Any, detector: CnnDetector
) -> None:
    names = ["2008_002470.jpg", "obama_small.jpg"]
    names += [p.relative_to(FIXTURES).as_posix() for p in sorted(FIXTURES.glob("johns/*/*"))[::9]]
    _check_parity(face_recognition_api, detector, names, 1)


def test_batched_pass_equals_one_frame_at_a_time(detector: CnnDetector) -> None:
    from PIL import Image

    frames = [
        np.asarray(Image.open(path).convert("RGB"))
        for path in sorted((DEMO / "frames" / "metro-pd").rglob("*.jpg"))[:3]
    ]
    frames.append(np.asarray(Image.open(FIXTURES / "obama_small.jpg").convert("RGB")))
    batched = detector.detect_many(frames, 0)
    assert batched == [detector.detect(frame, 0) for frame in frames]
    assert sum(len(found) for found in batched) > 3


def test_pool_and_in_process_agree_and_the_fingerprint_names_the_detector() -> None:
    paths = [FIXTURES / "2008_002470.jpg", FIXTURES / "obama_small.jpg"] * 2
    params = FaceParams(workers=2, chunk=1, upsample=0, detector="cnn")
    pooled = list(analyse(_jobs(paths), params))
    alone = list(analyse(_jobs(paths), FaceParams(workers=1, upsample=0, detector="cnn")))
    assert [[f.box for f in r.faces] for r in pooled] == [[f.box for f in r.faces] for r in alone]
    assert fingerprint(params) != fingerprint(FaceParams(workers=2, upsample=0))
    with pytest.raises(ValueError, match="detector must be one of hog, cnn"):
        FaceParams(detector="mtcnn")
    with pytest.raises(DetectorUnavailable, match="unknown detector 'mtcnn'"):
        check_detector("mtcnn")


def test_audit_with_the_cnn_detector_names_it_and_keeps_its_own_cache_rows(
    demo_bundle: Path,
    audit_json: Callable[..., tuple[int, dict[str, Any]]],
    cli: Callable[..., Any],
    db_url: str,
) -> None:
    _, hog = audit_json(demo_bundle)
    _, cnn = audit_json(demo_bundle, "--detector", "cnn")
    assert hog["face_engine"]["params"]["detector"] == "hog"
    assert "sha256:mmod_graph" not in hog["face_engine"]["build"]
    engine = cnn["face_engine"]
    assert engine["params"]["detector"] == "cnn"
    assert (
        engine["build"]["sha256:mmod_detector"]
        == hashlib.sha256(detector_path().read_bytes()).hexdigest()
    )
    assert engine["build"]["sha256:mmod_graph"] and engine["build"]["sha256:mmod_weights"]
    assert engine["fingerprint"] != hog["face_engine"]["fingerprint"]
    assert cnn["run"]["frames_computed"] == hog["run"]["frames_computed"] > 0
    con = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    assert con.execute("select count(distinct fingerprint) from face_cache").fetchone()[0] == 2
    con.close()
    rows = json.loads(
        cli(
            "faces", DEMO / "frames" / "metro-pd", "--json", "--no-cache", "--detector", "cnn"
        ).stdout
    )
    assert sum(r["faces"] for r in rows) >= 7  # HOG finds 7 here
    bad = cli("faces", DEMO / "frames", "--detector", "mtcnn", "--no-cache")
    said = " ".join(bad.stderr.replace("│", " ").split())
    assert bad.exit_code == 2 and "'mtcnn' is not one of 'hog', 'cnn'" in said
