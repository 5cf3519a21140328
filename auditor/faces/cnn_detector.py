"""dlib's CNN (MMOD) face detector, run on ONNX Runtime, giving dlib's boxes and confidences.

Why: `face_recognition.face_locations(img, U, model="cnn")` finds faces HOG misses, but costs
~58x HOG's CPU time in the default wheel. Here the network runs on ONNX Runtime (`cnn_graph`),
streamed down the pyramid a few rows at a time (`cnn_pyramid`, `cnn_stream`), and everything
around it follows dlib's code step by step, so the boxes are dlib's:

1. upsample U times as `cnn_face_detection_model_v1.detect` does: `pyramid_up` with
   `pyramid_down<2>` (rows 2r+1, cols 2c+2; `dlib.resize_image` runs the same bilinear code);
2. the tiled pyramid of `input_rgb_image_pyramid<pyramid_down<6>>` (dnn/input.h): the level
   rectangles of `compute_tiled_image_pyramid_details` (image_pyramid.h), level 0 the image as
   (pixel - mean) / 256 in float32, every other level a bilinear resize of the level before it
   (`tt::resize_bilinear`, i.e. dlib's float `resize_image`, called through dlib itself), zeros
   elsewhere;
3. the score map; every score > 0 (loss_mmod_'s `to_label` threshold) at (r, c) maps to input
   point (8c + 14, 8r + 14) (`output_tensor_to_input_tensor`: each 5x5 stride-2 layer maps p to
   2p + 2, the others to p), an 80x80 `centered_drect` there, back to image space through the
   nearest pyramid rectangle (`tiled_pyramid_to_image`), rounded to a `rectangle`;
4. sorted by score, then dlib's greedy non-max suppression with the net's learned
   `test_box_overlap` (IoU against the boxes' bounding rectangle, or coverage);
5. mapped down through the U upsamplings (`rect_down`) and rounded, then trimmed to the image
   as face_recognition's `_trim_css_to_bounds` does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from auditor.faces import dlibgeom as geom
from auditor.faces.cnn_pyramid import Rect, TiledPyramid, upsample
from auditor.faces.cnn_stream import Conv, Run, out_rows, streamed_scores
from auditor.faces.modelfiles import detector_path

#: Name recorded in face_engine and in the cache fingerprint.
DETECTOR_NAME = "cnn"


@dataclass(frozen=True)
class Detection:
    """A face in face_recognition's (top, right, bottom, left) order, and dlib's confidence."""

    box: tuple[int, int, int, int]
    confidence: float


# ---------------------------------------------------------------------------------------------
# Score map to boxes (loss.h: tensor_to_dets, to_label; image_pyramid.h: tiled_pyramid_to_image).


def _nearest_rect(rects: list[Rect], x: int, y: int) -> int:
    best, best_dist = 0, math.inf
    for i, (left, top, right, bottom) in enumerate(rects):
        if left <= x <= right and top <= y <= bottom:
            return i
        nx, ny = min(max(x, left), right), min(max(y, top), bottom)
        dist = math.hypot(nx - x, ny - y)
        if dist < best_dist:
            best, best_dist = i, dist
    return best


def _to_image(rects: list[Rect], window: tuple[int, int], col: int, row: int) -> Rect:
    """The detector window at output (row, col), in the coordinates of the pyramid's base."""
    px, py = 8.0 * col + 14.0, 8.0 * row + 14.0
    half_w, half_h = (window[0] - 1) / 2.0, (window[1] - 1) / 2.0
    box = [px - half_w, py - half_h, px + half_w, py + half_h]  # left, top, right, bottom
    cx = math.floor((box[0] + box[2]) / 2.0 + 0.5)
    cy = math.floor((box[1] + box[3]) / 2.0 + 0.5)
    level = _nearest_rect(rects, cx, cy)
    ox, oy = rects[level][0], rects[level][1]
    box = [box[0] - ox, box[1] - oy, box[2] - ox, box[3] - oy]
    for _ in range(level):  # pyramid_down<6>::point_up: p * 6/5 + 0.3, once per level
        box = [v * 1.2 + 0.3 for v in box]
    return geom.lround(box[0]), geom.lround(box[1]), geom.lround(box[2]), geom.lround(box[3])


def _rect_down(rect: Rect, times: int) -> Rect:
    """pyramid_down<2>::rect_down: p / 2 - (1.25, 0.75), `times` times, then rounded."""
    left, top, right, bottom = (float(v) for v in rect)
    for _ in range(times):
        left, right = left / 2.0 - 1.25, right / 2.0 - 1.25
        top, bottom = top / 2.0 - 0.75, bottom / 2.0 - 0.75
    return geom.lround(left), geom.lround(top), geom.lround(right), geom.lround(bottom)


