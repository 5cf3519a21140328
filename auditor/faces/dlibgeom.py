"""dlib's rectangle arithmetic, copied exactly, for the two detectors that redo dlib's steps in
Python (the HOG strip scan, `hogtiles`, and the cnn on ONNX Runtime, `cnn_detector`): their
boxes and their non-max suppression must round and compare as dlib does
(geometry/rectangle.h, drectangle.h, image_processing/box_overlap_testing.h)."""

from __future__ import annotations

import math

#: A box as dlib's rectangle: (left, top, right, bottom), inclusive pixel coordinates.
Box = tuple[int, int, int, int]


def lround(x: float) -> int:
    """std::lround: nearest integer, halves away from zero (drectangle -> rectangle)."""
    down = math.floor(x)
    frac = x - down
    if frac > 0.5 or (frac == 0.5 and x > 0):
        return down + 1
    return down


def width(box: Box) -> int:
    return 0 if box[2] < box[0] else box[2] - box[0] + 1


def height(box: Box) -> int:
    return 0 if box[3] < box[1] else box[3] - box[1] + 1


def area(box: Box) -> int:
    return width(box) * height(box)


def intersect(a: Box, b: Box) -> Box:
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


def bounding(a: Box, b: Box) -> Box:
    """dlib's rectangle operator+: the smallest rectangle holding both (not the area union)."""
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def boxes_overlap(a: Box, b: Box, iou_thresh: float, covered_thresh: float) -> bool:
    """test_box_overlap::operator(): the intersection against the bounding rectangle of both,
    or against either box, in the same double arithmetic."""
    inner = float(area(intersect(a, b)))
    if inner == 0:
        return False
    return (
        inner / area(bounding(a, b)) > iou_thresh
        or inner / area(a) > covered_thresh
        or inner / area(b) > covered_thresh
    )
