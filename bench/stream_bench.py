"""Flat-memory benchmark: peak RSS of `auditor audit` on 100,000 face operations and on 1 / 2 GB
of CloudTrail, this tree against a baseline commit measured in the same sitting.

Usage (from the repository root)::

    .venv/bin/python bench/stream_bench.py [--baseline COMMIT] [--ops 100000] [--keep]

* The face-operation bundle has `--ops` police `SearchFacesByImage` CloudTrail records (each one
  a finding of the Amazon moratorium pack, all 14 packs evaluated) in files of 1,000 records,
  times shuffled within a file, each referencing one of `--frames` frame names under frames/
  (a frame is referenced by many operations). The frames are absent: frames are samples, and
  the point here is the findings, the report and the store, not the face pass.
  It is audited with the JSON report and the SQLite store written (`--db` in a scratch folder).
* The log corpora are bench/logs_bench.py's generator (1 GiB and 2 GiB, `--no-frames
  --no-store`, JSON report).
* The baseline is `git archive BASELINE auditor` run by the same interpreter with the archive
  first on `sys.path`; both trees run the same commands, one at a time, under `/usr/bin/time -v`
  (peak RSS of the largest process) while logs_bench's sampler sums the process tree.

Everything generated lives in bench/corpus/ (git-ignored) and is deleted unless `--keep`.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import logs_bench  # noqa: E402
from logs_bench import (  # noqa: E402
    CORPUS,
    DEMO_PRINCIPALS,
    OUT,
    ROOT,
    Run,
    _s3,
    corpus,
    identity,
    log_files,
    machine,
    measure,
    rekognition_record,
    wait_quiet,
    warm_cache,
)

PYTHON = ROOT / ".venv" / "bin" / "python"
RUNNER = "import sys; sys.path.insert(0, sys.argv.pop(1)); from auditor.cli import app; app()"


def face_ops_bundle(dest: Path, ops: int, frames: int, seed: int) -> dict[str, int]:
    """Write `ops` police face searches (CloudTrail files of 1,000 records) into a bundle."""
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "logs").mkdir(parents=True)
    shutil.copyfile(DEMO_PRINCIPALS, dest / "principals.toml")
    rng = random.Random(seed)
    metro = identity("role", "111122223333", "metro-pd-search/j.doe")
    start = datetime(2023, 1, 1, tzinfo=UTC)
    written = 0
    for n in range(0, ops, 1000):
        records = []
        for i in range(n, min(ops, n + 1000)):
            frame = rng.randrange(frames)
            key = f"metro-pd/cam-{frame % 40:02d}/f{frame:06d}.jpg"
            rec = rekognition_record(
                metro,
                "SearchFacesByImage",
                {
                    "collectionId": "metro-watchlist",
                    "maxFaces": 5,
                    "image": _s3("metro-pd-evidence", key),
                },
                None,
            )
            when = start + timedelta(seconds=rng.randrange(365 * 86400))
            rec["eventTime"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
            rec["eventID"] = f"00000000-0000-4000-8000-{i:012d}"
            rec["requestID"] = f"10000000-0000-4000-8000-{i:012d}"
            records.append(rec)
        (dest / "logs" / f"ops-{n // 1000:04d}.json").write_bytes(
            orjson.dumps({"Records": records}) + b"\n"
        )
        written += len(records)
    return {"ops": written, "frames": frames}


def baseline_tree(commit: str) -> Path:
    """The baseline's `auditor` package, extracted from git into bench/corpus/."""
    dest = CORPUS / f"baseline-{commit[:12]}"
    if not (dest / "seeds").is_dir():
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", commit, "auditor", "seeds"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def argv_for(tree: Path | None, args: list[str]) -> list[str]:
    """The command line running `auditor` from `tree` (None: this tree)."""
    source = str(tree) if tree is not None else str(ROOT)
    return [str(PYTHON), "-c", RUNNER, source, *args]


