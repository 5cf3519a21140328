"""dlib's CNN (MMOD) face detector, run on ONNX Runtime, giving dlib's boxes and confidences.

Why: `face_recognition.face_locations(img, U, model="cnn")` finds faces HOG misses, but costs
~58x HOG's CPU time in the default wheel. Here the network runs on ONNX Runtime (`cnn_graph`)
and everything around it follows dlib's code step by step, so the boxes are dlib's:

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
from auditor.faces.cnn_bands import banded_scores
from auditor.faces.modelfiles import detector_path

#: Name recorded in face_engine and in the cache fingerprint.
DETECTOR_NAME = "cnn"

Rect = tuple[int, int, int, int]  # left, top, right, bottom (dlib's inclusive rectangle)


@dataclass(frozen=True)
class Detection:
    """A face in face_recognition's (top, right, bottom, left) order, and dlib's confidence."""

    box: tuple[int, int, int, int]
    confidence: float


# ---------------------------------------------------------------------------------------------
# The tiled pyramid (image_pyramid.h, compute_tiled_image_pyramid_details, pyramid_down<6>).


def pyramid_rects(nr: int, nc: int, padding: int, outer: int) -> tuple[list[Rect], int, int]:
    """The level rectangles inside the tiled image, and its rows and cols."""
    if nr * nc == 0:
        return [], 0, 0
    rects: list[Rect] = [(0, 0, nc - 1, nr - 1)]
    while True:
        nr, nc = math.floor(5.0 / 6.0 * nr), math.floor(5.0 / 6.0 * nc)
        if nr * nc == 0 or nr < 5:
            break
        rects.append((0, 0, nc - 1, nr - 1))
    total_height = sum(geom.height(r) + padding for r in rects) - 2 * padding
    height = 0
    prev_width = 0
    first_w, first_h = geom.width(rects[0]), geom.height(rects[0])
    for r in rects:
        if geom.width(r) <= first_w - prev_width - padding and (height - first_h) * 2 >= (
            total_height - first_h
        ):
            break
        height += geom.height(r) + padding
        prev_width = geom.width(r)
    height -= padding
    width = first_w
    out_nr, out_nc = height + 2 * outer, width + 2 * outer
    y = outer
    i = 0
    while y < height + outer and i < len(rects):
        w, h = geom.width(rects[i]), geom.height(rects[i])
        rects[i] = (outer, y, outer + w - 1, y + h - 1)
        y += h + padding
        i += 1
    y -= padding
    while i < len(rects):
        p1 = (outer + width - 1, y - 1)
        br = (rects[i][2], rects[i][3])
        p2 = (p1[0] - br[0], p1[1] - br[1])
        rect = (min(p1[0], p2[0]), min(p1[1], p2[1]), max(p1[0], p2[0]), max(p1[1], p2[1]))
        if geom.area(geom.intersect(rects[0], rect)):
            break
        rects[i] = rect
        y -= geom.height(rect) + padding
        i += 1
    return rects[:i], out_nr, out_nc


def build_pyramid(img: np.ndarray, means: Sequence[float], padding: int, outer: int) -> Any:
    """(3, rows, cols) float32 tiled pyramid of an RGB uint8 image, and its level rectangles."""
    import dlib

    rects, out_nr, out_nc = pyramid_rects(img.shape[0], img.shape[1], padding, outer)
    data = np.zeros((3, out_nr, out_nc), np.float32)
    if not rects:
        return data, rects
    l0, t0, r0, b0 = rects[0]
    for channel in range(3):
        level = (img[:, :, channel].astype(np.float32) - np.float32(means[channel])) / np.float32(
            256.0
        )
        data[channel, t0 : b0 + 1, l0 : r0 + 1] = level
        for left, top, right, bottom in rects[1:]:
            level = dlib.resize_image(
                np.ascontiguousarray(level), bottom - top + 1, right - left + 1
            )
            data[channel, top : bottom + 1, left : right + 1] = level
    return data, rects


def upsample(img: np.ndarray, times: int) -> np.ndarray:
    """`pyramid_up(image, pyramid_down<2>)` `times` times: rows 2r+1, cols 2c+2 (rect_up of
    the image rectangle, rounded as dlib rounds a drectangle), bilinear as dlib resizes."""
    import dlib

    for _ in range(times):
        rows, cols = img.shape[:2]
        img = dlib.resize_image(np.ascontiguousarray(img), 2 * rows + 1, 2 * cols + 2)
    return img


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


#: Pyramid pixels per band of the network's pass (`cnn_bands`): 512 rows of a 1080p frame's
#: pyramid at upsample 1, whose pass then peaks at 556 MB instead of 1,187 MB (and takes 3.3 s
#: of CPU instead of 4.6: the bands stay in cache). At least MIN_BAND_ROWS rows, because each
#: band repeats about 190 rows of the one before (the network's receptive field).
BAND_PIXELS = 2_000_000
MIN_BAND_ROWS = 384


def band_rows(cols: int) -> int:
    """Rows of a band for a pyramid `cols` wide: about BAND_PIXELS pixels, a multiple of 8."""
    return max(MIN_BAND_ROWS, BAND_PIXELS // max(cols, 1) // 8 * 8)


class CnnDetector:
    """One ONNX Runtime session per process (one intra-op thread: one process per core)."""

    name = DETECTOR_NAME

    def __init__(self, model_file: Path | None = None, threads: int = 1) -> None:
        import onnxruntime

        from auditor.faces.cnn_graph import graph_bytes, graph_sha256, rebuild
        from auditor.faces.onnx_kernel import providers

        model_file = model_file or detector_path()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # The activations are few and large (hundreds of MB for a 1080p frame at upsample 1):
        # ORT's arena would keep its high-water mark for the process's life (measured +230 MB).
        options.enable_cpu_mem_arena = False
        data, self.net = graph_bytes(model_file)
        try:
            session = onnxruntime.InferenceSession(data, options, providers=providers())
        except Exception:  # noqa: BLE001 - checked bytes that ORT still refuses: build again
            data = rebuild(model_file)
            session = onnxruntime.InferenceSession(data, options, providers=providers())
        self.session = session
        self.graph_sha256 = graph_sha256(data)
        self.convs = [
            (layer.attrs["kernel"], layer.attrs["stride"], layer.attrs["pad"])
            for layer in self.net.layers
            if layer.kind == "con"
        ]

    def _run(self, pyramid: np.ndarray) -> np.ndarray:
        scores: np.ndarray = self.session.run(None, {"pyramid": np.ascontiguousarray(pyramid)})[0]
        return scores

    def _prepare(self, img: np.ndarray, times: int) -> tuple[np.ndarray, list[Rect]]:
        net = self.net
        up = upsample(np.asarray(img, np.uint8), times)
        pyramid: np.ndarray
        pyramid, rects = build_pyramid(
            up, net.means, net.pyramid_padding, net.pyramid_outer_padding
        )
        return pyramid, rects

    def detect(self, img: np.ndarray, times: int) -> list[Detection]:
        """face_locations(img, times, model="cnn") as Detections (with confidences)."""
        return self.detect_many([img], times)[0]

    def detect_many(self, images: Sequence[np.ndarray], times: int) -> list[list[Detection]]:
        """Detect in several frames, one after the other: each frame's pyramid is built, run
        band by band (`cnn_bands`) and let go before the next is built. Stacking the frames of
        one size into one batch held all their pyramids and a copy of them at once (a 1080p
        frame's is 362 MB) for no gain on a CPU, where a band already fills the cores."""
        out: list[list[Detection]] = []
        for img in images:
            pyramid, rects = self._prepare(img, times)
            if not pyramid.shape[1] or not pyramid.shape[2] or not rects:
                out.append([])
                continue
            scores = banded_scores(
                self._run, pyramid[None], self.convs, band_rows(pyramid.shape[2])
            )
            del pyramid
            height, width = img.shape[:2]
            out.append(scores_to_detections(scores[0, 0], rects, self.net, times, width, height))
        return out
