"""Is a consenting probe person among the faces of a frame? Smallest Euclidean distance.

The convention is face_recognition's (`compare_faces`): a match is distance <= tolerance, with
0.6 as the default (dlib's LFW operating point). Callers may use a stricter tolerance, but the
distance itself is always what gets reported, so a reader can re-judge it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from auditor.core.defaults import PROBE_TOLERANCE

#: face_recognition's default tolerance; a match is `distance <= DEFAULT_PROBE_TOLERANCE`.
DEFAULT_PROBE_TOLERANCE = PROBE_TOLERANCE


def best_match(
    probe: Sequence[tuple[float, ...]], faces: Sequence[tuple[float, ...]]
) -> float | None:
    """Smallest distance between any probe descriptor and any face descriptor (None if either
    side is empty). A probe person may have several enrolment photos, hence a sequence."""
    found = nearest_face(probe, faces)
    return None if found is None else found[0]


def nearest_face(
    probe: Sequence[tuple[float, ...]], faces: Sequence[tuple[float, ...]]
) -> tuple[float, int] | None:
    """(smallest distance, index of that face), so a report can mark which face matched."""
    if len(probe) == 0 or len(faces) == 0:
        return None
    left = np.asarray(probe, dtype=np.float64)
    right = np.asarray(faces, dtype=np.float64)
    diff = left[:, None, :] - right[None, :, :]
    per_face = np.sqrt((diff * diff).sum(axis=2)).min(axis=0)
    index = int(per_face.argmin())
    return float(per_face[index]), index


def is_match(distance: float | None, tolerance: float = DEFAULT_PROBE_TOLERANCE) -> bool:
    """face_recognition's rule: inclusive (`<=`) comparison with the tolerance."""
    return distance is not None and distance <= tolerance
