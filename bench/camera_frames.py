"""Large camera-sized frames built from real photos, for the tiled-detection parity tests and
bench/camera_bench.py.

Whole photos (not face crops) are scaled up and down and pasted onto a plain-gradient-and-noise
canvas of the asked size, left to right and top to bottom, so a frame holds faces from about
20 px to several hundred px, some of them across the seams of any tiling. Deterministic for a
given (size, seed): the same frame is built on every machine.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "faces"

# Photos with faces: the repository's fixtures first (always present), the shared set when there.
FIXTURE_PHOTOS = ("two_people.jpg", "obama_small.jpg", "2008_002470.jpg")
SHARED_PHOTOS = (
    "ageitgey-face_recognition/examples/knn_examples/test/obama_and_biden.jpg",
    "ageitgey-face_recognition/examples/knn_examples/test/kit_with_rose.jpg",
    "ageitgey-face_recognition/examples/biden.jpg",
    "davisking-dlib/examples/faces/2007_007763.jpg",
    "davisking-dlib/examples/faces/2008_001322.jpg",
    "davisking-dlib/examples/faces/bald_guys.jpg",
    "davisking-dlib/examples/faces/Tom_Cruise_avp_2014_4.jpg",
)
SCALES = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0)


def photo_paths() -> list[Path]:
    """The photos frames are built from (the shared ones only where they exist)."""
    found = [ROOT / "fixtures" / "faces" / name for name in FIXTURE_PHOTOS]
    found += [SHARED / name for name in SHARED_PHOTOS if (SHARED / name).exists()]
    return found


def _canvas(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    ys = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    xs = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    base = rng.uniform(40, 200, size=3).astype(np.float32)
    grad = base + 50 * xs - 40 * ys
    canvas = np.empty((height, width, 3), dtype=np.uint8)
    for top in range(0, height, 512):  # row bands keep the float temporaries small
        band = grad[min(top, height - 1) : top + 512] if grad.shape[0] > 1 else grad
        noise = rng.normal(0, 6, size=(band.shape[0], width, 3)).astype(np.float32)
        canvas[top : top + 512] = np.clip(band + noise, 0, 255).astype(np.uint8)
    return canvas


def build_frame(
    size: tuple[int, int], seed: int, photos: Sequence[Path] | None = None
) -> Image.Image:
    """A `size` (width, height) RGB frame with scaled copies of `photos` pasted on it."""
    rng = np.random.default_rng(seed)
    pick = random.Random(seed)
    width, height = size
    frame = Image.fromarray(_canvas(width, height, rng))
    sources = list(photos if photos is not None else photo_paths())
    x = y = row_height = 0
    placed = 0
    while True:
        with Image.open(sources[placed % len(sources)]) as opened:
            photo = opened.convert("RGB")
        scale = pick.choice(SCALES) * min(1.0, width / 1920)
        scale = max(scale, 0.5)
        w, h = max(1, int(photo.width * scale)), max(1, int(photo.height * scale))
        if w > width or h > height:
            w, h = photo.width, photo.height
        if x + w > width:
            x, y, row_height = 0, y + row_height + pick.randint(4, 60), 0
        if y + h > height:
            break
        frame.paste(photo.resize((w, h), Image.Resampling.LANCZOS), (x, y))
        x += w + pick.randint(4, 80)
        row_height = max(row_height, h)
        placed += 1
    return frame
