"""dlib's HOG face detector on large frames in bounded memory, finding exactly what it finds.

Why: `detector(img, 1)` on a 3840x2160 frame first upsamples it (7682x4321 RGB, 100 MB), then
builds the whole HOG feature pyramid (31 float planes per 8x8 cell on every level) at once:
~555 MB peak RSS at 4K, ~955 MB at 4096x4096. Cutting the *frame* into tiles does not reproduce
it, because each tile then gets its own pyramid and dlib resizes with a size-dependent scale.

What this module does instead (each step checked against dlib 20.0.1's source; the line numbers
are in the docstrings below):

1. It builds the very pyramid dlib builds -- the `pyramid_up` upsampling of the Python binding,
   then `pyramid_down<6>` level after level -- but streams it: every level is a sequence of
   horizontal strips computed on demand from a few rows of the level above, with a numpy copy of
   dlib's RGB bilinear `resize_image` (float32 SIMD lanes and all) that is byte-identical to
   dlib's. No level is ever whole in memory.
2. It scans each strip (full width, top row a multiple of the 8 px HOG cell) with a variant of
   the same detector read from a patched copy of its file: one pyramid level, overlap thresholds
   that never suppress. A strip's HOG features equal the whole level's except in its first and
   last cell row, so each strip *owns* only the window positions whose features are all exact;
   consecutive strips overlap by (window cells + 3) cells so that every position is owned by
   exactly one strip.
3. It maps each owned box to frame coordinates exactly as dlib does (shift, `rect_up` per level
   with dlib's own `pyramid_down(6).rect_up`, then `pyramid_down(2).rect_down` for the
   upsampling, rounding with `lround` where C++ converts a drectangle to a rectangle), and runs
   object_detector's non-max suppression itself with the original detector's thresholds.

The result is what `detector.run(img, upsample, adjust_threshold)` returns: the same boxes, in
the same order, with the same scores and weight indices (tests/faces/test_hogtiles.py). One
caveat: dlib orders detections with the unstable `std::sort`; two detections with bit-identical
scores may come out in a different order here (Python's sort is stable), which could only matter
if they also overlap.

Only 8-bit RGB images take the streamed path (the grayscale resize and HOG code paths differ);
anything else is handed to the whole-frame detector unchanged.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

# A box as dlib's rectangle: (left, top, right, bottom), inclusive pixel coordinates.
Box = tuple[int, int, int, int]

DEFAULT_STRIP_ROWS = 512
_ROW_CHUNK = 32  # rows of a level computed per numpy pass (bounds the float32 temporaries)


# ----------------------------------------------------------------------------------------------
# The serialized detector (dlib/serialize.h, object_detector.h, scan_fhog_pyramid.h)


def _read_int(data: bytes, pos: int) -> tuple[int, int]:
    """One integer in dlib's compact form (serialize.h pack_int): a control byte holding the
    byte count (low 4 bits) and the sign (0x80), then the magnitude little-endian."""
    control = data[pos]
    size = control & 0x0F
    value = int.from_bytes(data[pos + 1 : pos + 1 + size], "little")
    return (-value if control & 0x80 else value), pos + 1 + size


def _pack_int(value: int) -> bytes:
    """Inverse of `_read_int` (the same bytes pack_int writes)."""
    magnitude = abs(value)
    body = magnitude.to_bytes(max(1, (magnitude.bit_length() + 7) // 8), "little")
    return bytes([len(body) | (0x80 if value < 0 else 0)]) + body


def _read_double(data: bytes, pos: int) -> tuple[float, int]:
    """A double as dlib's float_details: an integer mantissa and an int16 exponent."""
    mantissa, pos = _read_int(data, pos)
    exponent, pos = _read_int(data, pos)
    if exponent >= 32000:  # float_details.h is_inf / is_ninf / is_nan
        return {32000: math.inf, 32001: -math.inf}.get(exponent, math.nan), pos
    return math.ldexp(mantissa, exponent), pos


def _pack_double(value: float) -> bytes:
    """float_details::convert_from_T for a finite double: 53-bit mantissa, zero bytes dropped."""
    frac, exp = math.frexp(value)
    mantissa, exponent = int(frac * (1 << 53)), exp - 53
    for _ in range(8):
        if mantissa & 0xFF:
            break
        mantissa >>= 8
        exponent += 8
    return _pack_int(mantissa) + _pack_int(exponent)


