"""Store benchmark: writing and reading back runs with many findings, SQLite and PostgreSQL.

Compares, in the same sitting and on the same findings:

* `v010`: release 0.1.0's store code (tests/store/legacy_v010.py, verbatim): the whole report in
  memory, one JSON string of it in `runs.report`, flat finding rows through the ORM;
* `save_run`: today's `Store.save_run` (a whole report in memory, written through the writer);
* `stream`: today's `Store.open_run` fed by a generator (no list of findings anywhere);

and for reading: `v010-read` (json.loads of the stored report), `load_report` (head plus every
finding as a list) and `iter` (`Store.iter_findings`, one finding at a time).

Each case runs in its own process; it reports the wall and CPU time of the timed part and its
peak RSS (VmHWM) above the RSS it had before that part (imports done, store opened, finding
template loaded). The parent records how much CPU the rest of the machine used meanwhile.
PostgreSQL is a throw-away server (tests/store/pgcluster.py) with fsync off, as in the tests:
the figures compare code paths, not durable-commit latency.

    .venv/bin/python bench/store_bench.py [--findings 20000,100000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "store")]
OUT = ROOT / "bench" / "out"
TEMPLATE = OUT / "store_template.json"
WRITES = ("v010", "save_run", "stream")
READS = {"v010": ("v010-read",), "stream": ("load_report", "iter")}


def _status_kb(key: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process; unlike ru_maxrss, VmHWM is not inherited
    from the parent across fork and exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _rss_kb() -> int:
    return _status_kb("VmRSS")


def _cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def findings(template: dict[str, Any], n: int) -> Iterator[dict[str, Any]]:
    """`n` distinct findings shaped like the demo's real ones (frames, boxes, persons)."""
    real = template["findings"]
    for i in range(n):
        f = copy.deepcopy(real[i % len(real)])
        f["id"] = f"{i:020x}"
        f["message"] = f"{f['message']} (#{i})"
        yield f


def case(name: str, url: str, n: int, run_id: str) -> dict[str, Any]:
    """One timed case, in this (child) process."""
    from auditor.core.reportdoc import TypedReport
    from auditor.store import Store

    template = json.loads(TEMPLATE.read_text())
    head = {k: v for k, v in template.items() if k != "findings"}
    head["run"] = {**head["run"], "id": run_id}
    if name == "v010":
        import legacy_v010 as legacy

        from auditor.store.engine import normalise_url

        url = normalise_url(url)
        legacy.create(url)
        before, t0, cpu0 = _rss_kb(), time.perf_counter(), _cpu()
        report = {**head, "findings": list(findings(template, n))}
        legacy.save_run(url, report, "/bench", 1)
    elif name == "v010-read":
        from sqlalchemy import create_engine, text

        from auditor.store.engine import normalise_url

        engine = create_engine(normalise_url(url))
        before, t0, cpu0 = _rss_kb(), time.perf_counter(), _cpu()
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT report FROM runs WHERE id = :i"), {"i": run_id})
            count = len(json.loads(stored.scalar_one())["findings"])
        assert count == n
    else:
        store = Store(url)
        before, t0, cpu0 = _rss_kb(), time.perf_counter(), _cpu()
        if name == "save_run":
            store.save_run({**head, "findings": list(findings(template, n))}, "/bench", 1)
        elif name == "stream":
            started = datetime.fromisoformat(head["run"]["started"].replace("Z", "+00:00"))
            typed = TypedReport.of({**head, "findings": findings(template, n)})
            with store.open_run(run_id, "/bench", started, "bench") as w:
                w.add_inputs(typed.head.inputs)
                w.add_findings(typed.findings)
                w.finish(typed.head, 1)
        elif name == "load_report":
            assert len(store.load_report(run_id).findings) == n
        elif name == "iter":
            assert sum(1 for _ in store.iter_findings(run_id)) == n
    wall = time.perf_counter() - t0
    peak = _status_kb("VmHWM")
    return {
        "case": name,
        "findings": n,
        "wall_s": wall,
        "cpu_s": _cpu() - cpu0,
        "rss_before_mb": before / 1024,
        "peak_growth_mb": max(0, peak - before) / 1024,
    }


def _busy_ticks() -> int:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4]  # all but idle and iowait


def measure(name: str, url: str, n: int, run_id: str) -> dict[str, Any]:
    busy0 = _busy_ticks()
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--case",
            name,
            "--url",
            url,
            "--findings",
            str(n),
            "--run-id",
            run_id,
        ],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr}")
    usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    ticks = os.sysconf("SC_CLK_TCK")
    result: dict[str, Any] = json.loads(done.stdout)
    result["other_cpu_s"] = max(0.0, (_busy_ticks() - busy0) / ticks - child_cpu)
    return result


def make_template() -> None:
    """The report of a real audit of the demo bundle, frames included."""
    from auditor.run.audit import run_audit
    from auditor.run.options import AuditOptions

    with tempfile.TemporaryDirectory() as tmp:
        import shutil

        bundle = Path(tmp) / "demo"
        shutil.copytree(ROOT / "fixtures" / "demo", bundle)
        report = run_audit(bundle, AuditOptions(workers=1, use_cache=False)).report
    OUT.mkdir(parents=True, exist_ok=True)
    TEMPLATE.write_text(json.dumps(report))


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| backend | findings | case | wall s | findings/s | CPU s | other CPU s "
        "| peak RSS growth MB |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    lines.extend(
        f"| {r['backend']} | {r['findings']:,} | {r['case']} | {r['wall_s']:.2f} "
        f"| {r['findings'] / r['wall_s']:,.0f} | {r['cpu_s']:.2f} "
        f"| {r['other_cpu_s']:.2f} | {r['peak_growth_mb']:.1f} |"
        for r in rows
    )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--findings", default="20000,100000")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--case")
    ap.add_argument("--url")
    ap.add_argument("--run-id", default="bench")
    args = ap.parse_args()
    if args.case:
        print(json.dumps(case(args.case, args.url, int(args.findings), args.run_id)))
        return 0
    make_template()
    sizes = [int(x) for x in args.findings.split(",")]
    rows: list[dict[str, Any]] = []
    cluster = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for backend in args.backends.split(","):
                if backend == "postgresql" and cluster is None:
                    from pgcluster import Cluster

                    cluster = Cluster()
                    cluster.start()
                for n in sizes:
                    for write in WRITES:
                        if backend == "sqlite":
                            url = f"sqlite:///{tmp}/{write}-{n}.db"
                        else:
                            assert cluster is not None
                            url = cluster.url(cluster.create_database())
                        for name in (write, *READS.get(write, ())):
                            row = measure(name, url, n, f"run-{write}-{n}")
                            rows.append({"backend": backend, **row})
                            print(json.dumps(rows[-1]), file=sys.stderr)
    finally:
        if cluster is not None:
            cluster.stop()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    raw = OUT / f"store-{stamp}.json"
    raw.write_text(
        json.dumps(
            {
                "machine": platform.uname()._asdict(),
                "python": platform.python_version(),
                "rows": rows,
            },
            indent=1,
        )
    )
    print(markdown(rows))
    print(f"\nraw results: {raw.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
