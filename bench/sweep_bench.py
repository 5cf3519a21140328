"""Suspected-sweep benchmark: lines per second of the sweep, and what it costs the log pass.

Usage (from the repository root)::

    .venv/bin/python bench/sweep_bench.py [--lines 1000000]

Generated into a temporary folder (deleted afterwards; nothing is committed):

* `sweep`: `Sweeper.line` over N non-matching lines (timestamps, levels, paths, words of real
  logs, none a catalogued face call): lines per second of the sweep alone;
* `matcher`: the same lines through the one Aho-Corasick automaton (`sweep.scan`) and through
  one compiled alternation (`re`) of the same terms on the lower-cased line, the two designs
  the sweep was chosen between;
* `log pass`: `read_file` on N access-log lines (the httplog source reads every one, so the
  sweep never runs) with the sweep as shipped and with it replaced by a no-op: the cost of the
  sweep's bookkeeping to a readable file (the budget is 10 %);
* `unread file`: `read_file` on the same N lines in a file of unknown type (every line swept),
  against the log pass: what sweeping costs where it does run.

Each figure is the best of `--repeat` runs (default 3). The machine's load (`os.getloadavg`)
is printed with the numbers; run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from auditor.catalogue.terms import TERMS
from auditor.config.bundle import SourceSettings
from auditor.sources import ReadJob, read_file
from auditor.sources import sweep as sweep_mod
from auditor.sources.base import FileResult

WORDS = (
    "GET POST PUT /index.html /api/v2/orders /static/app.js /healthz user login logout "
    "session cache miss hit worker job queued started finished retry backend upstream "
    "timeout=30 status=200 bytes=5123 duration=12ms request_id=8f3a labels detected "
    "DetectLabels GetLabelDetection interface surface"
).split()


def _lines(n: int) -> list[bytes]:
    rng = random.Random(7)
    out = []
    for i in range(n):
        words = " ".join(rng.choice(WORDS) for _ in range(12))
        out.append(f"2026-03-14T09:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z INFO {words}\n")
    return [x.encode() for x in out]


def _clf(n: int) -> bytes:
    line = (
        '10.0.{a}.{b} - - [14/Mar/2026:09:02:51 +0000] "GET /api/v2/orders/{i} HTTP/1.1" 200 '
        '5123 "-" "python-requests/2.31.0"\n'
    )
    return "".join(line.format(a=i % 250, b=i % 200, i=i) for i in range(n)).encode()


def _best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _read(root: Path, rel: str) -> FileResult:
    return read_file(ReadJob(str(root), rel, "auto", SourceSettings()))


class _NoSweep(sweep_mod.Sweeper):
    """The sweep replaced by a no-op (what the log pass costs without it)."""

    def line(self, *args: object, **kwargs: object) -> None:
        return None

    def record(self, *args: object, **kwargs: object) -> None:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.lines
    print(f"load average before: {os.getloadavg()}; cpus: {os.cpu_count()}")
    lines = _lines(n)

    def sweep_all() -> None:
        s = sweep_mod.Sweeper(FileResult("x", "x"))
        for i, raw in enumerate(lines, 1):
            s.line(raw, i)
        s.flush()
        assert s.hits == 0

    t = _best(sweep_all, args.repeat)
    print(f"sweep: {n:,} non-matching lines in {t:.2f} s = {n / t:,.0f} lines/s")

    sample = [x.decode().lower() for x in lines[: min(n, 200_000)]]
    auto = sweep_mod.automaton()
    alternation = re.compile("|".join(re.escape(t.text) for t in TERMS))
    t_ac = _best(lambda: sum(1 for s in sample for _ in auto.iter(s)), args.repeat)
    t_re = _best(lambda: sum(1 for s in sample if alternation.search(s)), args.repeat)
    per = 1e6 / len(sample)
    print(
        f"matcher over {len(sample):,} lines ({len(TERMS)} terms): Aho-Corasick "
        f"{t_ac * per:.2f} us/line, re alternation {t_re * per:.2f} us/line"
    )

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = _clf(n)
        (root / "access.log").write_bytes(data)
        (root / "access.out").write_bytes(data)
        result = _read(root, "access.log")
        assert result.source == "httplog" and result.records == n and not result.issues
        t_pass = _best(lambda: _read(root, "access.log"), args.repeat)
        shipped = sweep_mod.Sweeper
        import auditor.sources as sources_mod

        sources_mod.Sweeper = _NoSweep  # type: ignore[misc]
        try:
            t_off = _best(lambda: _read(root, "access.log"), args.repeat)
        finally:
            sources_mod.Sweeper = shipped  # type: ignore[misc]
        print(
            f"log pass: {n:,} access-log lines in {t_pass:.2f} s with the sweep, "
            f"{t_off:.2f} s without ({(t_pass / t_off - 1) * 100:+.1f} %)"
        )
        unread = _read(root, "access.out")
        assert unread.source == "auto" and unread.records == 0
        t_unread = _best(lambda: _read(root, "access.out"), args.repeat)
        print(
            f"unread file: {n:,} lines swept in {t_unread:.2f} s "
            f"({t_unread / t_pass * 100:.0f} % of the log pass over the same lines)"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
