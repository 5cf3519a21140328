"""Log tasks of several small files against one task per file, on a real Dask cluster.

Usage (from the repository root; BASE is a checkout of the named baseline, the commit before
log files were grouped into tasks)::

    git worktree add ../base <baseline commit>
    .venv/bin/python bench/log_groups.py --baseline ../base [--size-gb 0.25] [--workers 2]

The corpus is the generator of bench/logs_bench.py with files the size of real CloudTrail
delivery files (87-226 KB before compression, as the three real files in fixtures/realdata;
20 % gzipped), where one task per file made the scheduler the limit (bench/RESULTS.md, "Cost on
more than one machine"). Each tree (the baseline, then this checkout) audits it with
`--no-frames` on a fresh `dask scheduler` plus N `dask worker --nthreads 1` on 127.0.0.1, and
with the local pool of N workers; the tree's package is put first on PYTHONPATH for the client
and the workers. CPU seconds per process role come from /proc (bench/scale_bench.py's
sampler). Every report must equal the baseline pool's outside the `run` block ("check").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import logs_bench  # noqa: E402 - the corpus generator and machine facts
import scale_bench  # noqa: E402 - the cluster, the sampler, the report comparison

CORPUS = ROOT / "bench" / "corpus" / "small-files"
#: Sizes of real CloudTrail delivery files (fixtures/realdata/cloudtrail: 87, 179, 226 KB).
REAL_FILE_MB = (0.087, 0.226)


def _audit(tree: Path, mode: str, workers: int, address: str, report: Path) -> list[str]:
    argv = scale_bench.audit_argv(CORPUS, report, mode, workers, address, frames=False)
    return [sys.executable, "-m", "auditor", *argv[1:]]  # the tree's package, not the script's


def _one(tree: Path, mode: str, workers: int, out: Path) -> dict[str, Any]:
    os.environ["PYTHONPATH"] = str(tree)  # the client and the cluster's processes import it
    report = out / f"{tree.name}-{mode.replace(' ', '-')}.json"
    cluster = scale_bench.Cluster(workers, out / "cluster") if mode == "dask cluster" else None
    here = Path.cwd()
    os.chdir(tree)  # `python -m` puts the working folder first on sys.path
    try:
        roots = cluster.roots() if cluster else {}
        run = scale_bench.measure(_audit(tree, mode, workers, cluster.address if cluster else "",
                                         report), roots)  # fmt: skip
    finally:
        os.chdir(here)
        if cluster:
            cluster.stop()
    run.update(tree=str(tree), mode=mode, report=str(report))
    return run


def markdown(runs: list[dict[str, Any]], stats: logs_bench.CorpusStats) -> str:
    base = {r["mode"]: r["wall_s"] for r in runs if r["label"] == "baseline"}
    lines = [
        f"Corpus: {stats.files:,} CloudTrail files, {stats.records:,} records, "
        f"{stats.json_bytes / 1e6:,.0f} MB of JSON ({stats.json_bytes / stats.files / 1e3:.0f} KB "
        "a file on average).",
        "",
        "| code | executor | wall s | x baseline | files/s | CPU s: client | its children "
        "| scheduler | workers | other load (cores) | check |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in runs:
        cpu = r["cpu_by_role"]
        lines.append(
            f"| {r['label']} | {r['mode']} | {r['wall_s']} | {base[r['mode']] / r['wall_s']:.2f} "
            f"| {stats.files / r['wall_s']:,.0f} | {cpu.get('client', 0)} "
            f"| {cpu.get('client child', 0)} | {cpu.get('scheduler', 0)} | {cpu.get('workers', 0)} "
            f"| {r['others_cores']} | {r['check']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", type=Path, required=True, help="checkout of the baseline")
    ap.add_argument("--size-gb", type=float, default=0.25)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20261203)
    ap.add_argument("--keep", action="store_true", help="keep (and reuse) the corpus")
    args = ap.parse_args(argv)
    manifest = CORPUS.parent / f"{CORPUS.name}.manifest.json"
    if args.keep and manifest.is_file():
        stats = logs_bench.CorpusStats(**json.loads(manifest.read_text()))
    else:
        stats = logs_bench.build_corpus(CORPUS, args.size_gb, args.seed, REAL_FILE_MB)
    out = scale_bench.OUT / f"groups-{datetime.now(UTC):%Y%m%dT%H%M%S}"
    out.mkdir(parents=True)
    runs = []
    for label, tree in (("baseline", args.baseline.resolve()), ("this tree", ROOT)):
        for mode in ("local pool", "dask cluster"):
            logs_bench.wait_quiet(10.0)
            run = _one(tree, mode, args.workers, out)
            run["label"] = label
            runs.append(run)
            print(f"{label} {mode}: {run['wall_s']} s, exit {run['exit']}", file=sys.stderr)
    want = scale_bench.strip_run(Path(runs[0]["report"]).read_text())
    for run in runs:
        run["check"] = "ok" if scale_bench.strip_run(Path(run["report"]).read_text()) == want \
            else "DIFFERS"  # fmt: skip
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    text = f"{started}, {logs_bench.machine()}\n\n{markdown(runs, stats)}\n"
    (out / "result.md").write_text(text)
    (out / "result.json").write_text(json.dumps(runs, indent=1))
    print(text)
    if not args.keep:
        import shutil

        shutil.rmtree(CORPUS, ignore_errors=True)
        manifest.unlink(missing_ok=True)
    return 0 if all(r["check"] == "ok" and r["exit"] in (0, 1, 3) for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