@dataclass(frozen=True)
class HogFileParams:
    """The fields of a saved object_detector<scan_fhog_pyramid<pyramid_down<6>>> used here.

    `spans` are byte ranges of the file (max_pyramid_levels and the two overlap doubles), so a
    variant file can be written with only those fields changed.
    """

    cell_size: int
    padding: int
    window_width: int
    window_height: int
    max_pyramid_levels: int
    min_layer_width: int
    min_layer_height: int
    iou_thresh: float
    percent_covered_thresh: float
    num_detectors: int
    levels_span: tuple[int, int]
    overlap_span: tuple[int, int]


def parse_hog_file(data: bytes) -> HogFileParams:
    """Read the header of a saved fhog_object_detector.

    Layout (object_detector.h serialize, version 2; scan_fhog_pyramid.h serialize, version 1):
    version, [scanner: version, fe (empty), feats (max_size, size: an empty dlib::array),
    cell_size, padding, window_width, window_height, max_pyramid_levels,
    min_pyramid_layer_width, min_pyramid_layer_height, nuclear_norm_regularization_strength
    (double), dims], test_box_overlap (iou_thresh, percent_covered_thresh as doubles),
    number of weight vectors, the weight vectors.
    """
    pos = 0
    version, pos = _read_int(data, pos)
    scanner_version, pos = _read_int(data, pos)
    if version != 2 or scanner_version != 1:
        raise ValueError(f"unsupported detector file (versions {version}, {scanner_version})")
    feats_max, pos = _read_int(data, pos)
    feats_size, pos = _read_int(data, pos)
    if feats_size != 0:
        raise ValueError("detector file holds a loaded feature pyramid")
    del feats_max
    fields = []
    for _ in range(4):  # cell_size, padding, window_width, window_height
        value, pos = _read_int(data, pos)
        fields.append(value)
    levels_start = pos
    max_levels, pos = _read_int(data, pos)
    levels_span = (levels_start, pos)
    min_w, pos = _read_int(data, pos)
    min_h, pos = _read_int(data, pos)
    _, pos = _read_double(data, pos)  # nuclear norm regularization strength
    _, pos = _read_int(data, pos)  # dims
    overlap_start = pos
    iou, pos = _read_double(data, pos)
    covered, pos = _read_double(data, pos)
    overlap_span = (overlap_start, pos)
    num_detectors, pos = _read_int(data, pos)
    cell_size, padding, window_width, window_height = fields
    return HogFileParams(
        cell_size, padding, window_width, window_height, max_levels, min_w, min_h, iou, covered,
        num_detectors, levels_span, overlap_span,
    )


def one_level_variant(data: bytes, params: HogFileParams) -> bytes:
    """The same detector, scanning one pyramid level and never suppressing overlaps.

    max_pyramid_levels=1 makes create_fhog_pyramid build level 0 only (scan_fhog_pyramid.h
    575-585); test_box_overlap(1, 1) never fires, because `inner/outer > 1` and
    `inner/area > 1` are never true (box_overlap_testing.h operator()).
    """
    lo, hi = params.levels_span
    olo, ohi = params.overlap_span
    return (
        data[:lo] + _pack_int(1) + data[hi:olo] + _pack_double(1.0) + _pack_double(1.0)
        + data[ohi:]
    )


# ----------------------------------------------------------------------------------------------
# dlib's geometry (geometry/drectangle.h, image_transforms/image_pyramid.h)


def _lround(x: float) -> int:
    """std::lround: nearest integer, halves away from zero (drectangle -> rectangle)."""
    down = math.floor(x)
    frac = x - down
    if frac > 0.5 or (frac == 0.5 and x > 0):
        return down + 1
    return down


def _rect_down6(box: Box) -> Box:
    """pyramid_down<6>::rect_down then the conversion back to a rectangle (lround).

    point_down is (p - 0.3) * (5/6) (image_pyramid.h, class pyramid_down).
    """
    ratio = (6 - 1.0) / 6
    left, top, right, bottom = box
    return (
        _lround((left - 0.3) * ratio), _lround((top - 0.3) * ratio),
        _lround((right - 0.3) * ratio), _lround((bottom - 0.3) * ratio),
    )


def _width(box: Box) -> int:
    return 0 if box[2] < box[0] else box[2] - box[0] + 1


