"""The MMOD network run over horizontal bands of the tiled pyramid, with the score map the
whole pyramid gives.

Why: the network's activations grow with the pyramid (its first layer alone is 16 floats per
two-by-two input pixels: ~480 MB for a 1080p frame at upsample 1, the process 1.9 GB). It is a
chain of convolutions with nothing global, so an output row depends only on a window of input
rows. A band of input rows that starts on a multiple of the chain's total stride computes the
same global output rows, shifted, and every output row whose window lies inside the band (or
reaches past an edge the band shares with the pyramid, where both pad with zeros) is exact.
`exact_rows` follows that window through each layer; `banded_scores` runs the network band by
band and keeps from each band only its exact rows, each row from exactly one band.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: A convolution along the rows: (kernel, stride, padding), dlib's and ONNX's meaning.
Conv = tuple[int, int, int]


def out_size(convs: Sequence[Conv], size: int) -> int:
    """Output rows (or columns) of the chain for `size` input rows (ONNX's floor formula)."""
    for kernel, stride, pad in convs:
        size = (size + 2 * pad - kernel) // stride + 1
    return size


def exact_rows(convs: Sequence[Conv], total: int, start: int, stop: int) -> tuple[int, int, int]:
    """For the input band [start, stop) of a pyramid of `total` rows (start a multiple of every
    stride product), (lo, hi, first): the global output rows [lo, hi) the band computes
    exactly, and the global output row of the band's own first output row."""
    first, rows, lo, hi = start, stop - start, start, stop
    for kernel, stride, pad in convs:
        if first % stride:
            raise ValueError(f"band start {start} is not on the stride grid")
        out_rows = (rows + 2 * pad - kernel) // stride + 1
        out_total = (total + 2 * pad - kernel) // stride + 1
        first //= stride
        # a window is exact when it lies in the exact rows, or past an edge both share
        new_lo = 0 if lo == 0 else -(-(lo + pad) // stride)
        new_hi = out_total if hi == total else (hi + pad - kernel) // stride + 1
        lo, hi = max(new_lo, first), min(new_hi, first + max(out_rows, 0), out_total)
        rows, total = out_rows, out_total
    return lo, max(hi, lo), first


def banded_scores(
    run: Any, pyramid: np.ndarray, convs: Sequence[Conv], band_rows: int
) -> np.ndarray:
    """`run(pyramid)` (N x 3 x rows x cols -> N x 1 x rows' x cols') computed band by band
    over the rows; the whole pyramid in one call when it has at most `band_rows` rows."""
    total = pyramid.shape[2]
    if total <= band_rows:
        return np.asarray(run(pyramid))
    step = 1
    for _, stride, _ in convs:
        step *= stride
    out_total = out_size(convs, total)
    # how many output rows an interior band loses at its top (the same for every such band)
    probe = step * (total // (2 * step))
    top_loss = exact_rows(convs, total, probe, probe + band_rows)[0] - probe // step
    out: np.ndarray | None = None
    done, start = 0, 0
    while done < out_total:
        stop = min(total, start + band_rows)
        lo, hi, first = exact_rows(convs, total, start, stop)
        if lo > done or hi <= done:
            raise ValueError(f"bands of {band_rows} rows are too small for this network")
        scores = np.asarray(run(pyramid[:, :, start:stop]))
        if out is None:
            out = np.empty((*scores.shape[:2], out_total, scores.shape[3]), scores.dtype)
        out[:, :, done:hi] = scores[:, :, done - first : hi - first]
        done = hi
        start = max(0, (done - top_loss) * step)
    assert out is not None
    return out
