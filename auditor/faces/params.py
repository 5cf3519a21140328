"""How the frame pass analyses frames: the one parameter set, checked once where it is made.

A leaf beside `modelfiles`: the command line, the orchestration and the engine all take a
`FaceParams`, and the ranges it checks (upsample 0..MAX_UPSAMPLE, jitters 0/1, ...) are the ones
the command line offers, so the two can never disagree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from auditor.core.defaults import MAX_UPSAMPLE, UPSAMPLE
from auditor.faces.detectors import DEFAULT_DETECTOR, DETECTORS
from auditor.faces.kernels import DEFAULT_KERNEL, KERNELS


def default_workers() -> int:
    """CPUs this process may run on (affinity-aware where the OS tells us)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class FaceParams:
    """How to analyse frames. Only upsample, jitters, padding, max_pixels, the descriptor
    kernel and the detector change results (the kernels agree within 1e-6, but cached results
    never mix).

    upsample 1 is face_recognition's default; upsample 0 is 4x faster but misses faces under
    ~80 px (26 % of the faces in the research frames, all 6 of fixtures/faces/2008_002470.jpg).
    """

    upsample: int = UPSAMPLE
    jitters: int = 0
    padding: float = 0.25
    max_pixels: int = 16_777_216  # 4096 x 4096; see docs/faces.md "Limits"
    chunk: int = 8
    workers: int = field(default_factory=default_workers)
    kernel: str = DEFAULT_KERNEL
    detector: str = DEFAULT_DETECTOR  # hog or cnn (docs/faces.md "Detectors")

    def __post_init__(self) -> None:
        if self.detector not in DETECTORS:
            raise ValueError(
                f"detector must be one of {', '.join(DETECTORS)}, not {self.detector!r}"
            )
        if self.kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {', '.join(KERNELS)}, not {self.kernel!r}")
        if not 0 <= self.upsample <= MAX_UPSAMPLE:
            raise ValueError(f"upsample must be between 0 and {MAX_UPSAMPLE}, not {self.upsample}")
        if self.jitters not in (0, 1):
            raise ValueError(
                f"jitters must be 0 or 1 (higher values are random, so results would not "
                f"be reproducible), not {self.jitters}"
            )
        if not 0.0 <= self.padding <= 1.0:
            raise ValueError(f"padding must be between 0 and 1, not {self.padding}")
        if self.max_pixels < 1:
            raise ValueError(f"max_pixels must be positive, not {self.max_pixels}")
        if self.chunk < 1 or self.workers < 1:
            raise ValueError("chunk and workers must be at least 1")
