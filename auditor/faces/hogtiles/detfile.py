"""The saved HOG detector file: read its scanner and overlap fields, and write the one-level,
no-suppression variant the strip scan runs (dlib/serialize.h, object_detector.h,
scan_fhog_pyramid.h)."""

from __future__ import annotations

import math
from dataclasses import dataclass

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
