"""Access-log throughput: `auditor audit --no-frames` on generated nginx combined logs.

The corpus is `--lines` combined-format lines over `--files` files, of which `--face-rate` are
requests to face-API routes (the route catalogue's own examples, with their methods) and the rest
background traffic (static files, other APIs, health checks). The auditor is timed with one
worker and with the default workers; the baseline, timed in the same run, is `grep -c -i -E
'face|/api/v1/'` over the same files: the cheapest hand-written way to find candidate lines, which
neither classifies them nor attributes them. Each auditor run is checked: `summary.events` equals
the lines written, the face operations by kind add up to the face lines written, no errors.

Run: `.venv/bin/python bench/httplog_bench.py [--lines 1000000] [--files 4] [--keep]`.
Timing and memory come from `logs_bench.measure` (own subprocess, /usr/bin/time -v, tree RSS).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from logs_bench import AUDITOR, MB, OUT, Run, machine, measure, wait_quiet  # noqa: E402

from auditor.catalogue.routes import ROUTES  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "corpus" / "httplog"
BACKGROUND = [
    "/static/js/app.{n}.js",
    "/api/v2/events?camera={n}",
    "/healthz",
    "/metrics",
    "/api/v1beta/cameras/{n}/snapshot.jpg",
    "/index.html",
    "/favicon.ico",
    "/vod/cam{n}/index.m3u8",
    "/api/config",
    "/login?next=%2Fdash{n}",
]
AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64)",
    "curl/8.5.0",
    "python-requests/2.31.0",
    "kube-probe/1.29",
    "axios/0.27.2",
]


def build(dest: Path, lines: int, files: int, rate: float, seed: int) -> dict[str, int]:
    """Write the bundle; return what was written (lines, face lines, bytes)."""
    rng = random.Random(seed)
    logs = dest / "logs" / "proxy"
    logs.mkdir(parents=True, exist_ok=True)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    face = written = 0
    per_file = lines // files
    for f in range(files):
        out = []
        for i in range(per_file):
            when = (start + timedelta(seconds=f * per_file + i)).strftime("%d/%b/%Y:%H:%M:%S +0000")
            host = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            if rng.random() < rate:
                route = rng.choice(ROUTES)
                method = sorted(route.methods)[0] if route.methods else "GET"
                path, face = route.example, face + 1
            else:
                method = rng.choice(("GET", "GET", "GET", "POST"))
                path = rng.choice(BACKGROUND).format(n=rng.randrange(10_000))
            status = rng.choice((200, 200, 200, 200, 204, 304, 404, 500))
            out.append(
                f'{host} - - [{when}] "{method} {path} HTTP/1.1" {status} '
                f'{rng.randrange(50, 90_000)} "-" "{rng.choice(AGENTS)}"\n'
            )
        data = "".join(out).encode()
        (logs / f"access-{f}.log").write_bytes(data)
        written += len(data)
    return {"lines": per_file * files, "face_lines": face, "bytes": written}


def checked(run: Run, report: Path, stats: dict[str, int]) -> Run:
    doc = json.loads(report.read_text())
    summary = doc["summary"]
    kinds = sum(summary["kinds"].values())
    run.records, run.json_bytes = stats["lines"], stats["bytes"]
    run.extra |= {
        "events": summary["events"],
        "face_operations_by_kind": kinds,
        "errors": len(doc["errors"]),
        "check": "ok"
        if (
            summary["events"] == stats["lines"]
            and kinds == stats["face_lines"]
            and not doc["errors"]
        )
        else "FAILED",
    }
    return run


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--face-rate", type=float, default=0.001)
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    shutil.rmtree(CORPUS, ignore_errors=True)
    stats = build(CORPUS / "bundle", args.lines, args.files, args.face_rate, args.seed)
    files = sorted((CORPUS / "bundle" / "logs" / "proxy").glob("*.log"))
    for f in files:
        f.read_bytes()  # warm the page cache
    report = CORPUS / "report.json"
    runs = []
    for label, extra in (
        ("auditor audit, 1 worker", ["--workers", "1"]),
        ("auditor audit, default workers", []),
    ):
        wait_quiet(60)
        report.unlink(missing_ok=True)
        run = measure(
            label,
            [
                str(AUDITOR),
                "audit",
                str(CORPUS / "bundle"),
                "--no-frames",
                "--no-store",
                "--format",
                "json",
                "--output",
                str(report),
                *extra,
            ],
        )
        runs.append(checked(run, report, stats))
    wait_quiet(60)
    # to a file: GNU grep stops at the first match when its output is /dev/null
    grep = measure(
        "grep -c -i -E 'face|/api/v1/'",
        ["grep", "-c", "-i", "-E", "face|/api/v1/", *map(str, files)],
        stdout=CORPUS / "grep.out",
    )
    grep.records, grep.json_bytes = stats["lines"], stats["bytes"]
    runs.append(grep)
    base = grep.wall_s or 1.0
    print(
        f"corpus: {stats['lines']:,} lines ({stats['bytes'] / MB:,.0f} MB) in {len(files)} "
        f"files, {stats['face_lines']:,} face-API lines; machine: {machine()}"
    )
    print(
        "| command | wall s | CPU s | lines/s | MB/s | peak RSS MB (largest / tree) | "
        "vs grep (wall) | other processes' CPU s | check |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in runs:
        print(
            f"| `{r.label}` | {r.wall_s:.2f} | {r.cpu_s:.1f} | {r.records_per_s:,.0f} | "
            f"{r.mb_per_s:.1f} | {r.max_rss_mb:.0f} / {r.tree_rss_mb:.0f} | "
            f"{r.wall_s / base:.1f}x | {r.extra.get('others_cpu_s', 0):.1f} | "
            f"{r.extra.get('check', '-')} |"
        )
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (OUT / f"httplog-{stamp}.json").write_text(
        json.dumps(
            {"stats": stats, "runs": [r.__dict__ for r in runs], "machine": machine()}, indent=2
        )
    )
    if not args.keep:
        shutil.rmtree(CORPUS, ignore_errors=True)
    return 0 if all(r.extra.get("check", "ok") == "ok" for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
