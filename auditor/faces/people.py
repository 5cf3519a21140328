"""How many distinct people are in a set of face descriptors? Average-linkage clustering.

Why not dlib's `chinese_whispers_clustering` at the matching tolerance (0.6)? It links every pair
closer than the threshold, and chains of such links merge different people: on our 300
benchmark frames (56 people) it finds 32 clusters at 0.6, purity 0.84. Average linkage merges two
groups only while the MEAN distance between them is below the threshold, so one close pair cannot
glue two people together, and it is far less sensitive to the exact threshold.

Measured (dlib-bin 20.0.1, HOG upsample 1; "error" = clusters - people; purity = share of faces
in their cluster's majority person; inverse = share in their person's majority cluster):

| data | faces / people | average 0.53 (default) | average 0.50 | chinese whispers 0.50 / 0.60 |
|---|---|---|---|---|
| dlib johns chips | 54 / 5 | 0, purity 1.000 | 0, 1.000 | 0, 1.000 / 0, 1.000 |
| face_recognition named photos | 30 / 7 | 0, purity 1.000 | +1, 1.000 | +1, 1.000 / 0, 1.000 |
| all shared photos + groups | 152 / 60 | -2, purity 0.980 | +3, 0.987 | -1, 0.980 / -23, 0.849 |
| benchmark frames | 580 / 56 | 0, purity 0.984 | +5, 0.997 | -2, 0.979 / -24, 0.843 |

0.53 is where splitting one person (below it) and merging two (above it) balance on these sets;
inverse purity at 0.53 is 0.993 or better everywhere. The errors that remain are small, blurred
faces (36 px faces from group photos, upscaled) of similar-looking people. These sets overlap (the
frames are pasted from the same photos), so treat the figures as indicative; see docs/faces.md.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Average-linkage cut: two groups of faces are one person while their mean distance is below it.
DEFAULT_PERSON_THRESHOLD = 0.53


def _distances(descriptors: Sequence[Sequence[float]]) -> np.ndarray:
    """Pairwise Euclidean distances from explicit differences, not the BLAS `a.a + b.b - 2a.b`
    shortcut: no cancellation error, and no dependence on the BLAS build or thread count."""
    points = np.asarray(descriptors, dtype=np.float64)
    n = len(points)
    dist = np.empty((n, n))
    for i in range(n):
        diff = points[i:] - points[i]
        dist[i, i:] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        dist[i:, i] = dist[i, i:]
    np.fill_diagonal(dist, np.inf)
    return dist


def cluster(
    descriptors: Sequence[Sequence[float]], threshold: float = DEFAULT_PERSON_THRESHOLD
) -> list[int]:
    """One label per descriptor; equal labels mean "same person". Deterministic.

    Average linkage: clusters merge while the mean pairwise distance between them is below
    `threshold`. Labels are numbered in order of first appearance.

    Uses the nearest-neighbour-chain algorithm (average linkage is reducible, so it builds the
    same clusters as the greedy closest-pair-first order): O(n^2) time and memory.
    """
    n = len(descriptors)
    if n == 0:
        return []
    dist = _distances(descriptors)

    size = np.ones(n)
    parent = list(range(n))  # cluster representative -> the cluster it was merged into
    active = np.ones(n, dtype=bool)  # still able to merge
    chain: list[int] = []
    while True:
        if not chain:
            remaining = np.flatnonzero(active)
            if remaining.size == 0:
                break
            chain.append(int(remaining[0]))
        top = chain[-1]
        row = np.where(active, dist[top], np.inf)
        nearest = int(np.argmin(row))
        if row[nearest] >= threshold:
            # Reducibility: no later merge can bring anything closer to `top`. It is final.
            active[top] = False
            chain.pop()
            continue
        previous = chain[-2] if len(chain) >= 2 else -1
        if previous >= 0 and row[previous] <= row[nearest]:
            # Reciprocal nearest neighbours (ties go to the chain): merge them.
            del chain[-2:]
            _merge(dist, size, parent, active, keep=min(top, previous), gone=max(top, previous))
        else:
            chain.append(nearest)
    return _labels(parent)


def _merge(
    dist: np.ndarray,
    size: np.ndarray,
    parent: list[int],
    active: np.ndarray,
    keep: int,
    gone: int,
) -> None:
    """Lance-Williams update for average linkage."""
    merged = (size[keep] * dist[keep] + size[gone] * dist[gone]) / (size[keep] + size[gone])
    dist[keep, :] = merged
    dist[:, keep] = merged
    dist[keep, keep] = np.inf
    dist[gone, :] = np.inf
    dist[:, gone] = np.inf
    size[keep] += size[gone]
    parent[gone] = keep
    active[gone] = False


def _labels(parent: list[int]) -> list[int]:
    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    numbering: dict[int, int] = {}
    return [numbering.setdefault(root(i), len(numbering)) for i in range(len(parent))]


def count_people(labels: Sequence[int]) -> int:
    """Number of distinct clusters (people)."""
    return len(set(labels))
