"""Read an image file once: hash its bytes and decode the same bytes to RGB uint8 pixels.

Why it is written this way:

* One read serves both the cache key (sha256 of the bytes) and the pixels, so a frame is never
  read twice and the hash always describes what was analysed.
* The pixels must equal `face_recognition.load_image_file` (`PIL.Image.open(...).convert("RGB")`,
  no EXIF transpose), because face_recognition is the reference the descriptors are checked
  against. RGBA, paletted, grey and 16-bit images all go through that same `convert("RGB")`.
* Frames come from audited parties, so they are untrusted: the header is read first (PIL opens
  lazily) and an image over `max_pixels` is refused before any decoding. PIL's own
  decompression-bomb warning and error become the same refusal.
* `import face_recognition` sets `PIL.ImageFile.LOAD_TRUNCATED_IMAGES = True` for the whole
  process, which silently pads truncated files with grey. An audit must report a truncated frame,
  so decoding forces the flag off while it runs and restores it afterwards.
* A YCbCr or grey JPEG (what cameras write) is decoded by libjpeg-turbo straight into the
  array (`simplejpeg`, ISLOW DCT and fancy upsampling as Pillow's decoder): the same bytes as
  Pillow's (tested on every JPEG of the fixtures and ../shared/faces) without Pillow's own
  4-bytes-per-pixel image beside the array, which is 33 MB of a 4K frame's peak and 67 MB at
  4096x4096. Anything else, and any JPEG it cannot read, goes to Pillow, whose messages the
  report keeps.
* Every failure is returned as a message, never raised: one bad frame must not stop an audit.
  Messages never contain the file path (the caller names the file, bundle-relative).
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from time import perf_counter

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from auditor.config.bundle import MAX_IMAGE_BYTES


@dataclass(frozen=True)
class Decoded:
    """A decoded frame, or why it could not be decoded (then `pixels` is None)."""

    sha256: str
    width: int
    height: int
    pixels: np.ndarray | None
    error: str | None
    seconds: float


class _Refused(Exception):
    """Internal: the image cannot be used; the message is user-facing."""


@contextmanager
def _strict_pil() -> Iterator[None]:
    saved = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = saved


def _too_many(width: int, height: int, max_pixels: int) -> str:
    return (
        f"image is {width}x{height} = {width * height:,} pixels, "
        f"over the limit of {max_pixels:,} pixels"
    )


def _jpeg_pixels(data: bytes, max_pixels: int) -> np.ndarray | None:
    """The RGB pixels of a YCbCr or grey JPEG decoded by libjpeg-turbo, or None for Pillow to
    decode (another colour space, such as CMYK, which Pillow converts its own way; or a file
    libjpeg-turbo refuses, so that the refusal is Pillow's, as it always was)."""
    if not data.startswith(b"\xff\xd8"):
        return None
    import simplejpeg

    try:
        height, width, colorspace, _ = simplejpeg.decode_jpeg_header(data)
    except ValueError:
        return None
    bomb = Image.MAX_IMAGE_PIXELS
    if colorspace not in ("YCbCr", "Gray") or (bomb is not None and width * height > bomb):
        return None  # Pillow's own decompression-bomb refusal, word for word
    if width * height > max_pixels:
        raise _Refused(_too_many(width, height, max_pixels))
    try:
        pixels: np.ndarray = simplejpeg.decode_jpeg(
            data, colorspace="RGB", fastdct=False, fastupsample=False
        )
    except ValueError:
        return None
    return pixels


def decode_bytes(data: bytes, max_pixels: int) -> np.ndarray:
    """RGB uint8 pixels (H x W x 3) of an encoded image; raises `_Refused` with a message."""
    pixels = _jpeg_pixels(data, max_pixels)
    if pixels is not None:
        return pixels
    with _strict_pil():
        try:
            image = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _Refused(f"image has too many pixels ({exc})") from None
        except UnidentifiedImageError:
            raise _Refused("not an image (unrecognised or unsupported format)") from None
        except Exception as exc:  # PIL raises many types for malformed headers
            raise _Refused(f"not a readable image ({type(exc).__name__}: {exc})") from None
        with image:
            width, height = image.size
            if width * height > max_pixels:
                raise _Refused(_too_many(width, height, max_pixels))
            try:
                image.load()
                # convert("RGB") of an RGB image is a plain copy: skip it (a 4K frame's 33 MB)
                rgb = image if image.mode == "RGB" else image.convert("RGB")
            except Exception as exc:  # OSError, SyntaxError, EOFError, zlib.error, ...
                detail = f"{type(exc).__name__}: {exc}"
                raise _Refused(f"truncated or corrupt image ({detail})") from None
            return _to_array(rgb)


def _to_array(rgb: Image.Image) -> np.ndarray:
    """The pixels as a writable (H, W, 3) uint8 array, one band of rows at a time.

    `np.array(image)` goes through `tobytes()`, so it holds PIL's 4 bytes per pixel, a 3-byte
    copy and the 3-byte array at once (a 4K frame: 116 MB); bands of 256 rows keep the peak at
    PIL's image plus the array.
    """
    width, height = rgb.size
    out = np.empty((height, width, 3), dtype=np.uint8)
    for top in range(0, height, 256):
        bottom = min(top + 256, height)
        out[top:bottom] = np.asarray(rgb.crop((0, top, width, bottom)))
    return out


def decode_file(path: str, max_pixels: int, max_bytes: int = MAX_IMAGE_BYTES) -> Decoded:
    """Read `path` once, hash it and decode it; failures come back in `Decoded.error`.

    Only a regular file of at most `max_bytes` is read (opened non-blocking, so a FIFO cannot
    hang the worker; checked on the open handle, so a swap after a check cannot fool it).
    """
    start = perf_counter()

    def failed(message: str, sha256: str = "") -> Decoded:
        return Decoded(sha256, 0, 0, None, message, perf_counter() - start)

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return failed("not a regular file (FIFO, device or socket)")
            if info.st_size > max_bytes:
                return failed(
                    f"file is {info.st_size:,} bytes, over the limit of {max_bytes:,} bytes"
                )
            data = handle.read(max_bytes + 1)
            if len(data) > max_bytes:
                return failed(f"file is over the limit of {max_bytes:,} bytes")
    except FileNotFoundError:
        return failed("file not found")
    except IsADirectoryError:
        return failed("is a directory, not an image file")
    except OSError as exc:
        return failed(f"cannot read file ({exc.strerror or type(exc).__name__})")
    return _decoded(data, max_pixels, start)


def decode_in_bundle(
    root: str, rel: str, max_pixels: int, max_bytes: int = MAX_IMAGE_BYTES
) -> Decoded:
    """`decode_file` for bundle file `rel` of an object-storage bundle (`root` is its URL):
    read through the bundle's filesystem, at most `max_bytes` (checked before and while
    reading, as a local file is)."""
    from auditor.config.bundlefs import PathEscape, open_fs

    start = perf_counter()
    try:
        fs = open_fs(root)
        fs.check(rel, max_bytes)
        with fs.open(rel) as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        return Decoded("", 0, 0, None, "file not found", perf_counter() - start)
    except PathEscape as exc:
        return Decoded("", 0, 0, None, str(exc), perf_counter() - start)
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        return Decoded("", 0, 0, None, f"cannot read file ({why})", perf_counter() - start)
    if len(data) > max_bytes:
        message = f"file is over the limit of {max_bytes:,} bytes"
        return Decoded("", 0, 0, None, message, perf_counter() - start)
    return _decoded(bytes(data), max_pixels, start)


def _decoded(data: bytes, max_pixels: int, start: float) -> Decoded:
    """Hash and decode bytes already read (the one read of a frame)."""
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        pixels = decode_bytes(data, max_pixels)
    except _Refused as exc:
        return Decoded(sha256, 0, 0, None, str(exc), perf_counter() - start)
    height, width = pixels.shape[:2]
    return Decoded(sha256, width, height, pixels, None, perf_counter() - start)
