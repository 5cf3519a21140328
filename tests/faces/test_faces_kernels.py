"""The onnx descriptor kernel against dlib's own: the parser, the cache, parity on every face.

Parity is checked on all 64 faces of fixtures/faces (the engine in both kernels, same chips):
every descriptor value within 1e-4 of dlib's and every pairwise distance within 1e-4 of the
distance dlib's descriptors give. The bench frames are checked by bench/faces_bench.py.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from auditor.faces import dlibnet
from auditor.faces.engine import ImageResult, analyse
from auditor.faces.fingerprint import fingerprint
from auditor.faces.kernels import KernelUnavailable, check_kernel, kernel_build
from auditor.faces.modelfiles import model_paths
from auditor.faces.onnx_kernel import build_model, providers
from auditor.faces.params import FaceParams
from tests.faces.conftest import PHOTOS, _jobs

TOLERANCE = 1e-4


@pytest.fixture(scope="session")
def model_bytes() -> bytes:
    return model_paths()["resnet"].read_bytes()


@pytest.fixture(scope="session")
def results_dlib_kernel() -> list[ImageResult]:
    return list(analyse(_jobs(PHOTOS), FaceParams(workers=1, kernel="dlib")))


def _descriptors(results: list[ImageResult]) -> np.ndarray:
    return np.array([face.descriptor for r in results for face in r.faces], dtype=np.float64)


def test_parser_reads_every_layer(model_bytes: bytes) -> None:
    net = dlibnet.parse_bytes(model_bytes)
    kinds = [layer.kind for layer in net.layers]
    assert len(kinds) == 130
    assert {k: kinds.count(k) for k in set(kinds)} == {
        "con": 29, "affine": 29, "relu": 29, "tag": 18, "add_prev": 14,
        "avg_pool": 5, "skip": 4, "max_pool": 1, "fc": 1,
    }  # fmt: skip
    assert net.size == 150
    assert np.allclose(net.means, (122.782, 117.001, 104.298))
    first = net.layers[0]
    assert first.arrays["weights"].shape == (32, 3, 7, 7) and first.attrs["stride"] == 2
    assert net.layers[-1].arrays["weights"].shape == (256, 128)
    parameters = sum(a.size for layer in net.layers for a in layer.arrays.values())
    # the file is the parameters as float32 plus a few hundred bytes of structure
    assert 0 < len(model_bytes) - 4 * parameters < 8000


@pytest.mark.parametrize("where", ["truncated", "renamed"])
def test_parser_names_the_offset_of_a_bad_file(model_bytes: bytes, where: str) -> None:
    if where == "truncated":
        data = model_bytes[: len(model_bytes) // 2]
    else:
        data = model_bytes.replace(b"affine_", b"affinX_", 1)
    with pytest.raises(dlibnet.DlibNetError, match=r"^byte \d+: ") as info:
        dlibnet.parse_bytes(data)
    if where == "renamed":
        assert "expected layer 'affine_', found 'affinX_'" in str(info.value)


def test_weights_are_cached_by_sha256(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path))
    model = model_paths()["resnet"]
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    parsed = dlibnet.load(model)
    [cached] = (tmp_path / "dlibnet").glob("*.npz")
    assert cached.name.startswith(digest)
    again = dlibnet.load(model)
    for one, two in zip(parsed.layers, again.layers, strict=True):
        assert one.kind == two.kind and one.attrs == two.attrs
        assert all(np.array_equal(one.arrays[k], two.arrays[k]) for k in one.arrays)
    cached.write_bytes(b"damaged")  # a damaged cache file is parsed again and replaced
    third = dlibnet.load(model)
    assert np.array_equal(third.layers[0].arrays["weights"], parsed.layers[0].arrays["weights"])
    assert cached.stat().st_size > 1000


def test_built_graph_is_cached_and_rebuilt_when_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditor.faces.onnx_kernel import OnnxKernel

    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path))
    chips = np.stack([np.full((150, 150, 3), value, np.uint8) for value in (40, 200)])
    check_kernel("onnx")  # what the pool does before forking: parse, build, keep
    [graph] = (tmp_path / "dlibnet").glob("*.onnx")
    first = OnnxKernel(model_paths()["resnet"])(chips)
    graph.write_bytes(b"damaged")
    again = OnnxKernel(model_paths()["resnet"])(chips)
    assert np.array_equal(first, again) and first.shape == (2, 128)
    assert graph.stat().st_size > 1_000_000  # replaced by a good graph


def test_onnx_graph_checks_and_takes_uint8_chips() -> None:
    import onnx

    model = build_model(dlibnet.load(model_paths()["resnet"]))
    onnx.checker.check_model(model)
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.UINT8
    assert providers()[-1] == "CPUExecutionProvider"
    assert kernel_build("onnx")["onnx_provider"] in providers()


def test_dlib_kernel_equals_face_recognition(
    results_dlib_kernel: list[ImageResult], reference: dict[str, Any]
) -> None:
    from tests.faces.test_faces_engine import assert_same_as_reference

    assert_same_as_reference(results_dlib_kernel, reference)


def test_onnx_kernel_matches_dlib_on_every_face(
    results_in_process: list[ImageResult], results_dlib_kernel: list[ImageResult]
) -> None:
    assert FaceParams().kernel == "onnx"  # results_in_process ran the default kernel
    assert [[f.box for f in r.faces] for r in results_in_process] == [
        [f.box for f in r.faces] for r in results_dlib_kernel
    ]
    ours, theirs = _descriptors(results_in_process), _descriptors(results_dlib_kernel)
    assert ours.shape == theirs.shape == (64, 128)
    assert np.abs(ours - theirs).max() <= TOLERANCE
    ours_d = np.linalg.norm(ours[:, None] - ours[None], axis=2)
    theirs_d = np.linalg.norm(theirs[:, None] - theirs[None], axis=2)
    assert np.abs(ours_d - theirs_d).max() <= TOLERANCE
    assert not np.array_equal(ours, theirs)  # really two different computations


def test_kernel_is_in_the_fingerprint() -> None:
    onnx_fp = fingerprint(FaceParams(kernel="onnx"))
    dlib_fp = fingerprint(FaceParams(kernel="dlib"))
    assert onnx_fp != dlib_fp
    with pytest.raises(ValueError, match="kernel must be one of"):
        FaceParams(kernel="numpy")
    with pytest.raises(KernelUnavailable, match="unknown kernel"):
        check_kernel("numpy")
