"""Give freed heap memory back to the operating system between frames.

Why: glibc keeps freed blocks mapped for reuse. dlib's HOG detector allocates its feature
pyramid (~90 MB for a 1080p frame at upsample 1) and frees it on return, and ONNX Runtime's
session start-up frees ~50 MB of temporaries; without a trim the worker's resident set keeps
the high-water mark of everything it ever did, and the next large allocation lands on top of
it instead of in the freed pages' place.
"""

from __future__ import annotations

import ctypes
import functools
from typing import Any


@functools.cache
def _libc() -> Any:
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:  # not glibc (macOS, musl): nothing to trim
        return None


def release_free_memory() -> None:
    """`malloc_trim(0)` where glibc provides it; a no-op elsewhere (about 1 ms)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