def check(report: Path) -> dict[str, Any]:
    """Counts read back from the JSON report (streamed through orjson: it may be large)."""
    if not report.is_file():
        return {"check": "no report"}
    doc = orjson.loads(report.read_bytes())
    return {
        "findings": len(doc["findings"]),
        "events": doc["summary"]["events"],
        "face_operations": doc["summary"]["face_operations"],
        "errors": len(doc["errors"]),
        "report_mb": round(report.stat().st_size / 1e6, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Build the inputs, time every command once, print and save the results."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--baseline",
        default="3a8a249",
        help="commit measured as the baseline (default: main before streaming)",
    )
    ap.add_argument("--ops", type=int, default=100_000)
    ap.add_argument("--frames", type=int, default=5_000)
    ap.add_argument("--sizes", default="1,2", help="GiB of CloudTrail corpora (default 1,2)")
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--keep", action="store_true", help="keep (and reuse) the corpora")
    ap.add_argument("--quiet-wait", type=float, default=60.0)
    ap.add_argument(
        "--shared",
        type=Path,
        default=None,
        help="the shared folder with realdata/ (default: ../shared or ../../shared)",
    )
    args = ap.parse_args(argv)
    shared = args.shared or next(
        (
            p
            for p in (ROOT.parent / "shared", ROOT.parents[1] / "shared")
            if (p / "realdata").is_dir()
        ),
        ROOT.parent / "shared",
    )
    logs_bench.REALDATA = shared / "realdata" / "cloudtrail"
    CORPUS.mkdir(parents=True, exist_ok=True)
    OUT.mkdir(parents=True, exist_ok=True)
    scratch = CORPUS / "stream-scratch"
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir()
    trees: dict[str, Path | None] = {
        f"baseline {args.baseline}": baseline_tree(args.baseline),
        "streaming (this tree)": None,
    }
    ops_bundle = CORPUS / f"faceops-{args.ops}"
    print(f"face-operation bundle: {args.ops} ops ...", file=sys.stderr, flush=True)
    facts = face_ops_bundle(ops_bundle, args.ops, args.frames, args.seed)
    inputs: list[tuple[str, Path, list[str]]] = [
        (f"{args.ops:,} face ops", ops_bundle, ["--no-cache"])
    ]
    for size in (float(s) for s in args.sizes.split(",") if s):
        name = f"bundle-{size:g}g"
        print(f"corpus {size:g} GiB ...", file=sys.stderr, flush=True)
        corpus(CORPUS / name, size, args.seed + int(size * 10), args.keep)
        inputs.append((f"{size:g} GiB CloudTrail", CORPUS / name, ["--no-frames", "--no-store"]))
    runs: list[Run] = []
    for label, bundle, extra in inputs:
        for tree_label, tree in trees.items():
            report = scratch / "report.json"
            report.unlink(missing_ok=True)
            db = scratch / "store.sqlite"
            for old in scratch.glob("store.sqlite*"):
                old.unlink()
            cmd = ["audit", str(bundle), "--format", "json", "--output", str(report), *extra]
            if "--no-store" not in extra:
                cmd += ["--db", f"sqlite:///{db}"]
            warm_cache(log_files(bundle))
            idle = wait_quiet(args.quiet_wait)
            run = measure(f"{label}: {tree_label}", argv_for(tree, cmd))
            run.extra |= check(report) | {
                "idle_before": idle,
                "input": label,
                "tree": tree_label,
                "argv": " ".join(cmd),
            }
            runs.append(run)
            print(
                f"{run.label}: {run.wall_s:.1f} s, max RSS {run.max_rss_mb:.0f} MB, tree "
                f"{run.tree_rss_mb:.0f} MB, exit {run.exit_code}, {run.extra}",
                file=sys.stderr,
                flush=True,
            )
            report.unlink(missing_ok=True)
    lines = [
        "| input | code | exit | wall s | findings | peak RSS MB, largest process "
        "| process tree | others' CPU s |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r.extra['input']} | {r.extra['tree']} | {r.exit_code} | {r.wall_s:.1f} "
        f"| {r.extra.get('findings', 0):,} | **{r.max_rss_mb:.0f}** "
        f"| {r.tree_rss_mb:.0f} | {r.extra.get('others_cpu_s')} |"
        for r in runs
    ]
    print("\n".join(lines))
    result = {
        "machine": machine(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "face_ops": facts,
        "runs": [asdict(r) for r in runs],
    }
    saved = OUT / f"stream-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    saved.write_text(json.dumps(result, indent=1))
    print(f"machine: {result['machine']}\nsaved: {saved.relative_to(ROOT)}", file=sys.stderr)
    shutil.rmtree(scratch)
    if not args.keep:
        for _, bundle, _ in inputs:
            shutil.rmtree(bundle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
