"""dlib's rectangle arithmetic and pyramid level count, copied exactly: the strip scan must
map boxes and count levels as dlib does (geometry/drectangle.h, image_pyramid.h)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from auditor.faces.hogtiles.detfile import HogFileParams

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

# A box as dlib's rectangle: (left, top, right, bottom), inclusive pixel coordinates.
Box = tuple[int, int, int, int]


# ----------------------------------------------------------------------------------------------
# dlib's geometry (geometry/drectangle.h, image_transforms/image_pyramid.h)


def lround(x: float) -> int:
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
        lround((left - 0.3) * ratio),
        lround((top - 0.3) * ratio),
        lround((right - 0.3) * ratio),
        lround((bottom - 0.3) * ratio),
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
