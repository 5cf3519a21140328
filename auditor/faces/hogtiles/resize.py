"""dlib's RGB bilinear `resize_image`, row by row in numpy and byte-identical to dlib: the
pyramid levels are streamed in strips, which dlib's own resize cannot produce
(image_transforms/interpolation.h 808-925)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from auditor.faces.hogtiles.geometry import F32, I64, U8

ROW_CHUNK = 32  # rows of a level computed per numpy pass (bounds the float32 temporaries)
ROW_PIXELS = 1 << 17  # ... and at most about this many pixels per pass (wide frames)


# ----------------------------------------------------------------------------------------------
# dlib's RGB bilinear resize_image (image_transforms/interpolation.h 808-925), row by row


@dataclass(frozen=True)
class ColumnPlan:
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


def column_plan(in_nc: int, out_nc: int) -> ColumnPlan:
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
    tail = (tl, np.minimum(tl + 1, in_nc - 1), np.array(tail_lr, dtype=np.float64))
    return _make_plan(lefts, lr, inv_lr, *tail)


def _make_plan(
    left: I64, lr: F32, inv_lr: F32, tail_left: I64, tail_right: I64,
    tail_lr: npt.NDArray[np.float64],
) -> ColumnPlan:  # fmt: skip
    """The plan with its per-channel (flattened) copies of the SIMD columns' fields."""
    return ColumnPlan(
        left=left,
        lr=lr,
        inv_lr=inv_lr,
        flat_left=(left[:, None] * 3 + np.arange(3)).reshape(-1),
        flat_lr=np.repeat(lr, 3),
        flat_inv_lr=np.repeat(inv_lr, 3),
        tail_left=tail_left,
        tail_right=tail_right,
        tail_lr=tail_lr,
    )


def window_plan(plan: ColumnPlan, c0: int, c1: int, p0: int) -> ColumnPlan:
    """The plan of output columns [c0, c1) only, reading a parent window that starts at input
    column p0. The lanes' values are the whole row's (dlib accumulates them from column 0),
    so a window of a level is computed exactly as the same columns of the whole level."""
    simd = plan.left.size
    a, b = min(c0, simd), min(c1, simd)
    ta, tb = max(c0, simd) - simd, max(c1, simd) - simd
    return _make_plan(
        plan.left[a:b] - p0,
        plan.lr[a:b],
        plan.inv_lr[a:b],
        plan.tail_left[ta:tb] - p0,
        plan.tail_right[ta:tb] - p0,
        plan.tail_lr[ta:tb],
    )


def source_span(plan: ColumnPlan, c0: int, c1: int) -> tuple[int, int]:
    """The input columns [lo, hi) that output columns [c0, c1) read (both neighbours)."""
    simd = plan.left.size
    lo, hi = [], []
    if c0 < simd:
        lo.append(int(plan.left[c0]))
        hi.append(int(plan.left[min(c1, simd) - 1]) + 2)
    if c1 > simd:
        lo.append(int(plan.tail_left[max(c0, simd) - simd]))
        hi.append(int(plan.tail_right[c1 - 1 - simd]) + 1)
    return min(lo), max(hi)


def row_plan(in_nr: int, out_nr: int) -> tuple[I64, I64, npt.NDArray[np.float64]]:
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


def resize_rows(
    top_rows: U8, bottom_rows: U8, fracs: npt.NDArray[np.float64], plan: ColumnPlan, out: U8
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
    tops, bottoms, fracs = row_plan(img.shape[0], out_nr)
    plan = column_plan(img.shape[1], out_nc)
    out = np.empty((out_nr, out_nc, 3), dtype=np.uint8)
    for start in range(0, out_nr, ROW_CHUNK):
        stop = min(start + ROW_CHUNK, out_nr)
        resize_rows(
            img[tops[start:stop]],
            img[bottoms[start:stop]],
            fracs[start:stop],
            plan,
            out[start:stop],
        )
    return out