def _height(box: Box) -> int:
    return 0 if box[3] < box[1] else box[3] - box[1] + 1


def pyramid_level_count(nr: int, nc: int, params: HogFileParams) -> int:
    """How many levels create_fhog_pyramid scans (scan_fhog_pyramid.h 575-585).

    It walks rect_down from the image rectangle, not the real level sizes, and stops when the
    rectangle is narrower or shorter than the minimum layer or max_pyramid_levels is reached.
    """
    rect: Box = (0, 0, nc - 1, nr - 1)
    levels = 0
    while True:
        rect = _rect_down6(rect)
        levels += 1
        if not (
            _width(rect) >= params.min_layer_width
            and _height(rect) >= params.min_layer_height
            and levels < params.max_pyramid_levels
        ):
            return levels


def _area(box: Box) -> int:
    return _width(box) * _height(box)


def _intersect(a: Box, b: Box) -> Box:
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


def _union(a: Box, b: Box) -> Box:
    """dlib's rectangle operator+: the smallest rectangle holding both (not the area union)."""
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def boxes_overlap(a: Box, b: Box, iou_thresh: float, covered_thresh: float) -> bool:
    """test_box_overlap::operator() (box_overlap_testing.h), in the same double arithmetic."""
    inner = float(_area(_intersect(a, b)))
    if inner == 0:
        return False
    outer = float(_area(_union(a, b)))
    return (
        inner / outer > iou_thresh
        or inner / _area(a) > covered_thresh
        or inner / _area(b) > covered_thresh
    )


# ----------------------------------------------------------------------------------------------
# dlib's RGB bilinear resize_image (image_transforms/interpolation.h 808-925), row by row


@dataclass(frozen=True)
class _ColumnPlan:
    """Where each output column samples its input row, as resize_image computes it.

    Columns [0, simd) come from the simd4f loop: four float32 lanes started at
    float(x + j*x_scale) (x = -4*x_scale in double) and advanced by float(4*x_scale) in float32,
    left = truncation, lr_frac = x - left in float32; the loop stops at the first group whose
    last lane's right neighbour is outside the input. The remaining columns use the scalar loop
    in double.
    """

    left: I64
    lr: F32
    inv_lr: F32
    # the same per channel, for rows flattened to (columns*3): index of the left sample
    flat_left: I64
    flat_lr: F32
    flat_inv_lr: F32
    tail_left: I64
    tail_right: I64
    tail_lr: npt.NDArray[np.float64]


def _column_plan(in_nc: int, out_nc: int) -> _ColumnPlan:
    x_scale = (in_nc - 1) / max(out_nc - 1, 1)
    x = -4 * x_scale
    groups = out_nc // 4 + 2
    seq = np.empty((groups + 1, 4), dtype=np.float32)
    seq[0] = np.array([x, x + x_scale, x + 2 * x_scale, x + 3 * x_scale]).astype(np.float32)
    seq[1:] = np.float32(4 * x_scale)
    lanes = np.add.accumulate(seq, axis=0, dtype=np.float32)[1:]
    left = lanes.astype(np.int32)
    outside = np.nonzero(left[:, 3] + 1 >= in_nc)[0]
    stop = int(outside[0]) if outside.size else groups
    simd = 4 * stop
    if simd > out_nc:  # dlib would write past the row; never seen for pyramid sizes
        raise ValueError(f"unsupported resize {in_nc}->{out_nc}")
    lr = (lanes[:stop] - left[:stop].astype(np.float32)).reshape(-1)
    tail_left, tail_lr = [], []
    xd = -x_scale + simd * x_scale
    for _ in range(simd, out_nc):
        xd += x_scale
        lo = math.floor(xd)
        tail_left.append(lo)
        tail_lr.append(xd - lo)
    tl = np.array(tail_left, dtype=np.int64)
    lefts = left[:stop].reshape(-1).astype(np.int64)
    inv_lr = (np.float32(1) - lr).astype(np.float32)
    return _ColumnPlan(
        left=lefts,
        lr=lr,
        inv_lr=inv_lr,
        flat_left=(lefts[:, None] * 3 + np.arange(3)).reshape(-1),
        flat_lr=np.repeat(lr, 3),
        flat_inv_lr=np.repeat(inv_lr, 3),
        tail_left=tl,
        tail_right=np.minimum(tl + 1, in_nc - 1),
        tail_lr=np.array(tail_lr, dtype=np.float64),
    )


