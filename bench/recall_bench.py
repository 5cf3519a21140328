"""Detector recall on labelled faces: HOG at upsample 0/1/2, dlib's CNN and auditor's at 0/1.

    .venv/bin/python bench/recall_bench.py            # table to stdout, JSON to bench/out/

Labels: dlib's examples/faces/{training,testing}.xml (imglab format: 43 faces in 9 PASCAL VOC
photos, every face boxed, none marked ignore), from ../shared/faces/davisking-dlib. For every
detector and upsample: faces found, true positives (a one-to-one greedy match of detections to
labels, highest IoU first, IoU >= 0.5), recall = TP / 43, false positives = found - TP, and CPU
seconds per frame (`time.process_time` around the detector call only, one process, one
thread). dlib's CNN (`face_recognition`'s `model="cnn"`) is the reference auditor's cnn
detector must equal; every detector runs here, in this run, on the same pixels.

The machine's load is printed first (`uptime`): CPU seconds are per process, but a loaded
machine still slows them (shared caches, SMT).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cnn_parity import DEFAULT_PHOTOS, load, reference  # noqa: E402

FACES = DEFAULT_PHOTOS / "davisking-dlib" / "examples" / "faces"
OUT = ROOT / "bench" / "out" / "recall.json"
Box = tuple[int, int, int, int]  # top, right, bottom, left (inclusive, as face_recognition)


def labels() -> dict[str, list[Box]]:
    """file name -> labelled boxes, from both imglab files."""
    out: dict[str, list[Box]] = {}
    for name in ("training.xml", "testing.xml"):
        for image in ET.parse(FACES / name).getroot().iter("image"):
            boxes = out.setdefault(image.attrib["file"], [])
            for box in image.iter("box"):
                if box.attrib.get("ignore") == "1":
                    continue
                top, left = int(box.attrib["top"]), int(box.attrib["left"])
                width, height = int(box.attrib["width"]), int(box.attrib["height"])
                boxes.append((top, left + width - 1, top + height - 1, left))
    return out


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two inclusive boxes."""
    top, right = max(a[0], b[0]), min(a[1], b[1])
    bottom, left = min(a[2], b[2]), max(a[3], b[3])
    inner = max(0, right - left + 1) * max(0, bottom - top + 1)

    def area(x: Box) -> int:
        return (x[1] - x[3] + 1) * (x[2] - x[0] + 1)

    return inner / (area(a) + area(b) - inner) if inner else 0.0


def matched(found: list[Box], truth: list[Box]) -> int:
    """True positives: greedy one-to-one matching, highest IoU first, IoU >= 0.5."""
    pairs = sorted(
        ((iou(f, t), i, j) for i, f in enumerate(found) for j, t in enumerate(truth)),
        reverse=True,
    )
    used_f: set[int] = set()
    used_t: set[int] = set()
    for value, i, j in pairs:
        if value < 0.5:
            break
        if i not in used_f and j not in used_t:
            used_f.add(i)
            used_t.add(j)
    return len(used_f)


def _timed(call: Any) -> tuple[Any, float]:
    start = time.process_time()
    value = call()
    return value, time.process_time() - start


def run() -> list[dict[str, Any]]:
    import face_recognition

    from auditor.faces.cnn_detector import CnnDetector

    truth = labels()
    mine = CnnDetector()
    rows: dict[str, dict[str, Any]] = {}
    for name, boxes in sorted(truth.items()):
        img, _ = load(FACES / name)
        runs: list[tuple[str, int, Any]] = [
            ("hog (dlib)", up, lambda u=up, i=img: face_recognition.face_locations(i, u))
            for up in (0, 1, 2)
        ]
        for up in (0, 1):
            runs.append(("cnn (dlib)", up, reference(img, up)))
            runs.append(
                ("cnn (auditor)", up, lambda u=up, i=img: [d.box for d in mine.detect(i, u)])
            )
        for label, up, call in runs:
            if isinstance(call, dict):
                found, seconds = [tuple(b) for b in call["boxes"]], call["cpu_s"]
            else:
                found, seconds = _timed(call)
            row = rows.setdefault(
                f"{label}@{up}",
                {"detector": label, "upsample": up, "found": 0, "tp": 0, "cpu": 0.0, "n": 0},
            )
            row["found"] += len(found)
            row["tp"] += matched(list(found), boxes)
            row["cpu"] += seconds
            row["n"] += 1
    total = sum(len(b) for b in truth.values())
    return [
        {
            "detector": row["detector"],
            "upsample": row["upsample"],
            "faces_found": row["found"],
            "true_positives": row["tp"],
            "recall": row["tp"] / total,
            "false_positives": row["found"] - row["tp"],
            "cpu_s_per_frame": row["cpu"] / row["n"],
            "labelled": total,
            "images": row["n"],
        }
        for row in rows.values()
    ]


def main() -> int:
    load_line = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"machine load: {load_line}")
    rows = run()
    hog1 = next(r for r in rows if r["detector"] == "hog (dlib)" and r["upsample"] == 1)
    print(
        "| detector | upsample | faces found | recall (IoU >= 0.5) | false positives "
        "| CPU s per frame | x HOG up 1 |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: (r["detector"], r["upsample"])):
        ratio = r["cpu_s_per_frame"] / hog1["cpu_s_per_frame"]
        print(
            f"| {r['detector']} | {r['upsample']} | {r['faces_found']} "
            f"| {r['true_positives']}/{r['labelled']} = {r['recall']:.0%} "
            f"| {r['false_positives']} | {r['cpu_s_per_frame']:.3f} | {ratio:.1f} |"
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"load": load_line, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