def scores_to_detections(
    scores: np.ndarray, rects: list[Rect], net: Any, times: int, width: int, height: int
) -> list[Detection]:
    """One frame's (rows, cols) score map to face_recognition's trimmed boxes, dlib's order."""
    rows, cols = np.nonzero(scores > 0)
    found = [
        (float(scores[r, c]), _to_image(rects, net.window, int(c), int(r)))
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True)
    ]
    found.sort(key=lambda item: item[0], reverse=True)
    kept: list[tuple[float, Rect]] = []
    for score, rect in found:
        if any(geom.boxes_overlap(other, rect, net.nms_iou, net.nms_covered) for _, other in kept):
            continue
        kept.append((score, rect))
    out = []
    for score, rect in kept:
        left, top, right, bottom = _rect_down(rect, times)
        box = (max(top, 0), min(right, width), min(bottom, height), max(left, 0))
        out.append(Detection(box, score))
    return out


# ---------------------------------------------------------------------------------------------
# The detector.


#: Pyramid rows given to the network per call (`cnn_stream`): each layer keeps only the rows
#: its next windows share, so this sets the working set (a few MB at 4K), not the result.
#: Measured on a 1080p frame at upsample 1: 32 rows 3.97 s, 64 rows 3.91 s, 256 rows 4.27 s.
CHUNK_ROWS = 64

#: Pyramids of at most this many pixels go through the whole-network graph in one call (its
#: activations then peak at about 90 MB): on the 9 PASCAL VOC photos of dlib's examples (about
#: 500x375, pyramids of 2.8 M pixels at upsample 1) one call took 0.319 s per frame, the stream
#: 0.346 s; seven calls on the whole pyramid 0.391 s.
WHOLE_PIXELS = 3_000_000


class CnnDetector:
    """One ONNX Runtime session per convolution and one for the whole network, per process
    (one intra-op thread: one process per core)."""

    name = DETECTOR_NAME

    def __init__(self, model_file: Path | None = None, threads: int = 1) -> None:
        import onnxruntime

        from auditor.faces.cnn_graph import graph_sha256, graphs_bytes, stages
        from auditor.faces.mmodnet import load
        from auditor.faces.onnx_kernel import providers

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # Calls of many sizes (the pyramid's last chunk, every frame size): ORT's arena would
        # keep each size's high-water mark for the process's life.
        options.enable_cpu_mem_arena = False
        self.net = load(model_file or detector_path())
        data = graphs_bytes(self.net)
        sessions = [
            onnxruntime.InferenceSession(graph, options, providers=providers()) for graph in data
        ]
        self.whole: Run = _runner(sessions[0], "pyramid")
        self.runs: list[Run] = [_runner(session, "x") for session in sessions[1:]]
        self.convs = [Conv(st.kernel, st.stride, st.pad) for st in stages(self.net)]
        self.graph_sha256 = graph_sha256(data)

    def pyramid(self, img: np.ndarray, times: int) -> TiledPyramid:
        """The tiled pyramid of `img` upsampled `times` times."""
        net = self.net
        up = upsample(np.asarray(img, np.uint8), times)
        return TiledPyramid(up, net.means, net.pyramid_padding, net.pyramid_outer_padding)

    def scores(self, pyramid: TiledPyramid) -> np.ndarray | None:
        """The network's score map over the pyramid (None when no window fits in it)."""
        if (
            not pyramid.rects
            or min(out_rows(self.convs, pyramid.rows), out_rows(self.convs, pyramid.cols)) <= 0
        ):
            return None
        if pyramid.rows * pyramid.cols <= WHOLE_PIXELS:
            whole: np.ndarray = self.whole(pyramid.chunk(0, pyramid.rows))[0, 0]
            return whole
        return streamed_scores(self.runs, self.convs, pyramid.chunks(CHUNK_ROWS), pyramid.rows)

    def detect(self, img: np.ndarray, times: int) -> list[Detection]:
        """face_locations(img, times, model="cnn") as Detections (with confidences)."""
        return self.detect_many([img], times)[0]

    def detect_many(self, images: Sequence[np.ndarray], times: int) -> list[list[Detection]]:
        """Detect in several frames, one after the other, each frame's pyramid streamed through
        the network (`cnn_stream`) and let go before the next is built. Stacking the frames of
        one size into one batch held all their pyramids at once (a 1080p frame's is 345 MB)
        for no gain on a CPU, where a chunk of rows already fills the cores."""
        out: list[list[Detection]] = []
        for img in images:
            pyramid = self.pyramid(img, times)
            scores = self.scores(pyramid)
            rects = pyramid.rects
            del pyramid  # a small pyramid's levels, before the next frame's are made
            if scores is None:
                out.append([])
                continue
            height, width = img.shape[:2]
            out.append(scores_to_detections(scores, rects, self.net, times, width, height))
        return out


def _runner(session: Any, name: str) -> Run:
    def run(x: np.ndarray) -> np.ndarray:
        out: np.ndarray = session.run(None, {name: x})[0]
        return out

    return run
