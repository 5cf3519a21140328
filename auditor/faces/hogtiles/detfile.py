"""The saved HOG detector file: read its scanner and overlap fields, and write the one-level,
no-suppression variant the strip scan runs (dlib/serialize.h, object_detector.h,
scan_fhog_pyramid.h)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from auditor.faces.dlibnet import _Reader

# ----------------------------------------------------------------------------------------------
# The serialized detector (dlib/serialize.h, object_detector.h, scan_fhog_pyramid.h)


def _pack_int(value: int) -> bytes:
    """One integer in dlib's compact form, as serialize.h's pack_int writes it (a control
    byte with the byte count and the sign, then the magnitude little-endian; `dlibnet` reads
    it)."""
    magnitude = abs(value)
    body = magnitude.to_bytes(max(1, (magnitude.bit_length() + 7) // 8), "little")
    return bytes([len(body) | (0x80 if value < 0 else 0)]) + body


def pack_double(value: float) -> bytes:
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
    r = _Reader(data)
    version, scanner_version = r.read_int(), r.read_int()
    if version != 2 or scanner_version != 1:
        raise ValueError(f"unsupported detector file (versions {version}, {scanner_version})")
    r.read_int()  # feats: max_size
    if r.read_int() != 0:
        raise ValueError("detector file holds a loaded feature pyramid")
    fields = [r.read_int() for _ in range(4)]  # cell_size, padding, window width and height
    levels_start = r.pos
    max_levels = r.read_int()
    levels_span = (levels_start, r.pos)
    min_w, min_h = r.read_int(), r.read_int()
    r.read_float()  # nuclear norm regularization strength
    r.read_int()  # dims
    overlap_start = r.pos
    iou, covered = r.read_float(), r.read_float()
    overlap_span = (overlap_start, r.pos)
    num_detectors = r.read_int()
    cell_size, padding, window_width, window_height = fields
    return HogFileParams(
        cell_size,
        padding,
        window_width,
        window_height,
        max_levels,
        min_w,
        min_h,
        iou,
        covered,
        num_detectors,
        levels_span,
        overlap_span,
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
        data[:lo] + _pack_int(1) + data[hi:olo] + pack_double(1.0) + pack_double(1.0) + data[ohi:]
    )
