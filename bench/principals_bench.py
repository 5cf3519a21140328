"""Principal matching: thousands of ARN globs against thousands of events.

Baseline `scan`: every event tries the entries in order (what `Directory.attribute` did before
it memoised); `memo`: `Directory.attribute` as shipped (one scan per distinct principal).
Usage: python bench/principals_bench.py [ENTRIES] [EVENTS] [DISTINCT]
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

from auditor.config import principals
from auditor.core.models import Event, OperationKind, Principal


def main() -> None:
    entries, events, distinct = (int(a) for a in (sys.argv[1:] + ["9626", "5000", "50"])[:3])
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "principals.toml"
        path.write_text(
            "".join(
                f'[[principal]]\narn = "arn:aws:iam::{i:012d}:role/unit-{i}-*"\n'
                'organisation = "Org"\ncategory = "police"\n\n'
                for i in range(entries)
            )
        )
        directory = principals.load(path, "principals.toml")
    evs = [
        Event(
            source="cloudtrail",
            file="x",
            time=datetime(2026, 1, 1, tzinfo=UTC),
            service="rekognition",
            operation="SearchFaces",
            kind=OperationKind.IDENTIFICATION_1TON,
            principal=Principal(
                f"p{n % distinct}", arns=(f"arn:aws:iam::999999999999:role/other-{n % distinct}",)
            ),
        )
        for n in range(events)
    ]
    start = time.perf_counter()
    for ev in evs:  # the baseline: every event scans the entries
        next((r for r in directory.rules if r.matches(ev.principal)), None)
    scan = time.perf_counter() - start
    start = time.perf_counter()
    for ev in evs:
        directory.attribute(ev)
    memo = time.perf_counter() - start
    row = (f"{entries:,}", f"{events:,}", str(distinct), f"{scan:.2f}", f"{memo:.3f}")
    print("| " + " | ".join(row) + f" | {scan / memo:.0f}x |")


if __name__ == "__main__":
    main()
