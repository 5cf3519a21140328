"""dlib's tiled image pyramid for the MMOD detector (`input_rgb_image_pyramid<pyramid_down<6>>`,
dnn/input.h), given to the network a few rows at a time.

Why: dlib builds the whole pyramid as one float32 array, 3 x 7,814 x 3,864 for a 1080p frame at
upsample 1 (345 MB). Its levels sit side by side in that array, each (but the first) a bilinear
resize of the one before it, so they cannot be made row by row in the order the network reads
them; but level 0, the largest third of the pyramid, is only the upsampled image as
(pixel - mean) / 256, and the zeros between the levels are nothing. `TiledPyramid` keeps the
uint8 upsampled image for level 0 and each later level in an array of its own (made through
dlib's own float `resize_image`, so every value is dlib's), writes a chunk of the tiled rows
only when the network asks for it, and lets each level go once the chunks have passed it. The
levels stacked under level 0 after level 1 are made again from the level above them when the
rows reach them, so at most two of them are held at once: 25 % less memory for one more
resize of a third of the pyramid.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np

from auditor.faces import dlibgeom as geom

Rect = tuple[int, int, int, int]  # left, top, right, bottom (dlib's inclusive rectangle)


def pyramid_rects(nr: int, nc: int, padding: int, outer: int) -> tuple[list[Rect], int, int]:
    """The level rectangles inside the tiled image, and its rows and cols."""
    if nr * nc == 0:
        return [], 0, 0
    rects: list[Rect] = [(0, 0, nc - 1, nr - 1)]
    while True:
        nr, nc = math.floor(5.0 / 6.0 * nr), math.floor(5.0 / 6.0 * nc)
        if nr * nc == 0 or nr < 5:
            break
        rects.append((0, 0, nc - 1, nr - 1))
    total_height = sum(geom.height(r) + padding for r in rects) - 2 * padding
    height = 0
    prev_width = 0
    first_w, first_h = geom.width(rects[0]), geom.height(rects[0])
    for r in rects:
        if geom.width(r) <= first_w - prev_width - padding and (height - first_h) * 2 >= (
            total_height - first_h
        ):
            break
        height += geom.height(r) + padding
        prev_width = geom.width(r)
    height -= padding
    width = first_w
    out_nr, out_nc = height + 2 * outer, width + 2 * outer
    y = outer
    i = 0
    while y < height + outer and i < len(rects):
        w, h = geom.width(rects[i]), geom.height(rects[i])
        rects[i] = (outer, y, outer + w - 1, y + h - 1)
        y += h + padding
        i += 1
    y -= padding
    while i < len(rects):
        p1 = (outer + width - 1, y - 1)
        br = (rects[i][2], rects[i][3])
        p2 = (p1[0] - br[0], p1[1] - br[1])
        rect = (min(p1[0], p2[0]), min(p1[1], p2[1]), max(p1[0], p2[0]), max(p1[1], p2[1]))
        if geom.area(geom.intersect(rects[0], rect)):
            break
        rects[i] = rect
        y -= geom.height(rect) + padding
        i += 1
    return rects[:i], out_nr, out_nc


class TiledPyramid:
    """The tiled pyramid of an RGB uint8 image (already upsampled), read by rows."""

    def __init__(self, img: np.ndarray, means: Sequence[float], padding: int, outer: int) -> None:
        self.rects, self.rows, self.cols = pyramid_rects(img.shape[0], img.shape[1], padding, outer)
        self.means = [np.float32(m) for m in means]
        self._image: np.ndarray | None = img
        # levels stacked under level 0 (the rest sit to their right, smallest at the top)
        stack = sum(1 for r in self.rects if r[0] == self.rects[0][0]) if self.rects else 0
        #: Stacked levels made again from the level above them when the rows reach it.
        self._pending = set(range(2, stack))
        self._levels: list[np.ndarray | None] = self._first_levels(img)

    def _level0(self, img: np.ndarray, channel: int) -> np.ndarray:
        level: np.ndarray = (img[:, :, channel].astype(np.float32) - self.means[channel]) / (
            np.float32(256.0)
        )
        return level

    def _shape(self, i: int) -> tuple[int, int, int]:
        return 3, geom.height(self.rects[i]), geom.width(self.rects[i])

    def _first_levels(self, img: np.ndarray) -> list[np.ndarray | None]:
        """Level 1 and the levels beside the stack as (3, rows, cols) float32, one channel's
        chain at a time (dlib resizes each level from the one before it, channel by channel:
        `tt::resize_bilinear`); the stacked levels 2.. are passed through and dropped, to be
        made again when the rows reach them (`_make`), so at most two of them are held."""
        import dlib

        levels: list[np.ndarray | None] = [None] * len(self.rects)
        for i in range(1, len(self.rects)):
            if i not in self._pending:
                levels[i] = np.empty(self._shape(i), np.float32)
        for channel in range(3):
            level = self._level0(img, channel)
            for i in range(1, len(self.rects)):
                _, rows, cols = self._shape(i)
                level = dlib.resize_image(np.ascontiguousarray(level), rows, cols)
                out = levels[i]
                if out is not None:
                    out[channel] = level
            del level
        return levels

    def _make(self, i: int) -> None:
        """Stacked level i, from level i - 1 (still held: it is let go only after this)."""
        import dlib

        above = self._levels[i - 1]
        if above is None:
            raise ValueError(f"level {i} made after level {i - 1} was let go")
        out = np.empty(self._shape(i), np.float32)
        for channel in range(3):
            out[channel] = dlib.resize_image(above[channel], out.shape[1], out.shape[2])
        self._levels[i] = out
        self._pending.discard(i)

    def chunk(self, start: int, stop: int) -> np.ndarray:
        """Rows [start, stop) of the tiled pyramid as (1, 3, rows, cols) float32."""
        out = np.zeros((1, 3, stop - start, self.cols), np.float32)
        for i, (left, top, right, bottom) in enumerate(self.rects):
            lo, hi = max(top, start), min(bottom + 1, stop)
            if lo >= hi:
                continue
            target = out[0, :, lo - start : hi - start, left : right + 1]
            if i == 0:
                if self._image is None:
                    raise ValueError("level 0 read after it was let go")
                for channel in range(3):
                    target[channel] = self._level0(self._image[lo - top : hi - top], channel)
            else:
                if i in self._pending:
                    self._make(i)
                level = self._levels[i]
                if level is None:
                    raise ValueError(f"level {i} read after it was let go")
                target[:] = level[:, lo - top : hi - top]
        return out

    def _release(self, done: int) -> None:
        """Let go of every level whose rows all lie above row `done`."""
        for i, (_, _, _, bottom) in enumerate(self.rects):
            if bottom < done:
                if i + 1 in self._pending:
                    self._make(i + 1)
                if i == 0:
                    self._image = None
                else:
                    self._levels[i] = None

    def chunks(self, rows: int) -> Iterator[np.ndarray]:
        """The whole tiled pyramid, `rows` rows at a time, top to bottom (read once)."""
        for start in range(0, self.rows, rows):
            yield self.chunk(start, min(self.rows, start + rows))
            self._release(start + rows)


def upsample(img: np.ndarray, times: int) -> np.ndarray:
    """`pyramid_up(image, pyramid_down<2>)` `times` times: rows 2r+1, cols 2c+2 (rect_up of
    the image rectangle, rounded as dlib rounds a drectangle), bilinear as dlib resizes."""
    import dlib

    for _ in range(times):
        rows, cols = img.shape[:2]
        img = dlib.resize_image(np.ascontiguousarray(img), 2 * rows + 1, 2 * cols + 2)
    return img
