"""The strip scan's array types and dlib's pyramid level count, copied exactly: the scan must
count levels as dlib does (image_pyramid.h); the rectangle arithmetic is `faces.dlibgeom`."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from auditor.faces.dlibgeom import Box, boxes_overlap, height, lround, width
from auditor.faces.hogtiles.detfile import HogFileParams

__all__ = ["F32", "I64", "U8", "Box", "boxes_overlap", "lround", "pyramid_level_count"]

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]


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
            width(rect) >= params.min_layer_width
            and height(rect) >= params.min_layer_height
            and levels < params.max_pyramid_levels
        ):
            return levels
