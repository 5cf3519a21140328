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

Bounded memory: the exact algorithm needs an n x n distance matrix (8 n^2 bytes: 580 faces are
2.7 MB, 20,000 faces would be 3.2 GB). Up to `MAX_BLOCK` faces it runs exactly as above. Beyond,
`cluster` is blocked: the faces are split by recursive 2-means bisection into blocks of at most
`MAX_BLOCK` similar faces, exact average linkage runs inside each block, then the clusters of all
blocks are linked once more by average linkage on cluster summaries (size, centroid, spread:
the mean distance between two clusters is estimated as sqrt(|c_a - c_b|^2 + s_a + s_b), the
root mean square distance, from the mean squared distance's exact decomposition), blocked the
same way if there are still too many. Memory is O(MAX_BLOCK^2 + 128 n). The accuracy cost is
measured in docs/faces.md ("Bounded people clustering") against the exact result.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Average-linkage cut: two groups of faces are one person while their mean distance is below it.
DEFAULT_PERSON_THRESHOLD = 0.53

#: Largest set of faces (or clusters) linked exactly in one distance matrix: 2,000 x 2,000
#: float64 is 32 MB.
MAX_BLOCK = 2000


def _distances(points: np.ndarray, spread: np.ndarray | None = None) -> np.ndarray:
    """Pairwise Euclidean distances from explicit differences, not the BLAS `a.a + b.b - 2a.b`
    shortcut: no cancellation error, and no dependence on the BLAS build or thread count.

    With `spread` (mean squared distance of each group to its centroid), the distance between
    groups is the root mean square distance between their members, sqrt(d^2 + s_i + s_j)."""
    n = len(points)
    dist = np.empty((n, n))
    for i in range(n):
        diff = points[i:] - points[i]
        sq = np.einsum("ij,ij->i", diff, diff)
        if spread is not None:
            sq = sq + spread[i:] + spread[i]
        dist[i, i:] = np.sqrt(sq)
        dist[i:, i] = dist[i, i:]
    np.fill_diagonal(dist, np.inf)
    return dist


def cluster(
    descriptors: Sequence[Sequence[float]],
    threshold: float = DEFAULT_PERSON_THRESHOLD,
    block: int = MAX_BLOCK,
) -> list[int]:
    """One label per descriptor; equal labels mean "same person". Deterministic.

    Average linkage: clusters merge while the mean pairwise distance between them is below
    `threshold`. Labels are numbered in order of first appearance. Exact up to `block`
    descriptors; blocked beyond (see the module docstring).
    """
    n = len(descriptors)
    if n == 0:
        return []
    points = np.asarray(descriptors, dtype=np.float64).reshape(n, -1)
    if n <= block:
        return _labels(_linkage(_distances(points), np.ones(n), threshold))
    root = _blocked(points, np.ones(n), np.zeros(n), threshold, max(2, block))
    return _labels(root)


def _linkage(dist: np.ndarray, size: np.ndarray, threshold: float) -> list[int]:
    """Average linkage on a distance matrix (consumed) between groups of the given sizes.

    Uses the nearest-neighbour-chain algorithm (average linkage is reducible, so it builds the
    same clusters as the greedy closest-pair-first order): O(n^2) time and memory. Returns the
    parent array (each index points towards its cluster's representative).
    """
    n = len(size)
    size = size.astype(np.float64).copy()
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
    return parent


def _root(parent: list[int], i: int) -> int:
    while parent[i] != i:
        i = parent[i]
    return i


def _bisect(points: np.ndarray, index: np.ndarray, block: int) -> list[np.ndarray]:
    """Split `index` into groups of at most `block` similar points (recursive 2-means)."""
    if len(index) <= block:
        return [index]
    sub = points[index]
    a = sub[int(np.argmax(np.einsum("ij,ij->i", sub - sub[0], sub - sub[0])))]
    b = sub[int(np.argmax(np.einsum("ij,ij->i", sub - a, sub - a)))]
    side = np.zeros(len(index), dtype=bool)
    for _ in range(10):
        da = np.einsum("ij,ij->i", sub - a, sub - a)
        db = np.einsum("ij,ij->i", sub - b, sub - b)
        new = db < da
        if new.all() or not new.any() or (new == side).all():
            side = new
            break
        side = new
        a, b = sub[~side].mean(axis=0), sub[side].mean(axis=0)
    if side.all() or not side.any():  # identical points: split in index order
        side = np.arange(len(index)) >= len(index) // 2
    return _bisect(points, index[~side], block) + _bisect(points, index[side], block)


def _blocked(
    points: np.ndarray, size: np.ndarray, spread: np.ndarray, threshold: float, block: int
) -> list[int]:
    """Parent array over `points` (groups of `size` with mean squared spread `spread`):
    exact linkage inside blocks, then linkage of the blocks' clusters on their summaries."""
    n = len(points)
    parent = list(range(n))
    for index in _bisect(points, np.arange(n), block):
        dist = _distances(points[index], spread[index] if spread.any() else None)
        local = _linkage(dist, size[index], threshold)
        for i, p in enumerate(local):
            parent[int(index[i])] = int(index[p])
    roots = sorted({_root(parent, i) for i in range(n)})
    if len(roots) == n or len(roots) == 1:
        return parent
    # summaries of the clusters found: size, centroid, mean squared distance to the centroid
    where = {r: k for k, r in enumerate(roots)}
    member = np.array([where[_root(parent, i)] for i in range(n)])
    m = len(roots)
    weight = np.bincount(member, weights=size, minlength=m)
    centre = np.zeros((m, points.shape[1]))
    np.add.at(centre, member, points * size[:, None])
    centre /= weight[:, None]
    own = points - centre[member]
    sq = size * (np.einsum("ij,ij->i", own, own) + spread)
    spreads = np.bincount(member, weights=sq, minlength=m) / weight
    if m >= n:  # no progress possible at this level
        return parent
    upper = _blocked(centre, weight, spreads, threshold, block)
    for k, r in enumerate(roots):
        target = roots[_root(upper, k)]
        if target != r:
            parent[r] = target
    return parent


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
    numbering: dict[int, int] = {}
    return [numbering.setdefault(_root(parent, i), len(numbering)) for i in range(len(parent))]


def count_people(labels: Sequence[int]) -> int:
    """Number of distinct clusters (people)."""
    return len(set(labels))
