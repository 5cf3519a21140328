"""The streamed pyramid and the strip scanner: each level is computed a few rows at a time
from the level above and scanned in full-width strips that own only the windows whose HOG
features equal the whole level's."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from auditor.faces.hogtiles.detfile import HogFileParams
from auditor.faces.hogtiles.geometry import I64, U8, Box
from auditor.faces.hogtiles.resize import ROW_CHUNK, ROW_PIXELS, column_plan, resize_rows, row_plan

DEFAULT_STRIP_ROWS = 512


# ----------------------------------------------------------------------------------------------
# Streamed levels


class FrameRows:
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


class ResizedRows:
    """A level computed from its parent a few rows at a time, holding only the rows still
    needed (by the strip scanner of this level and by the next level's resize)."""

    def __init__(self, parent: FrameRows | ResizedRows, out_nr: int, out_nc: int) -> None:
        self.parent = parent
        self.nr, self.nc = out_nr, out_nc
        self.tops, self.bottoms, self.fracs = row_plan(parent.nr, out_nr)
        self.plan = column_plan(parent.nc, out_nc)
        # rows per numpy pass: the float temporaries stay ~ROW_PIXELS pixels whatever the width
        self.chunk = max(4, min(ROW_CHUNK, ROW_PIXELS // max(out_nc, 1)))
        self.lo = self.hi = 0
        self.buf: U8 = np.empty((0, out_nc, 3), dtype=np.uint8)
        # first rows still needed by a scanner of this level / by the next level's resize
        self.keep_for_scan = out_nr
        self.keep_for_child = out_nr
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
            grown = np.empty((held + count + ROW_CHUNK, self.nc, 3), dtype=np.uint8)
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


class LevelScanner:
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
        source: FrameRows | ResizedRows,
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
        if isinstance(source, ResizedRows):
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
            if isinstance(self.source, ResizedRows):
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
