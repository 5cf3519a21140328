"""Bounded people clustering against the exact one, on the frame benchmark's faces.

Usage (after `bench/faces_bench.py --only c_engine`, which writes faces_c_engine.json and
truth.json into its --out folder)::

    .venv/bin/python bench/people_bench.py [--out bench/out] [--blocks 2000,300,150,75]

The benchmark frames hold about 580 faces, fewer than `MAX_BLOCK`, so the real audit clusters
them exactly; small block sizes force the blocked algorithm on the same faces to show what it
costs: clusters against people, purity and inverse purity (scored as in faces_bench.py), and
agreement with the exact labels (adjusted: share of face pairs on which both agree, same person
or not).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from faces_bench import DEFAULT_OUT, label_faces, purity  # noqa: E402

from auditor.faces.people import DEFAULT_PERSON_THRESHOLD, MAX_BLOCK, cluster  # noqa: E402


def pair_agreement(a: list[int], b: list[int]) -> float:
    """Share of face pairs put together by both or apart by both (Rand index)."""
    pairs = agree = 0
    for i, j in combinations(range(len(a)), 2):
        pairs += 1
        agree += (a[i] == a[j]) == (b[i] == b[j])
    return agree / pairs if pairs else 1.0


def main(argv: list[str] | None = None) -> int:
    """Print the table for docs/faces.md and bench/RESULTS.md."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--blocks", default=f"{MAX_BLOCK},300,150,75,40,20")
    args = ap.parse_args(argv)
    found = json.loads((args.out / "faces_c_engine.json").read_text())
    truth = json.loads((args.out / "truth.json").read_text())
    labels, _, _ = label_faces(found, truth)
    descriptors = [d for faces in found.values() for d in faces["descriptors"]]
    exact = cluster(descriptors, DEFAULT_PERSON_THRESHOLD, block=len(descriptors))
    people = len(set(labels))
    print(f"{len(descriptors)} faces, {people} people (detected faces labelled by the truth)")
    print(
        "| block size | clusters | count error | purity | inverse purity "
        "| pair agreement with exact | seconds |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for block in (int(b) for b in args.blocks.split(",")):
        start = time.perf_counter()
        got = cluster(descriptors, DEFAULT_PERSON_THRESHOLD, block=block)
        seconds = time.perf_counter() - start
        pure, inverse = purity(got, labels)
        kind = " (exact)" if block >= len(descriptors) else ""
        print(
            f"| {block}{kind} | {len(set(got))} | {len(set(got)) - people:+d} | {pure:.3f} "
            f"| {inverse:.3f} | {pair_agreement(got, exact):.5f} | {seconds:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
