"""Person counting: measured on the johns set, and the algorithm checked against brute force."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import numpy as np
import pytest

from auditor.faces.engine import ImageResult
from auditor.faces.people import DEFAULT_PERSON_THRESHOLD, cluster, count_people

# Documented in auditor/faces/people.py and docs/faces.md.
JOHNS_PEOPLE = 5
JOHNS_PURITY = 1.0


def purity(labels: list[int], truth: list[str]) -> float:
    clusters: dict[int, Counter[str]] = {}
    for label, person in zip(labels, truth, strict=True):
        clusters.setdefault(label, Counter())[person] += 1
    return sum(c.most_common(1)[0][1] for c in clusters.values()) / len(truth)


def test_johns_are_five_people_at_the_default(by_name: dict[str, ImageResult]) -> None:
    johns = sorted((name, r) for name, r in by_name.items() if name.startswith("johns/"))
    descriptors = [r.faces[0].descriptor for _, r in johns]
    truth = [name.split("/")[1] for name, _ in johns]
    labels = cluster(descriptors, DEFAULT_PERSON_THRESHOLD)
    assert count_people(labels) == JOHNS_PEOPLE == len(set(truth))
    assert purity(labels, truth) >= JOHNS_PURITY
    assert cluster(descriptors) == labels  # the default is the default


def brute_force(points: np.ndarray, threshold: float) -> list[int]:
    """Greedy average linkage: merge the closest pair of clusters while below the threshold."""
    clusters = [[i] for i in range(len(points))]
    dist = np.sqrt(((points[:, None] - points[None]) ** 2).sum(-1))
    while len(clusters) > 1:
        (a, b), best = min(
            (
                ((a, b), dist[np.ix_(clusters[a], clusters[b])].mean())
                for a, b in itertools.combinations(range(len(clusters)), 2)
            ),
            key=lambda item: item[1],
        )
        if best >= threshold:
            break
        clusters[a] += clusters.pop(b)
    owner = {i: k for k, members in enumerate(clusters) for i in members}
    numbering: dict[int, int] = {}
    return [numbering.setdefault(owner[i], len(numbering)) for i in range(len(points))]


@pytest.mark.parametrize("seed", range(4))
def test_nearest_neighbour_chain_equals_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    centres = [[rng.uniform(0, 3) for _ in range(4)] for _ in range(6)]
    points = np.array([[c + rng.gauss(0, 0.25) for c in rng.choice(centres)] for _ in range(45)])
    for threshold in (0.3, 0.6, 1.0, 2.0):
        assert cluster(points.tolist(), threshold) == brute_force(points, threshold)


def test_edge_cases_and_determinism() -> None:
    assert cluster([], 0.5) == []
    assert cluster([[0.0] * 128], 0.5) == [0]
    same = [[0.1] * 128] * 3
    assert cluster(same, 0.5) == [0, 0, 0]
    far = [[0.0] * 128, [1.0] * 128, [0.0] * 128]
    assert cluster(far, 0.5) == [0, 1, 0]  # numbered by first appearance
    assert cluster(far, 0.5) == cluster(far, 0.5)


def test_blocked_clustering_keeps_the_johns_apart(by_name: dict[str, ImageResult]) -> None:
    """Blocks of 8 faces force the blocked path on real descriptors: still five people."""
    johns = sorted((name, r) for name, r in by_name.items() if name.startswith("johns/"))
    descriptors = [r.faces[0].descriptor for _, r in johns]
    truth = [name.split("/")[1] for name, _ in johns]
    exact = cluster(descriptors, DEFAULT_PERSON_THRESHOLD)
    assert cluster(descriptors, DEFAULT_PERSON_THRESHOLD, block=len(descriptors)) == exact
    blocked = cluster(descriptors, DEFAULT_PERSON_THRESHOLD, block=8)
    assert count_people(blocked) == JOHNS_PEOPLE
    assert purity(blocked, truth) >= JOHNS_PURITY


def test_blocked_clustering_is_bounded_and_deterministic() -> None:
    """3,000 points in blocks of 200: never an n x n matrix, and the groups are found."""
    import tracemalloc

    rng = np.random.default_rng(3)
    centres = rng.normal(size=(60, 128))
    centres *= 0.6 / np.linalg.norm(centres, axis=1)[:, None]
    truth = [int(t) for t in rng.integers(0, 60, 3000)]
    points = (centres[truth] + rng.normal(scale=0.02, size=(3000, 128))).tolist()
    tracemalloc.start()
    labels = cluster(points, DEFAULT_PERSON_THRESHOLD, block=200)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 3000 * 3000 * 8 / 4  # the exact matrix alone would be 72 MB
    assert count_people(labels) == len(set(truth))
    assert purity(labels, [str(t) for t in truth]) == 1.0
    assert cluster(points, DEFAULT_PERSON_THRESHOLD, block=200) == labels
