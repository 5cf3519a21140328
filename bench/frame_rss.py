"""Peak RSS and CPU of one frame worker at camera sizes and at the pixel limit, this tree
against a named baseline, in one sitting.

Usage (from the repository root; BASE is a checkout of the baseline commit)::

    git worktree add ../base <baseline commit>
    .venv/bin/python bench/frame_rss.py --baseline ../base

Frames are built by bench/camera_frames.py (real photos scaled and pasted onto a canvas; fixed
seeds) at 640x480, 1920x1080, 3840x2160, 4096x4096 (the pixel limit, `FaceParams.max_pixels`)
and 8192x2048 (the same pixel count, twice as wide), plus a run of four 1080p frames in one
process. Each case is one `python -m auditor faces --no-cache --workers 1 --json` process
(the per-process figure; one worker runs in the process) with the tree's package first on the
path; `os.wait4` gives its peak resident set (ru_maxrss, what `/usr/bin/time -v` prints) and
its CPU time. The boxes found must be the same in both trees (the descriptors' equality is tested:
tests/faces/test_faces_memory.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

OUT = ROOT / "bench" / "out" / "frame-rss"
CASES = {
    "640x480": [((640, 480), 1)],
    "1920x1080": [((1920, 1080), 1)],
    "4 x 1920x1080": [((1920, 1080), s) for s in (1, 2, 3, 4)],
    "3840x2160": [((3840, 2160), 1)],
    "4096x4096": [((4096, 4096), 1)],
    "8192x2048": [((8192, 2048), 1)],
}


def _frame(size: tuple[int, int], seed: int) -> Path:
    """The frame, built in a process of its own: a child started from a process that once
    held a 4096x4096 canvas inherits that high-water mark in its ru_maxrss (Linux carries
    the peak across fork and exec), which would be measured as the audit's."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{size[0]}x{size[1]}-{seed}.jpg"
    if not path.exists():
        code = ("import sys; sys.path.insert(0, sys.argv[1]); from camera_frames import "
                "build_frame; build_frame((int(sys.argv[2]), int(sys.argv[3])), "
                "int(sys.argv[4])).save(sys.argv[5], quality=92)")  # fmt: skip
        subprocess.run([sys.executable, "-c", code, str(ROOT / "bench"), str(size[0]),
                        str(size[1]), str(seed), str(path)], check=True)  # fmt: skip
    return path


def _run(tree: Path, frames: list[Path], detector: str) -> dict[str, Any]:
    argv = [sys.executable, "-m", "auditor", "faces", "--no-cache", "--workers", "1", "--json",
            "--detector", detector]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    proc = subprocess.Popen([*argv, *map(str, frames)], cwd=tree, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    faces = [img["boxes"] for img in json.loads(out)]  # descriptors never leave `faces`
    return {"rss_mb": usage.ru_maxrss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime,
            "wall_s": time.perf_counter() - start, "rc": os.waitstatus_to_exitcode(status),
            "faces": faces}  # fmt: skip


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The worst peak RSS and the median CPU of repeated runs (faces and rc: every run's
    must agree, else the first differing one is kept so the comparison fails)."""
    cpu = sorted(run["cpu_s"] for run in runs)
    first = runs[0]
    odd = next((run for run in runs if (run["faces"], run["rc"]) != (first["faces"], first["rc"])),
               first)  # fmt: skip
    return {**odd, "rss_mb": max(run["rss_mb"] for run in runs), "cpu_s": cpu[len(cpu) // 2]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", type=Path, required=True)
    ap.add_argument("--detector", default="hog", choices=["hog", "cnn"])
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated rows of CASES")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs per tree and case, alternating: the table gives the highest "
                         "peak RSS (the bound is on the worst run) and the median CPU")  # fmt: skip
    args = ap.parse_args(argv)
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {os.getloadavg()}, "
          f"--detector {args.detector}")  # fmt: skip
    print("\n| frame(s) | faces | baseline MB | this tree MB | baseline CPU s | this tree CPU s "
          "| CPU ratio | same faces |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    ok = True
    for label in args.cases.split(","):
        frames = [_frame(size, seed) for size, seed in CASES[label]]
        runs: dict[str, list[dict[str, Any]]] = {"base": [], "mine": []}
        for _ in range(max(1, args.repeat)):
            runs["base"].append(_run(args.baseline.resolve(), frames, args.detector))
            runs["mine"].append(_run(ROOT, frames, args.detector))
        base, mine = (_summary(runs[k]) for k in ("base", "mine"))
        same = base["faces"] == mine["faces"] and base["rc"] == mine["rc"] == 0
        ok &= same
        print(
            f"| {label} | {sum(map(len, mine['faces']))} | {base['rss_mb']:.0f} "
            f"| {mine['rss_mb']:.0f} | {base['cpu_s']:.2f} | {mine['cpu_s']:.2f} "
            f"| {mine['cpu_s'] / base['cpu_s']:.2f} | {'yes' if same else 'NO'} |",
            flush=True,
        )
    print(f"\nload after: {os.getloadavg()}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
