"""The MMOD network run down the tiled pyramid a few rows at a time, each layer keeping only the
rows the next call still needs: the score map of the whole pyramid, with no row computed twice.

Why: the network's activations grow with the pyramid (its first layer alone is 16 floats per
two-by-two input pixels: ~480 MB for a 1080p frame at upsample 1). Running it over overlapping
bands of the pyramid bounds that, but every band repeats the ~190 rows of the one before (the
network's receptive field): a third of the work at 1080p. Here each convolution is its own ONNX
graph (`cnn_graph.stage_models`, padding the columns only); a layer that is given its next input
rows emits every output row whose window is now complete and keeps the `kernel - stride` rows
that later windows share. The rows' zero padding is added here at the pyramid's top and bottom,
so each output row sees exactly the window the whole-pyramid graph gives it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

#: Runs one stage's graph: (1, C, rows, cols) float32 in, (1, C', rows', cols') out.
Run = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Conv:
    """A stage's geometry along the rows."""

    kernel: int
    stride: int
    pad: int

    def out(self, rows: int) -> int:
        """Output rows for `rows` input rows (ONNX's floor formula)."""
        return (rows + 2 * self.pad - self.kernel) // self.stride + 1


def out_rows(convs: Iterable[Conv], rows: int) -> int:
    """Output rows of the chain for `rows` input rows."""
    for conv in convs:
        rows = conv.out(rows)
    return rows


@dataclass
class LayerStream:
    """One convolution fed its input rows in order (`total` rows in all)."""

    run: Run
    conv: Conv
    total: int
    first: int = field(init=False)  # input row (global, padding counted as rows -pad..) of rows[0]
    done: int = field(init=False, default=0)  # output rows emitted
    rows: np.ndarray | None = field(init=False, default=None)
    started: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.kernel, self.stride, self.pad = self.conv.kernel, self.conv.stride, self.conv.pad
        self.first = -self.pad
        self.out_total = self.conv.out(self.total)

    def _zeros(self, like: np.ndarray, count: int) -> np.ndarray:
        return np.zeros((like.shape[0], like.shape[1], count, like.shape[3]), like.dtype)

    def feed(self, new: np.ndarray | None, last: bool) -> np.ndarray | None:
        """Append input rows (`last`: these end the input); the output rows now complete."""
        parts = [] if self.rows is None else [self.rows]
        if new is not None and new.shape[2]:
            if not self.started and self.pad:
                parts.append(self._zeros(new, self.pad))
            self.started = True
            parts.append(new)
        if not parts:
            return None
        if last and self.pad:
            parts.append(self._zeros(parts[-1], self.pad))
        buf = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=2)
        end = self.first + buf.shape[2]  # one past the last input row held
        # output row o reads input rows [o*stride - pad, o*stride - pad + kernel)
        hi = min(self.out_total, (end + self.pad - self.kernel) // self.stride + 1)
        if hi <= self.done:
            self.rows = buf
            return None
        lo_row = self.done * self.stride - self.pad - self.first
        hi_row = (hi - 1) * self.stride - self.pad + self.kernel - self.first
        out = self.run(np.ascontiguousarray(buf[:, :, lo_row:hi_row]))
        keep = hi * self.stride - self.pad - self.first
        self.rows = buf[:, :, keep:].copy() if keep < buf.shape[2] else None
        self.first += keep
        self.done = hi
        return out


def streamed_scores(
    runs: list[Run], convs: list[Conv], chunks: Iterable[np.ndarray], total: int
) -> np.ndarray:
    """The chain's (rows', cols') output for an input of `total` rows given as `chunks`
    ((1, 3, n, cols) float32, in order, adding up to `total` rows)."""
    layers = []
    rows = total
    for run, conv in zip(runs, convs, strict=True):
        layers.append(LayerStream(run, conv, rows))
        rows = layers[-1].out_total
    pieces: list[np.ndarray] = []
    seen = 0
    for chunk in chunks:
        seen += chunk.shape[2]
        _push(layers, chunk, seen >= total, pieces)
    if seen != total:
        raise ValueError(f"the chunks gave {seen} rows, not {total}")
    out = np.concatenate([p[0, 0] for p in pieces], axis=0)
    if out.shape[0] != rows:
        raise ValueError(f"the stream gave {out.shape[0]} output rows, not {rows}")
    return out


def _push(
    layers: list[LayerStream], chunk: np.ndarray, last: bool, pieces: list[np.ndarray]
) -> None:
    x: np.ndarray | None = chunk
    for layer in layers:
        x = layer.feed(x, last)
        if x is None and not last:
            return
    if x is not None:
        pieces.append(x)