def _row_plan(in_nr: int, out_nr: int) -> tuple[I64, I64, npt.NDArray[np.float64]]:
    """(top, bottom, tb_frac) per output row: y starts at -y_scale and adds y_scale (double)."""
    y_scale = (in_nr - 1) / max(out_nr - 1, 1)
    tops = np.empty(out_nr, dtype=np.int64)
    fracs = np.empty(out_nr, dtype=np.float64)
    y = -y_scale
    for r in range(out_nr):
        y += y_scale
        top = math.floor(y)
        tops[r] = top
        fracs[r] = y - top
    return tops, np.minimum(tops + 1, in_nr - 1), fracs


def _resize_rows(
    top_rows: U8, bottom_rows: U8, fracs: npt.NDArray[np.float64], plan: _ColumnPlan, out: U8
) -> None:
    """Output rows of resize_image into `out`, given each output row's top and bottom input
    rows; the float32 products and sums in the order the simd4f code does them:
    ((tlf*tl + trf*tr) + blf*bl) + brf*br, then truncation (_mm_cvttps_epi32)."""
    n = top_rows.shape[0]
    simd = plan.left.size
    flat_out = out.reshape(n, -1)
    if simd:
        top_flat, bottom_flat = top_rows.reshape(n, -1), bottom_rows.reshape(n, -1)
        tb = fracs.astype(np.float32)[:, None]
        inv_tb = (1 - fracs).astype(np.float32)[:, None]
        left, right = plan.flat_left, plan.flat_left + 3
        acc = np.empty((n, left.size), dtype=np.float32)
        tmp = np.empty_like(acc)
        weight = np.empty_like(acc)
        np.multiply(inv_tb, plan.flat_inv_lr[None], out=weight)
        np.multiply(weight, np.take(top_flat, left, axis=1), out=acc)
        np.multiply(inv_tb, plan.flat_lr[None], out=weight)
        np.multiply(weight, np.take(top_flat, right, axis=1), out=tmp)
        acc += tmp
        np.multiply(tb, plan.flat_inv_lr[None], out=weight)
        np.multiply(weight, np.take(bottom_flat, left, axis=1), out=tmp)
        acc += tmp
        np.multiply(tb, plan.flat_lr[None], out=weight)
        np.multiply(weight, np.take(bottom_flat, right, axis=1), out=tmp)
        acc += tmp
        flat_out[:, : left.size] = acc.astype(np.int32)
    if plan.tail_left.size:
        t = fracs[:, None, None]
        f = plan.tail_lr[None, :, None]
        tl = top_rows[:, plan.tail_left].astype(np.float64)
        tr = top_rows[:, plan.tail_right].astype(np.float64)
        bl = bottom_rows[:, plan.tail_left].astype(np.float64)
        br = bottom_rows[:, plan.tail_right].astype(np.float64)
        value = (1 - t) * ((1 - f) * tl + f * tr) + t * ((1 - f) * bl + f * br)
        out[:, simd:] = value.astype(np.uint8)


def resize_rgb(img: U8, out_nr: int, out_nc: int) -> U8:
    """The whole of dlib's resize_image for an RGB image (used by the tests)."""
    tops, bottoms, fracs = _row_plan(img.shape[0], out_nr)
    plan = _column_plan(img.shape[1], out_nc)
    out = np.empty((out_nr, out_nc, 3), dtype=np.uint8)
    for start in range(0, out_nr, _ROW_CHUNK):
        stop = min(start + _ROW_CHUNK, out_nr)
        _resize_rows(img[tops[start:stop]], img[bottoms[start:stop]], fracs[start:stop], plan,
                     out[start:stop])
    return out


# ----------------------------------------------------------------------------------------------
# Streamed levels


class _FrameRows:
    """The input frame as a row source: every row is there from the start."""

    def __init__(self, img: U8) -> None:
        self.img = img
        self.nr, self.nc = img.shape[0], img.shape[1]
        self.lo, self.hi = 0, self.nr

    def rows(self, start: int, stop: int) -> U8:
        return self.img[start:stop]

    def take(self, index: I64) -> U8:
        return self.img[index]

    def release(self, upto: int) -> None:
        pass


