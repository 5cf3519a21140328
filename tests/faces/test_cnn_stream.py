"""The MMOD network streamed down the tiled pyramid (`cnn_stream` over `cnn_pyramid`) gives the
score map of the whole pyramid through the whole network, bit for bit, on real photos, with
chunks of many sizes; and the pyramid read by chunks is dlib's pyramid built whole."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PIL import Image

from auditor.faces.cnn_detector import CHUNK_ROWS, WHOLE_PIXELS, CnnDetector
from auditor.faces.cnn_graph import build_model
from auditor.faces.cnn_pyramid import TiledPyramid
from auditor.faces.cnn_stream import Conv, LayerStream, out_rows, streamed_scores
from tests.faces.conftest import FIXTURES

PHOTOS = ["obama_small.jpg", "two_people.jpg", "2008_002470.jpg"]


@pytest.fixture(scope="module")
def detector() -> CnnDetector:
    return CnnDetector()


@pytest.fixture(scope="module")
def whole_network(detector: CnnDetector) -> Any:
    """The network as one ONNX graph (rows padded by ONNX itself), run on a whole pyramid."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    data = build_model(detector.net).SerializeToString()
    return onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def _whole_pyramid(pyramid: TiledPyramid) -> np.ndarray:
    return pyramid.chunk(0, pyramid.rows)


def _dlib_pyramid(up: np.ndarray, detector: CnnDetector) -> np.ndarray:
    """dlib's layout built the plain way: one float32 array, every level resized whole."""
    import dlib

    pyramid = TiledPyramid(up, detector.net.means, detector.net.pyramid_padding,
                           detector.net.pyramid_outer_padding)  # fmt: skip
    data = np.zeros((3, pyramid.rows, pyramid.cols), np.float32)
    for channel in range(3):
        level = up[:, :, channel].astype(np.float32) - np.float32(detector.net.means[channel])
        level = level / np.float32(256.0)
        for i, (left, top, right, bottom) in enumerate(pyramid.rects):
            if i:
                level = dlib.resize_image(level, bottom - top + 1, right - left + 1)
            data[channel, top : bottom + 1, left : right + 1] = level
    return data


@pytest.mark.parametrize("name", PHOTOS)
def test_chunks_are_dlibs_pyramid(detector: CnnDetector, name: str) -> None:
    img = np.asarray(Image.open(FIXTURES / name).convert("RGB"))
    pyramid = detector.pyramid(img, 1)
    assert len(pyramid.rects) > 10
    want = _dlib_pyramid(pyramid._image, detector)  # type: ignore[arg-type]
    got = np.concatenate(list(pyramid.chunks(37)), axis=2)[0]
    assert got.shape == want.shape and np.array_equal(got, want)
    assert pyramid._image is None and all(level is None for level in pyramid._levels)  # let go
    with pytest.raises(ValueError, match="level 0 read after it was let go"):
        pyramid.chunk(0, 20)


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize("rows", [1, 7, CHUNK_ROWS, 500])
def test_stream_gives_the_whole_score_map(
    detector: CnnDetector, whole_network: Any, name: str, rows: int
) -> None:
    img = np.asarray(Image.open(FIXTURES / name).convert("RGB"))
    whole = whole_network.run(None, {"pyramid": _whole_pyramid(detector.pyramid(img, 1))})[0]
    pyramid = detector.pyramid(img, 1)
    calls: list[int] = []

    def counted(run: Any) -> Any:
        def inner(x: np.ndarray) -> np.ndarray:
            calls.append(x.shape[2])
            return run(x)  # type: ignore[no-any-return]

        return inner

    runs = [counted(detector.runs[0]), *detector.runs[1:]]
    got = streamed_scores(runs, detector.convs, pyramid.chunks(rows), pyramid.rows)
    assert got.shape == whole.shape[2:] and np.array_equal(got, whole[0, 0])
    if rows < pyramid.rows:  # really cut: the first layer saw no more than a chunk and 4 rows
        assert len(calls) > 1 and max(calls) <= rows + 4, calls


def test_layer_stream_reads_each_row_once_and_pads_the_edges() -> None:
    """A 3x3 box filter (stride 1, pad 1) and a 5-row stride-2 one, fed rows one by one: each
    output row is the window the whole input gives it, zero rows standing for the padding."""
    seen: list[np.ndarray] = []

    def box(kernel: int, stride: int) -> Any:
        def run(x: np.ndarray) -> np.ndarray:
            seen.append(x.copy())
            n = (x.shape[2] - kernel) // stride + 1
            rows = [x[:, :, i * stride : i * stride + kernel].sum(axis=2) for i in range(n)]
            return np.stack(rows, axis=2)

        return run

    x = np.arange(1, 12, dtype=np.float32).reshape(1, 1, 11, 1)
    layer = LayerStream(box(3, 1), Conv(3, 1, 1), 11)
    outs = [layer.feed(x[:, :, i : i + 1], i == 10) for i in range(11)]
    got = np.concatenate([o for o in outs if o is not None], axis=2)[0, 0, :, 0]
    padded = np.concatenate([[0], x[0, 0, :, 0], [0]])
    assert got.tolist() == [padded[i : i + 3].sum() for i in range(11)]
    assert sum(s.shape[2] for s in seen) - 2 * (len(seen) - 1) == 13  # each row read once
    down = streamed_scores(
        [box(5, 2)], [Conv(5, 2, 0)], (x[:, :, i : i + 3] for i in (0, 3, 6, 9)), 11
    )
    assert down[:, 0].tolist() == [x[0, 0, i : i + 5, 0].sum() for i in (0, 2, 4, 6)]
    assert out_rows([Conv(5, 2, 0)], 11) == 4
    with pytest.raises(ValueError, match="gave 6 rows, not 11"):
        streamed_scores([box(5, 2)], [Conv(5, 2, 0)], iter([x[:, :, :6]]), 11)


def test_small_pyramids_take_the_whole_graph_with_the_same_scores(
    detector: CnnDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    img = np.asarray(Image.open(FIXTURES / "two_people.jpg").convert("RGB"))
    pyramid = detector.pyramid(img, 0)
    assert pyramid.rows * pyramid.cols <= WHOLE_PIXELS
    calls: list[str] = []
    whole, first = detector.whole, detector.runs[0]
    monkeypatch.setattr(detector, "whole", lambda x: calls.append("whole") or whole(x))
    one_call = detector.scores(pyramid)
    monkeypatch.setattr(detector, "whole", None)  # the stream now, on a fresh pyramid
    monkeypatch.setattr(detector, "runs", [lambda x: calls.append("stage") or first(x),
                                           *detector.runs[1:]])  # fmt: skip
    monkeypatch.setattr("auditor.faces.cnn_detector.WHOLE_PIXELS", 0)
    streamed = detector.scores(detector.pyramid(img, 0))
    assert calls[0] == "whole" and calls.count("whole") == 1 and "stage" in calls
    assert one_call is not None and streamed is not None and np.array_equal(one_call, streamed)
