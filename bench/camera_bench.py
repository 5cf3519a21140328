"""Frame pass at camera resolutions: frames/s, CPU and peak RSS per process, naive loop vs auditor.

    .venv/bin/python bench/camera_bench.py                  # 640x480, 1080p, 4K; 2 repeats
    .venv/bin/python bench/camera_bench.py --repeats 3 --only auditor

Frames are built by bench/camera_frames.py (real photos scaled and pasted onto a canvas of the
camera size, fixed seeds) into bench/out/camera/. Every variant runs in its own process, as a
user runs it, so imports and model loading are paid; `os.wait4` gives its CPU time and its peak
resident set (ru_maxrss, the figure `/usr/bin/time -v` prints):

* `naive`: face_recognition's documented loop, `load_image_file`, `face_locations(img)`
  (HOG, upsample 1) and `face_encodings(img, boxes)`, one process;
* `auditor`: `auditor faces --no-cache --workers 1` (one process: the per-process figure);
* `floor`: the same dlib detector and 5-point landmarks plus the onnx kernel on decoded frames,
  timed in-process around those calls only (CPU seconds per frame on one core): what no
  pipeline can go below on this build.

The machine is shared: the load average is recorded before and after each run, and the table
gives CPU seconds next to wall seconds (CPU time is far less sensitive to other users' load).
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
sys.path.insert(0, str(ROOT / "bench"))
#: Builds one frame. A child of a process that once held a large canvas inherits that peak in
#: its ru_maxrss (Linux keeps it across fork and exec), so frames are never built in this one.
BUILD = (
    "import sys; sys.path.insert(0, sys.argv[1]); from camera_frames import build_frame; "
    "build_frame((int(sys.argv[2]), int(sys.argv[3])), int(sys.argv[4])).save(sys.argv[5], "
    "quality=92)"
)

OUT = ROOT / "bench" / "out" / "camera"
SIZES = {"640x480": ((640, 480), 8), "1080p": ((1920, 1080), 4), "4K": ((3840, 2160), 2)}
PY = sys.executable

NAIVE = """
import sys, warnings
warnings.simplefilter("ignore")
import face_recognition
n = 0
for path in sys.argv[1:]:
    img = face_recognition.load_image_file(path)
    boxes = face_recognition.face_locations(img, number_of_times_to_upsample=1)
    n += len(face_recognition.face_encodings(img, known_face_locations=boxes))
print(n)
"""

FLOOR = """
import sys, time
import dlib, numpy as np
from auditor.faces.decode import decode_file
from auditor.faces.hogfile import load_detector
from auditor.faces.kernels import load_kernel
from auditor.faces.modelfiles import model_paths
detector = load_detector()[0]
predictor = dlib.shape_predictor(str(model_paths()["shape_predictor_5"]))
kernel = load_kernel("onnx")
spent = {"detect": 0.0, "landmarks+kernel": 0.0}
n = 0
for path in sys.argv[1:]:
    img = decode_file(path, 1 << 30).pixels
    t0 = time.process_time()
    rects = detector(img, 1)
    t1 = time.process_time()
    shapes = dlib.full_object_detections()
    for r in rects:
        shapes.append(predictor(img, r))
    n += len(kernel([img], [shapes], 0.25)[0])
    spent["detect"] += t1 - t0
    spent["landmarks+kernel"] += time.process_time() - t1
print(n, spent["detect"], spent["landmarks+kernel"])
"""


def frames(label: str) -> list[Path]:
    (size, count) = SIZES[label]
    folder = OUT / label
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed in range(count):
        path = folder / f"frame{seed:02d}.jpg"
        if not path.exists():  # in a process of its own: see bench/frame_rss.py's `_frame`
            subprocess.run([PY, "-c", BUILD, str(ROOT / "bench"), str(size[0]), str(size[1]),
                            str(seed + 1), str(path)], check=True)  # fmt: skip
        paths.append(path)
    return paths


def run(command: list[str]) -> dict[str, Any]:
    """Wall and CPU seconds and peak RSS (MB) of one process, and what it printed."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall": time.perf_counter() - start,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
        "rc": proc.returncode,
        "out": out.strip().splitlines()[-1] if out.strip() else "",
    }


def variants(paths: list[Path]) -> dict[str, list[str]]:
    names = [str(p) for p in paths]
    auditor = [str(Path(PY).parent / "auditor"), "faces", "--no-cache", "--workers", "1"]
    return {
        "naive": [PY, "-c", NAIVE, *names],
        "auditor": [*auditor, *names],
        "floor": [PY, "-c", FLOOR, *names],
    }


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--only", action="append", help="naive, auditor or floor")
    parser.add_argument("--sizes", action="append", choices=list(SIZES))
    parser.add_argument("--json", type=Path, default=OUT / "results.json")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for label in args.sizes or list(SIZES):
        paths = frames(label)
        for repeat in range(args.repeats):
            for name, command in variants(paths).items():
                if args.only and name not in args.only:
                    continue
                before = load()
                result = run(command)
                row = {"size": label, "frames": len(paths), "variant": name, "repeat": repeat,
                       "load_before": before, "load_after": load(), **result}  # fmt: skip
                rows.append(row)
                print(json.dumps(row), flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