class _ResizedRows:
    """A level computed from its parent a few rows at a time, holding only the rows still
    needed (by the strip scanner of this level and by the next level's resize)."""

    def __init__(self, parent: _FrameRows | _ResizedRows, out_nr: int, out_nc: int) -> None:
        self.parent = parent
        self.nr, self.nc = out_nr, out_nc
        self.tops, self.bottoms, self.fracs = _row_plan(parent.nr, out_nr)
        self.plan = _column_plan(parent.nc, out_nc)
        self.lo = self.hi = 0
        self.buf: U8 = np.empty((0, out_nc, 3), dtype=np.uint8)
        # first rows still needed by a scanner of this level / by the next level's resize
        self.keep_for_scan = out_nr
        self.keep_for_child = out_nr
        if isinstance(parent, _ResizedRows):
            parent.keep_for_child = 0

    def rows(self, start: int, stop: int) -> U8:
        assert self.lo <= start and stop <= self.hi, (start, stop, self.lo, self.hi)
        return self.buf[start - self.lo : stop - self.lo]

    def take(self, index: I64) -> U8:
        return self.buf[index - self.lo]

    def advance(self, limit: int) -> bool:
        """Compute up to `limit` more rows from what the parent holds; True if any."""
        available = int(np.searchsorted(self.bottoms, self.parent.hi, side="left"))
        stop = min(available, self.hi + limit, self.nr)
        if stop <= self.hi:
            return False
        self._make_room(stop - self.hi)
        for start in range(self.hi, stop, _ROW_CHUNK):
            end = min(start + _ROW_CHUNK, stop)
            _resize_rows(
                self.parent.take(self.tops[start:end]),
                self.parent.take(self.bottoms[start:end]),
                self.fracs[start:end],
                self.plan,
                self.buf[start - self.lo : end - self.lo],
            )
        self.hi = stop
        next_top = int(self.tops[stop]) if stop < self.nr else self.parent.nr
        self.parent.release(next_top)
        return True

    def _make_room(self, count: int) -> None:
        """Drop the rows nobody needs any more and make room for `count` more rows: compact in
        place while they fit, grow (rarely: only the first strips) when they do not."""
        keep = min(max(min(self.keep_for_scan, self.keep_for_child), self.lo), self.hi)
        held = self.hi - keep
        if held + count > self.buf.shape[0]:
            grown = np.empty((held + count + _ROW_CHUNK, self.nc, 3), dtype=np.uint8)
            grown[:held] = self.buf[keep - self.lo : self.hi - self.lo]
            self.buf = grown
        elif self.hi - self.lo + count > self.buf.shape[0]:
            self.buf[:held] = self.buf[keep - self.lo : self.hi - self.lo]  # numpy handles overlap
        else:
            return
        self.lo = keep

    def release(self, upto: int) -> None:
        self.keep_for_child = upto


# ----------------------------------------------------------------------------------------------
# Strip scanning


Detection = tuple[float, int, Box]  # (confidence, weight index, box in frame coordinates)


