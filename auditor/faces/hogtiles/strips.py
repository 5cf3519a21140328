"""The streamed pyramid and the strip scanner: each level is computed a few rows at a time
from the level above and scanned in full-width strips that own only the windows whose HOG
features equal the whole level's."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from auditor.faces.hogtiles.detfile import HogFileParams
from auditor.faces.hogtiles.geometry import I64, U8, Box
from auditor.faces.hogtiles.resize import (
    ROW_CHUNK,
    ROW_PIXELS,
    ColumnPlan,
    column_plan,
    resize_rows,
    row_plan,
    source_span,
    window_plan,
)

DEFAULT_STRIP_ROWS = 512


# ----------------------------------------------------------------------------------------------
# Streamed levels


class FrameRows:
    """The input frame as a row source: every row is there from the start. `cols` is the
    window [c0, c1) of columns a band reads (the whole width by default)."""

    def __init__(self, img: U8, cols: tuple[int, int] | None = None) -> None:
        self.img = img
        self.nr, self.nc = int(img.shape[0]), int(img.shape[1])
        self.c0, self.c1 = cols or (0, self.nc)
        self.lo, self.hi = 0, self.nr

    def rows(self, start: int, stop: int) -> U8:
        return self.img[start:stop, self.c0 : self.c1]

    def take(self, index: I64) -> U8:
        return self.img[index, self.c0 : self.c1]

    def release(self, upto: int) -> None:
        pass


@dataclass(frozen=True)
class ResizePlan:
    """Where every row and column of a level samples its parent (`resize.row_plan`,
    `resize.column_plan`): computed once per frame, shared by the bands."""

    nr: int
    nc: int
    rows: tuple[I64, I64, npt.NDArray[np.float64]]
    cols: ColumnPlan

    @classmethod
    def of(cls, in_nr: int, in_nc: int, out_nr: int, out_nc: int) -> ResizePlan:
        return cls(out_nr, out_nc, row_plan(in_nr, out_nr), column_plan(in_nc, out_nc))


class ResizedRows:
    """A level (or the columns [c0, c1) of it that a band needs) computed from its parent a
    few rows at a time, holding only the rows still needed (by the strip scanner of this
    level and by the next level's resize)."""

    def __init__(
        self, parent: FrameRows | ResizedRows, plan: ResizePlan, cols: tuple[int, int] | None = None
    ) -> None:
        self.parent = parent
        self.nr, self.nc = plan.nr, plan.nc
        self.c0, self.c1 = cols or (0, plan.nc)
        self.tops, self.bottoms, self.fracs = plan.rows
        lo, hi = source_span(plan.cols, self.c0, self.c1)
        if lo < parent.c0 or hi > parent.c1:
            window = f"{parent.c0}..{parent.c1}"
            raise AssertionError(f"columns {lo}..{hi} outside the parent's {window}")
        self.plan = window_plan(plan.cols, self.c0, self.c1, parent.c0)
        width = self.c1 - self.c0
        # rows per numpy pass: the float temporaries stay ~ROW_PIXELS pixels whatever the width
        self.chunk = max(4, min(ROW_CHUNK, ROW_PIXELS // max(width, 1)))
        self.lo = self.hi = 0
        self.buf: U8 = np.empty((0, width, 3), dtype=np.uint8)
        # first rows still needed by a scanner of this level / by the next level's resize
        self.keep_for_scan = self.nr
        self.keep_for_child = self.nr
        if isinstance(parent, ResizedRows):
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
        for start in range(self.hi, stop, self.chunk):
            end = min(start + self.chunk, stop)
            resize_rows(
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
            grown = np.empty((held + count + ROW_CHUNK, self.c1 - self.c0, 3), dtype=np.uint8)
            grown[:held] = self.buf[keep - self.lo : self.hi - self.lo]
            self.buf = grown
        elif self.hi - self.lo + count > self.buf.shape[0]:
            self.buf[:held] = self.buf[keep - self.lo : self.hi - self.lo]  # numpy handles overlap
        else:
            return
        self.lo = keep

    def release(self, upto: int) -> None:
        self.keep_for_child = upto


class StoredRows(ResizedRows):
    """A band's columns of the first level too narrow to split (`bands.Bands.store`), written
    into the one array of that level as they are computed, then let go."""

    def __init__(
        self, parent: FrameRows | ResizedRows, plan: ResizePlan, cols: tuple[int, int], into: U8
    ) -> None:
        super().__init__(parent, plan, cols)
        self.into = into

    def advance(self, limit: int) -> bool:
        before = self.hi
        if not super().advance(limit):
            return False
        self.into[before : self.hi, self.c0 : self.c1] = self.rows(before, self.hi)
        self.keep_for_scan = self.keep_for_child = self.hi
        return True


# ----------------------------------------------------------------------------------------------
# Strip scanning


Detection = tuple[float, int, Box]  # (confidence, weight index, box in frame coordinates)
#: What a scanner hands on: (level, top row, left column of the scanned piece, rects, scores,
#: weight indices), the rects in the piece's coordinates.
Emit = Callable[[int, int, int, list[Any], list[float], list[int]], None]


class LevelScanner:
    """Scans one pyramid level, or one column piece [left, right) of it, in strips and keeps
    the exactly-found windows.

    Why the ownership rule: extract_fhog_features skips the first and last pixel row of its
    image (fhog.h 817-821: y from 1 to visible_nr-1) and each HOG row mixes three cell rows
    (fhog.h 959-1002), so in a strip starting at a multiple of 8 the HOG rows 1..hog_nr-2 equal
    the whole level's and rows 0 and hog_nr-1 do not (unless they lie on the level's own top or
    bottom). A window at saliency row r covers HOG rows r-fh+1..r (spatial_filtering.h
    first_row = fh/2, fhog padding offset (fh-1)/2), and its box bottom is 8r + 13 for the
    frontal detector (fhog_to_image, fhog.h 1209-1236). A strip owns the rows r from
    (its first cell row + fh) up to the next strip's, which needs consecutive strips to start
    strip_rows - cell*(fh+3) pixels apart.

    Columns follow the same rule (the x loop skips the first and last column the same way, and
    fhog's four-pixel SIMD groups start at column 1 of a piece as of the level, pieces starting
    on the cell grid): a piece owns the window columns from (its first cell column + fw) up to
    the next piece's, which starts cell*(fw+3) pixels before this one ends (`bands.pieces`).
    """

    def __init__(
        self,
        source: FrameRows | ResizedRows,
        level: int,
        strip_rows: int,
        params: HogFileParams,
        emit: Emit,
        piece: tuple[int, int] | None = None,
    ) -> None:
        cell = params.cell_size
        self.source, self.level, self.emit = source, level, emit
        # the filter's size in cells (compute_fhog_window_size) and the detection box inside it
        self.fh = params.window_height // cell + 2 * params.padding
        self.fw = params.window_width // cell + 2 * params.padding
        self.det_h = self.fh - 2 * params.padding
        self.det_w = self.fw - 2 * params.padding
        self.cell = cell
        self.strip_rows = strip_rows
        self.step = strip_rows - cell * (self.fh + 3)
        if strip_rows % cell or self.step <= 0:
            least = cell * (self.fh + 3)
            raise ValueError(f"strip_rows must be a multiple of {cell} above {least}")
        self.left, self.right = piece or (0, source.nc)
        if self.left % cell or not source.c0 <= self.left < self.right <= source.c1:
            raise ValueError(f"piece {self.left}..{self.right} is off the grid or the window")
        col_step = self.right - self.left - cell * (self.fw + 3)
        self.own_cols = (
            -math.inf if self.left == 0 else self.left // cell + self.fw,
            math.inf if self.right == source.nc else (self.left + col_step) // cell + self.fw,
        )
        self.start = 0
        self.done = False
        if isinstance(source, ResizedRows):
            source.keep_for_scan = 0  # this level's rows are now needed by its scanner

    def _strip(self, start: int, stop: int) -> U8:
        rows = self.source.rows(start, stop)
        if self.left == self.source.c0 and self.right == self.source.c1:
            return rows
        c0 = self.source.c0
        return np.ascontiguousarray(rows[:, self.left - c0 : self.right - c0])

    def scan_ready(self, detector: Any, adjust_threshold: float) -> None:
        while not self.done:
            stop = min(self.start + self.strip_rows, self.source.nr)
            if stop > self.source.hi:
                return
            strip = self._strip(self.start, stop)
            rects, scores, indices = detector.run(strip, 0, adjust_threshold)
            last = stop == self.source.nr
            own_lo = -math.inf if self.start == 0 else self.start // self.cell + self.fh
            own_hi = math.inf if last else (self.start + self.step) // self.cell + self.fh
            col_lo, col_hi = self.own_cols
            kept: list[Any] = []
            kept_scores: list[float] = []
            kept_indices: list[int] = []
            for rect, score, index in zip(rects, scores, indices, strict=True):
                r = self._saliency(rect.bottom(), self.fh, self.det_h) + self.start // self.cell
                c = self._saliency(rect.right(), self.fw, self.det_w) + self.left // self.cell
                if own_lo <= r < own_hi and col_lo <= c < col_hi:
                    kept.append(rect)
                    kept_scores.append(score)
                    kept_indices.append(index)
            self.emit(self.level, self.start, self.left, kept, kept_scores, kept_indices)
            if last:
                self.done = True
                self.start = self.source.nr
            else:
                self.start += self.step
            if isinstance(self.source, ResizedRows):
                self.source.keep_for_scan = self.start

    def _saliency(self, end: int, fsize: int, det: int) -> int:
        """Invert fhog_to_image for a box bottom (or right) (fhog.h 1209-1236, non-negative
        branch): end = (b + 1 - (f-1)//2) * cell + 1 + cell//2, where b = r - det//2 + det - 1
        is the window's last feature row (column) (centered_rect, rectangle.h 363-376)."""
        cell = self.cell
        value = end - 1 - cell // 2
        if value < 0 or value % cell:
            raise AssertionError(f"unexpected box edge {end}")
        b = value // cell - 1 + (fsize - 1) // 2
        return b - (det - 1 - det // 2)
