"""Column bands: which columns of every pyramid level each band scans and computes.

Why: a full-width strip of every level costs 18 bytes per first-level column per strip row
(three bytes a pixel, the levels' widths summing to six times the first's), so a frame twice
as wide as the pixel limit's square could not keep its strips both tall and under the memory
bound, and short strips repeat the 13-cell overlap more often (CPU). Bands bound the width
instead: each band is a top-to-bottom pass over its own columns of every level, the strips
stay tall, and only 13 cell columns are repeated between neighbouring bands.

A band's piece of a level starts on the cell grid and ends 13 cells (window + 3) into the
next piece, so `LevelScanner`'s column rule gives every window position one owner. The band
then computes, on every level it touches, the columns its piece needs and the columns the next
level's window reads (`resize.source_span`), nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.faces.hogtiles.detfile import HogFileParams
from auditor.faces.hogtiles.resize import source_span
from auditor.faces.hogtiles.strips import ResizePlan

Span = tuple[int, int]

#: A level narrower than this many overlaps per band is not cut (`splits`): it and the levels
#: after it are scanned whole from the stored level, so a piece repeats at most a quarter of
#: its width.
MIN_PIECE_OVERLAPS = 4


def column_overlap(params: HogFileParams) -> int:
    """Pixels a piece reaches into the next: the detector window's width plus three cells."""
    cell = params.cell_size
    return cell * (params.window_width // cell + 2 * params.padding + 3)


def pieces(width: int, bands: int, params: HogFileParams) -> list[Span]:
    """The [left, right) columns each of `bands` bands scans on a level `width` pixels wide:
    the i-th starts on the cell grid at i/bands of the width and reaches `column_overlap`
    into the next."""
    cell, overlap = params.cell_size, column_overlap(params)
    starts = [j * width // bands // cell * cell for j in range(bands)]
    return [
        (start, width if j == bands - 1 else min(width, starts[j + 1] + overlap))
        for j, start in enumerate(starts)
    ]


def splits(width: int, bands: int, params: HogFileParams) -> bool:
    """Whether a level this wide is cut into `bands` pieces: each must own at least
    MIN_PIECE_OVERLAPS overlaps, so a piece repeats at most a quarter of its width."""
    return bands > 1 and width // bands >= MIN_PIECE_OVERLAPS * column_overlap(params)


@dataclass(frozen=True)
class BandPlan:
    """One band's pass: per stage of the chain (0 the frame, then each upsampling, then each
    pyramid level after the first), the columns it computes and, on the levels it scans, its
    piece; on the `store` stage, the columns it writes into the stored level."""

    windows: list[Span]
    scans: list[Span | None]


@dataclass(frozen=True)
class Bands:
    """The bands' passes, and `store`: the first stage too narrow to split (None when nothing
    is split). The bands write their columns of it into one array (a narrow level is small:
    under 2 MB at the pixel limit); the stages from it on are then scanned whole from that
    array, instead of computing every level above it again at full width."""

    passes: list[BandPlan]
    store: int | None


def plan_bands(
    frame_nc: int, stages: list[ResizePlan], first_level: int, bands: int, params: HogFileParams
) -> Bands:
    """`stages[i]` makes chain stage i+1 from stage i (stage 0 is the frame); stage
    `first_level` is pyramid level 0, every later stage the next level."""
    widths = [frame_nc] + [plan.nc for plan in stages]
    split = [i >= first_level and splits(w, bands, params) for i, w in enumerate(widths)]
    if not any(split):
        whole = [(0, w) for w in widths]
        scans: list[Span | None] = [(0, w) if i >= first_level else None
                                    for i, w in enumerate(widths)]  # fmt: skip
        return Bands([BandPlan(whole, scans)], None)
    store = split.index(False, first_level)
    passes = []
    for band in range(bands):
        width = widths[store]
        below: Span = (band * width // bands, (band + 1) * width // bands)
        windows: list[Span] = [below]
        band_scans: list[Span | None] = [None]
        for i in reversed(range(store)):
            spans = [source_span(stages[i].cols, *below)]
            piece = pieces(widths[i], bands, params)[band] if split[i] else None
            if piece is not None:
                spans.append(piece)
            below = (min(s[0] for s in spans), max(s[1] for s in spans))
            windows.insert(0, below)
            band_scans.insert(0, piece)
        passes.append(BandPlan(windows, band_scans))
    return Bands(passes, store)