class _LevelScanner:
    """Scans one pyramid level in full-width strips and keeps the exactly-found windows.

    Why the ownership rule: extract_fhog_features skips the first and last pixel row of its
    image (fhog.h 817-821: y from 1 to visible_nr-1) and each HOG row mixes three cell rows
    (fhog.h 959-1002), so in a strip starting at a multiple of 8 the HOG rows 1..hog_nr-2 equal
    the whole level's and rows 0 and hog_nr-1 do not (unless they lie on the level's own top or
    bottom). A window at saliency row r covers HOG rows r-fh+1..r (spatial_filtering.h
    first_row = fh/2, fhog padding offset (fh-1)/2), and its box bottom is 8r + 13 for the
    frontal detector (fhog_to_image, fhog.h 1209-1236). A strip owns the rows r from
    (its first cell row + fh) up to the next strip's, which needs consecutive strips to start
    strip_rows - cell*(fh+3) pixels apart.
    """

    def __init__(
        self,
        source: _FrameRows | _ResizedRows,
        level: int,
        strip_rows: int,
        params: HogFileParams,
        emit: Callable[[int, int, int, list[Any], list[float], list[int]], None],
    ) -> None:
        cell = params.cell_size
        self.source, self.level, self.emit = source, level, emit
        # the filter height in cells (compute_fhog_window_size) and the detection box inside it
        self.fh = params.window_height // cell + 2 * params.padding
        self.det_h = self.fh - 2 * params.padding
        self.cell = cell
        self.strip_rows = strip_rows
        self.step = strip_rows - cell * (self.fh + 3)
        if strip_rows % cell or self.step <= 0:
            least = cell * (self.fh + 3)
            raise ValueError(f"strip_rows must be a multiple of {cell} above {least}")
        self.start = 0
        self.done = False
        if isinstance(source, _ResizedRows):
            source.keep_for_scan = 0  # this level's rows are now needed by its scanner

    def scan_ready(self, detector: Any, adjust_threshold: float) -> None:
        while not self.done:
            stop = min(self.start + self.strip_rows, self.source.nr)
            if stop > self.source.hi:
                return
            strip = self.source.rows(self.start, stop)
            rects, scores, indices = detector.run(strip, 0, adjust_threshold)
            last = stop == self.source.nr
            own_lo = -math.inf if self.start == 0 else self.start // self.cell + self.fh
            own_hi = math.inf if last else (self.start + self.step) // self.cell + self.fh
            kept: list[Any] = []
            kept_scores: list[float] = []
            kept_indices: list[int] = []
            for rect, score, index in zip(rects, scores, indices, strict=True):
                r = self._saliency_row(rect.bottom()) + self.start // self.cell
                if own_lo <= r < own_hi:
                    kept.append(rect)
                    kept_scores.append(score)
                    kept_indices.append(index)
            self.emit(self.level, self.start, stop, kept, kept_scores, kept_indices)
            if last:
                self.done = True
                self.start = self.source.nr
            else:
                self.start += self.step
            if isinstance(self.source, _ResizedRows):
                self.source.keep_for_scan = self.start

    def _saliency_row(self, bottom: int) -> int:
        """Invert fhog_to_image for a box bottom (fhog.h 1209-1236, non-negative branch):
        bottom = (b + 1 - (fh-1)//2) * cell + 1 + cell//2, where b = r - det_h//2 + det_h - 1
        is the window's last feature row (centered_rect, rectangle.h 363-376)."""
        cell, fh = self.cell, self.fh
        value = bottom - 1 - cell // 2
        if value < 0 or value % cell:
            raise AssertionError(f"unexpected box bottom {bottom}")
        b = value // cell - 1 + (fh - 1) // 2
        det_h = self.det_h
        return b - (det_h - 1 - det_h // 2)


# ----------------------------------------------------------------------------------------------
# The detector


class TiledHogDetector:
    """A drop-in for `fhog_object_detector.run` / `__call__` that streams the pyramid.

    Build it from the saved detector file (auditor/faces/hogfile.py saves one); it writes the
    one-level, no-suppression variant to a temporary folder and loads it (dlib keeps no
    reference to the file once loaded), plus the original for non-RGB images.
    """

    def __init__(self, saved: str | os.PathLike[str], strip_rows: int = DEFAULT_STRIP_ROWS):
        import dlib

        data = Path(saved).read_bytes()
        self.params = parse_hog_file(data)
        if self.params.padding != 0:
            # _saliency_row assumes det box = filter; other trained detectors: not supported
            raise ValueError("only detectors trained with padding 0 (the frontal face one)")
        self.strip_rows = strip_rows
        self.whole = dlib.fhog_object_detector(str(saved))
        with tempfile.TemporaryDirectory() as scratch:
            variant = Path(scratch) / "one_level.svm"
            variant.write_bytes(one_level_variant(data, self.params))
            self.one_level = dlib.fhog_object_detector(str(variant))
        self._down6 = dlib.pyramid_down(6)
        self._down2 = dlib.pyramid_down(2)
        self._drect = dlib.drectangle

    def __call__(self, img: npt.NDArray[Any], upsample_num_times: int = 0) -> Any:
        return self.run(img, upsample_num_times)[0]

    def run(
        self, img: npt.NDArray[Any], upsample_num_times: int = 0, adjust_threshold: float = 0.0
    ) -> tuple[Any, list[float], list[int]]:
        """(dlib.rectangles, scores, weight indices), as fhog_object_detector.run returns."""
        import dlib

        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            rects, scores, indices = self.whole.run(img, upsample_num_times, adjust_threshold)
            return rects, list(scores), list(indices)
        img = np.ascontiguousarray(img)
        dets = self.detections(img, upsample_num_times, adjust_threshold)
        final: list[Detection] = []
        p = self.params
        for det in dets:
            if any(boxes_overlap(kept[2], det[2], p.iou_thresh, p.percent_covered_thresh)
                   for kept in final):
                continue
            final.append(det)
        out = dlib.rectangles()
        for _, _, (left, top, right, bottom) in final:
            out.append(dlib.rectangle(left, top, right, bottom))
        return out, [d[0] for d in final], [d[1] for d in final]

    def detections(
        self, img: U8, upsample_num_times: int, adjust_threshold: float
    ) -> list[Detection]:
        """Every detection of every weight vector on every level before suppression, in frame
        coordinates, sorted by confidence (descending) as object_detector::operator() sorts
        them (object_detector.h 427-462)."""
        source: _FrameRows | _ResizedRows = _FrameRows(img)
        chain: list[_ResizedRows] = []
        for _ in range(upsample_num_times):
            # pyramid_up (interpolation.h 1548-1577): size = pyramid_down<2>::rect_up of the
            # image rectangle + 1, i.e. (2*nr + 1, 2*nc + 2), then resize_image.
            nr, nc = source.nr, source.nc
            up_rect = (_lround(2.5), _lround(1.5), _lround((nc - 1 + 1.25) * 2),
                       _lround((nr - 1 + 0.75) * 2))
            nxt = _ResizedRows(source, up_rect[3] + 1, up_rect[2] + 1)
            chain.append(nxt)
            source = nxt
        levels = pyramid_level_count(source.nr, source.nc, self.params)
        level_sources = [source]
        for _ in range(1, levels):
            nr, nc = level_sources[-1].nr, level_sources[-1].nc
            # pyramid_down<6>::operator(): lround(((N-1)*nr)/N) of an integer division
            nxt = _ResizedRows(level_sources[-1], (5 * nr) // 6, (5 * nc) // 6)
            chain.append(nxt)
            level_sources.append(nxt)

        found: list[Detection] = []

        def emit(level: int, start: int, stop: int, rects: list[Any], scores: list[float],
                 indices: list[int]) -> None:
            for rect, score, index in zip(rects, scores, indices, strict=True):
                found.append((score, index, self._to_frame(rect, start, level,
                                                           upsample_num_times)))

        scanners = [
            _LevelScanner(src, level, self.strip_rows, self.params, emit)
            for level, src in enumerate(level_sources)
        ]
        by_source = {id(s.source): s for s in scanners}
        if isinstance(source, _FrameRows):
            scanners[0].scan_ready(self.one_level, adjust_threshold)
        while not all(stage.hi == stage.nr for stage in chain):
            for i, stage in enumerate(chain):
                limit = _ROW_CHUNK * 2 if i == 0 else stage.nr
                stage.advance(limit)
                scanner = by_source.get(id(stage))
                if scanner is not None:
                    scanner.scan_ready(self.one_level, adjust_threshold)
        for scanner in scanners:
            scanner.scan_ready(self.one_level, adjust_threshold)
            assert scanner.done
        found.sort(key=lambda det: det[0], reverse=True)
        return found

    def _to_frame(self, rect: Any, start: int, level: int, upsample_num_times: int) -> Box:
        """Strip box -> level box (shift by the strip's first row, a multiple of the cell, so
        fhog_to_image's sign-dependent half-cell offset is unchanged because a kept box's top is
        >= 0 in both) -> level-0 box (rect_up(rect, level), scan_fhog_pyramid.h 784-786, then
        rectangle's lround) -> frame box (pyramid_down<2>::rect_down(rect, upsample), the
        Python binding's simple_object_detector_py.h run_detector_with_upscale1)."""
        left, top = rect.left(), rect.top() + start
        right, bottom = rect.right(), rect.bottom() + start
        if start and rect.top() < 0:
            raise AssertionError("a kept box reaches above its strip")
        if level:
            up = self._down6.rect_up(self._drect(left, top, right, bottom), level)
            left, top = _lround(up.left()), _lround(up.top())
            right, bottom = _lround(up.right()), _lround(up.bottom())
        if upsample_num_times:
            down = self._down2.rect_down(self._drect(left, top, right, bottom),
                                         upsample_num_times)
            left, top = _lround(down.left()), _lround(down.top())
            right, bottom = _lround(down.right()), _lround(down.bottom())
        return (left, top, right, bottom)
