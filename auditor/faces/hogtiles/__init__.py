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

import functools
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from auditor.faces.hogtiles.bands import plan_bands
from auditor.faces.hogtiles.detfile import (
    HogFileParams,
    one_level_variant,
    pack_double,
    parse_hog_file,
)
from auditor.faces.hogtiles.geometry import U8, Box, boxes_overlap, lround, pyramid_level_count
from auditor.faces.hogtiles.resize import ROW_CHUNK, resize_rgb
from auditor.faces.hogtiles.strips import (
    DEFAULT_STRIP_ROWS,
    Detection,
    FrameRows,
    LevelScanner,
    ResizedRows,
    ResizePlan,
    StoredRows,
)

__all__ = [
    "DEFAULT_STRIP_ROWS",
    "HogFileParams",
    "TiledHogDetector",
    "pack_double",
    "one_level_variant",
    "parse_hog_file",
    "pyramid_level_count",
    "resize_rgb",
    "band_cols_for",
]


# ----------------------------------------------------------------------------------------------
# The detector


#: What the strips of all levels may hold at once: every level holds about one strip, and the
#: levels' widths sum to 6x the first's (5/6 per level), so a band's width follows from the
#: strip height. 24 MB keeps a worker under 256 MB at the pixel limit, square or twice as wide
#: (bench/RESULTS.md, "Strips in column bands").
LEVEL_BUFFER_BYTES = 24 << 20


