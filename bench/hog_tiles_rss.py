"""Peak RSS and CPU time of one frame through dlib's HOG detector: whole frame vs hogtiles.

Run one measurement per process, under /usr/bin/time -v, so "Maximum resident set size" is
that mode's alone:

    /usr/bin/time -v .venv/bin/python bench/hog_tiles_rss.py whole 3840x2160
    /usr/bin/time -v .venv/bin/python bench/hog_tiles_rss.py tiled 3840x2160
    /usr/bin/time -v .venv/bin/python bench/hog_tiles_rss.py imports      # baseline
    .venv/bin/python bench/hog_tiles_rss.py table                          # all of them

The frame is built by bench/camera_frames.py (real photos pasted on a canvas) and saved as .npy
in the temporary folder first; the measured process only np.load()s it (building a 4K frame
with PIL peaks at ~270 MB by itself, which would hide what detection costs). The detector file
is saved once to a temporary folder. `table` runs every
mode in a child process under /usr/bin/time -v and prints a Markdown table; it also checks that
the tiled run returned exactly what the whole-frame run did (boxes, scores, weight indices).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

SIZES = ("1920x1080", "3840x2160", "4096x4096")


def _measure(mode: str, size: str, upsample: int, strip_rows: int, detector_file: str) -> None:
    import dlib
    import numpy as np
    import PIL.Image  # noqa: F401  (the baseline counts what a frame worker imports)

    if mode == "imports":
        print(json.dumps({"mode": mode}))
        return
    img = np.load(_frame_file(size))  # built beforehand: building it peaks far above the frame
    start = time.process_time()
    if mode == "whole":
        rects, scores, indices = dlib.fhog_object_detector(detector_file).run(img, upsample, 0.0)
    else:
        from auditor.faces.hogtiles import TiledHogDetector

        rects, scores, indices = TiledHogDetector(detector_file, strip_rows).run(img, upsample)
    cpu = time.process_time() - start
    boxes = [[r.left(), r.top(), r.right(), r.bottom()] for r in rects]
    print(
        json.dumps(
            {
                "mode": mode,
                "size": size,
                "cpu_s": round(cpu, 2),
                "boxes": boxes,
                "scores": list(scores),
                "indices": list(indices),
            }
        )
    )


def _frame_file(size: str) -> Path:
    return Path(tempfile.gettempdir()) / f"hog_tiles_rss_frame_{size}.npy"


def _build_frames() -> None:
    import numpy as np
    from camera_frames import build_frame, photo_paths

    photos = photo_paths()  # the shared photos next to the checkout, where they are
    for size in SIZES:
        if not _frame_file(size).exists():
            width, height = (int(v) for v in size.split("x"))
            frame = build_frame((width, height), seed=width + height, photos=photos)
            np.save(_frame_file(size), np.asarray(frame))


def _child(args: list[str]) -> tuple[dict[str, object], int]:
    proc = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, __file__, *args],
        capture_output=True,
        text=True,
        check=True,
    )
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    assert rss is not None, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1]), int(rss.group(1))


def _table(upsample: int, strip_rows: int, detector_file: str) -> None:
    _, base = _child(["imports", "-", str(upsample), str(strip_rows), detector_file])
    print(f"import dlib+numpy+PIL only: {base / 1024:.0f} MB\n")
    print("| frame | whole RSS MB | tiled RSS MB | whole CPU s | tiled CPU s | ratio | same |")
    print("|---|---|---|---|---|---|---|")
    for size in SIZES:
        whole, whole_rss = _child(["whole", size, str(upsample), str(strip_rows), detector_file])
        tiled, tiled_rss = _child(["tiled", size, str(upsample), str(strip_rows), detector_file])
        same = all(whole[k] == tiled[k] for k in ("boxes", "scores", "indices"))
        ratio = float(tiled["cpu_s"]) / max(float(whole["cpu_s"]), 1e-9)  # type: ignore[arg-type]
        print(
            f"| {size} | {whole_rss / 1024:.0f} | {tiled_rss / 1024:.0f} | {whole['cpu_s']} "
            f"| {tiled['cpu_s']} | {ratio:.2f} | {same} ({len(whole['boxes'])} faces) |"
        )  # type: ignore[arg-type]


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "table"
    size = sys.argv[2] if len(sys.argv) > 2 else "3840x2160"
    upsample = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    strip_rows = int(sys.argv[4]) if len(sys.argv) > 4 else 512
    if len(sys.argv) > 5:
        detector_file = sys.argv[5]
    else:
        import dlib

        detector_file = str(Path(tempfile.mkdtemp()) / "frontal_face_detector.svm")
        dlib.get_frontal_face_detector().save(detector_file)
    _build_frames()
    if mode == "table":
        _table(upsample, strip_rows, detector_file)
    else:
        _measure(mode, size, upsample, strip_rows, detector_file)


if __name__ == "__main__":
    main()
