"""Frame thumbnails for the HTML report: small inline JPEGs with the face boxes drawn on them.

Faces are blurred (a strong Gaussian blur over each face box, applied before anything else is
drawn) unless the reader asked for `--show-faces`. Frames are untrusted input, read again at
render time: the path must stay inside the bundle, the bytes must still hash to the SHA-256 the
audit recorded (otherwise the thumbnail would show something the audit never analysed), and an
oversized image is refused before decoding. Pixels are taken as the audit took them (no EXIF
rotation), so the recorded boxes land where the faces are.
"""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from auditor.config.bundlefs import PathEscape, open_fs

MAX_SIDE = 320
MAX_PIXELS = 50_000_000
BOX_COLOUR = (228, 0, 43)
#: The box a consenting probe person matched: another colour and a thicker line, so the
#: reader sees which face the "found" claim is about.
PROBE_COLOUR = (0, 150, 255)
LABEL_TEXT = (255, 255, 255)


@dataclass(frozen=True)
class Thumbnail:
    """A data: URI of the thumbnail, or why there is none."""

    uri: str | None
    width: int = 0
    height: int = 0
    note: str | None = None


def _blur_boxes(img: Image.Image, boxes: list[tuple[int, int, int, int]]) -> None:
    for top, right, bottom, left in boxes:
        w, h = right - left, bottom - top
        if w <= 0 or h <= 0:
            continue
        pad_x, pad_y = int(w * 0.2), int(h * 0.25)
        area = (
            max(0, left - pad_x),
            max(0, top - pad_y),
            min(img.width, right + pad_x),
            min(img.height, bottom + pad_y),
        )
        if area[2] <= area[0] or area[3] <= area[1]:
            continue
        region = img.crop(area)
        # pixelate, then blur: nothing of the face's detail survives either step
        small = region.resize(
            (max(1, region.width // 12), max(1, region.height // 12)), Image.Resampling.BILINEAR
        )
        region = small.resize(region.size, Image.Resampling.NEAREST)
        region = region.filter(ImageFilter.GaussianBlur(radius=max(4.0, min(w, h) / 4)))
        img.paste(region, area[:2])


def _draw_boxes(
    img: Image.Image,
    faces: list[tuple[int, int, int, int]],
    scale: float,
    labels: tuple[str, ...],
    probes: dict[int, str],
) -> None:
    """Each face box with its person id on a tag above it (below when at the top edge); the
    box a probe matched in the probe colour, its tag naming the probe. Drawn after the blur,
    as pixels: nothing here reaches the page as markup."""
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    for i, (top, right, bottom, left) in enumerate(faces):
        colour = PROBE_COLOUR if i in probes else BOX_COLOUR
        x0, y0 = round(left * scale), round(top * scale)
        x1, y1 = round(right * scale), round(bottom * scale)
        draw.rectangle((x0, y0, x1, y1), outline=colour, width=3 if i in probes else 2)
        text = labels[i] if i < len(labels) else ""
        if i in probes:
            text = f"{text} = {probes[i][:20]}".strip(" =")
        if not text:
            continue
        bx0, by0, bx1, by1 = draw.textbbox((0, 0), text, font=font)
        w, h = bx1 - bx0 + 4, by1 - by0 + 2
        ty = y0 - h if y0 - h >= 0 else min(img.height - h, y1)
        tx = max(0, min(x0, img.width - w))
        draw.rectangle((tx, ty, tx + w, ty + h), fill=colour)
        draw.text((tx + 2 - bx0, ty + 1 - by0), text, fill=LABEL_TEXT, font=font)


def thumbnail(
    bundle_root: str,
    path: str,
    sha256: str | None,
    boxes: list[list[int]],
    show_faces: bool,
    labels: tuple[str, ...] = (),
    probes: dict[int, str] | None = None,
) -> Thumbnail:
    """The thumbnail of one frame of a finding, as a data: URI. `labels` are the person ids
    of the boxes (in box order), `probes` the probe person each matched box shows."""
    made = thumbnail_jpeg(bundle_root, path, sha256, boxes, show_faces, labels, probes)
    if isinstance(made, Thumbnail):
        return made
    data, width, height = made
    uri = "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
    return Thumbnail(uri, width, height)


def thumbnail_jpeg(
    bundle_root: str,
    path: str,
    sha256: str | None,
    boxes: list[list[int]],
    show_faces: bool,
    labels: tuple[str, ...] = (),
    probes: dict[int, str] | None = None,
) -> tuple[bytes, int, int] | Thumbnail:
    """(JPEG bytes, width, height) of one frame's thumbnail, or a Thumbnail saying why not."""
    try:
        fs = open_fs(bundle_root)
        rel = fs.safe(path)
    except PathEscape as exc:
        return Thumbnail(None, note=f"not shown: {exc}")
    try:
        with fs.open(rel) as fh:
            data = fh.read()
    except OSError:
        return Thumbnail(None, note="not shown: the frame is not in the bundle folder")
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        return Thumbnail(
            None, note="not shown: the frame changed since the audit (its SHA-256 differs)"
        )
    try:
        with Image.open(io.BytesIO(data)) as src:
            if src.width * src.height > MAX_PIXELS:
                return Thumbnail(None, note="not shown: image too large")
            img = src.convert("RGB")
    except Exception as exc:  # noqa: BLE001 - PIL raises many types for bad images
        return Thumbnail(None, note=f"not shown: unreadable image ({type(exc).__name__})")
    faces = [(int(b[0]), int(b[1]), int(b[2]), int(b[3])) for b in boxes if len(b) == 4]
    if not show_faces:
        _blur_boxes(img, faces)
    scale = min(1.0, MAX_SIDE / max(img.width, img.height))
    if scale < 1.0:
        img = img.resize(
            (max(1, round(img.width * scale)), max(1, round(img.height * scale))),
            Image.Resampling.LANCZOS,
        )
    _draw_boxes(img, faces, scale, labels, probes or {})
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=72, optimize=False, progressive=False)
    return buf.getvalue(), img.width, img.height