def band_cols_for(strip_rows: int) -> int:
    """First-level columns a band may own: as wide as LEVEL_BUFFER_BYTES allows for strips
    `strip_rows` tall (2730 columns for 512-row strips: a 4K frame at upsample 1 is three
    bands)."""
    return max(1, LEVEL_BUFFER_BYTES // (6 * 3 * strip_rows))


class TiledHogDetector:
    """A drop-in for `fhog_object_detector.run` / `__call__` that streams the pyramid.

    Build it from the saved detector file (auditor/faces/hogfile.py saves one); it writes the
    one-level, no-suppression variant to a temporary folder and loads it (dlib keeps no
    reference to the file once loaded), plus the original for non-RGB images.
    """

    def __init__(
        self,
        saved: str | os.PathLike[str],
        strip_rows: int | None = None,
        band_cols: int | None = None,
    ):
        import dlib

        data = Path(saved).read_bytes()
        self.params = parse_hog_file(data)
        if self.params.padding != 0:
            # LevelScanner._saliency assumes det box = filter (other detectors: not supported)
            raise ValueError("only detectors trained with padding 0 (the frontal face one)")
        self.strip_rows = strip_rows
        self.band_cols = band_cols
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
            if any(
                boxes_overlap(kept[2], det[2], p.iou_thresh, p.percent_covered_thresh)
                for kept in final
            ):
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
        stages = self._stages(img.shape[0], img.shape[1], upsample_num_times)
        first_nc = stages[upsample_num_times - 1].nc if upsample_num_times else img.shape[1]
        rows = self.strip_rows or DEFAULT_STRIP_ROWS
        count = -(-first_nc // (self.band_cols or band_cols_for(rows)))
        bands = plan_bands(img.shape[1], stages, upsample_num_times, count, self.params)
        found: list[Detection] = []
        scan = functools.partial(
            self._scan_band, rows=rows, adjust_threshold=adjust_threshold, found=found,
            upsample_num_times=upsample_num_times,
        )  # fmt: skip
        if bands.store is None:
            scan(img, 0, stages, bands.passes[0].windows, bands.passes[0].scans)
        else:
            plan = stages[bands.store - 1]
            stored = np.empty((plan.nr, plan.nc, 3), np.uint8)
            for band in bands.passes:
                scan(img, 0, stages[: bands.store], band.windows, band.scans, stored)
            rest = stages[bands.store :]
            widths = [plan.nc] + [p.nc for p in rest]
            scan(stored, bands.store, rest, [(0, w) for w in widths], [(0, w) for w in widths])
        found.sort(key=lambda det: det[0], reverse=True)
        return found

    def _stages(self, nr: int, nc: int, upsample_num_times: int) -> list[ResizePlan]:
        """The resizes from the frame to the last pyramid level: the upsamplings, then the
        levels after the first."""
        stages: list[ResizePlan] = []
        for _ in range(upsample_num_times):
            # pyramid_up (interpolation.h 1548-1577): size = pyramid_down<2>::rect_up of the
            # image rectangle + 1, i.e. (2*nr + 1, 2*nc + 2), then resize_image.
            up_nc = lround((nc - 1 + 1.25) * 2) + 1
            up_nr = lround((nr - 1 + 0.75) * 2) + 1
            stages.append(ResizePlan.of(nr, nc, up_nr, up_nc))
            nr, nc = up_nr, up_nc
        for _ in range(1, pyramid_level_count(nr, nc, self.params)):
            # pyramid_down<6>::operator(): lround(((N-1)*nr)/N) of an integer division
            stages.append(ResizePlan.of(nr, nc, (5 * nr) // 6, (5 * nc) // 6))
            nr, nc = stages[-1].nr, stages[-1].nc
        return stages

    def _scan_band(
        self,
        top: U8,
        first: int,
        stages: list[ResizePlan],
        windows: Sequence[tuple[int, int]],
        scans: Sequence[tuple[int, int] | None],
        stored: U8 | None = None,
        *,
        rows: int,
        adjust_threshold: float,
        found: list[Detection],
        upsample_num_times: int,
    ) -> None:
        """One top-to-bottom pass: `top` is chain stage `first` (the frame, or the stored
        level), `stages` make the stages after it; the pass computes `windows[i]` of stage i
        a few rows at a time and scans `scans[i]` of it in strips; with `stored`, the last
        stage's window is written there instead."""

        def emit(
            level: int, row: int, col: int, rects: list[Any], scores: list[float],
            indices: list[int],
        ) -> None:  # fmt: skip
            for rect, score, index in zip(rects, scores, indices, strict=True):
                box = self._to_frame(rect, row, col, level, upsample_num_times)
                found.append((score, index, box))

        sources: list[FrameRows | ResizedRows] = [FrameRows(top, windows[0])]
        chain: list[ResizedRows] = []
        for i, (plan, window) in enumerate(zip(stages, windows[1:], strict=True)):
            stage = (StoredRows(sources[-1], plan, window, stored)
                     if stored is not None and i == len(stages) - 1
                     else ResizedRows(sources[-1], plan, window))  # fmt: skip
            chain.append(stage)
            sources.append(stage)
        scanners = {
            id(src): LevelScanner(
                src, first + i - upsample_num_times, rows, self.params, emit, piece
            )
            for i, (src, piece) in enumerate(zip(sources, scans, strict=True))
            if piece is not None
        }
        head = scanners.get(id(sources[0]))
        if head is not None:
            head.scan_ready(self.one_level, adjust_threshold)
        while not all(stage.hi == stage.nr for stage in chain):
            for i, stage in enumerate(chain):
                stage.advance(ROW_CHUNK * 2 if i == 0 else stage.nr)
                scanner = scanners.get(id(stage))
                if scanner is not None:
                    scanner.scan_ready(self.one_level, adjust_threshold)
        for scanner in scanners.values():
            scanner.scan_ready(self.one_level, adjust_threshold)
            assert scanner.done

    def _to_frame(
        self, rect: Any, start: int, left0: int, level: int, upsample_num_times: int
    ) -> Box:
        """Strip box -> level box (shift by the strip's first row and the piece's first column,
        multiples of the cell, so fhog_to_image's sign-dependent half-cell offset is unchanged
        because a kept box's top and left are >= 0 in both) -> level-0 box (rect_up(rect,
        level), scan_fhog_pyramid.h 784-786, then rectangle's lround) -> frame box
        (pyramid_down<2>::rect_down(rect, upsample), the Python binding's
        simple_object_detector_py.h run_detector_with_upscale1)."""
        left, top = rect.left() + left0, rect.top() + start
        right, bottom = rect.right() + left0, rect.bottom() + start
        if (start and rect.top() < 0) or (left0 and rect.left() < 0):
            raise AssertionError("a kept box reaches outside its strip")
        if level:
            up = self._down6.rect_up(self._drect(left, top, right, bottom), level)
            left, top = lround(up.left()), lround(up.top())
            right, bottom = lround(up.right()), lround(up.bottom())
        if upsample_num_times:
            down = self._down2.rect_down(self._drect(left, top, right, bottom), upsample_num_times)
            left, top = lround(down.left()), lround(down.top())
            right, bottom = lround(down.right()), lround(down.bottom())
        return (left, top, right, bottom)
