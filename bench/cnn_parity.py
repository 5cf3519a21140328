"""CNN detector parity: auditor's ONNX MMOD detector against face_recognition's `model="cnn"`.

    .venv/bin/python bench/cnn_parity.py --reference-only      # dlib's boxes (slow, cached)
    .venv/bin/python bench/cnn_parity.py                       # compare, print the summary

For every image under ../shared/faces and upsample 0 and 1: the reference is
`face_recognition.face_locations(img, number_of_times_to_upsample=U, model="cnn")`, computed
exactly as that function does (`cnn_face_detector(img, U)`, then `_rect_to_css` and
`_trim_css_to_bounds`), with the confidences dlib's `cnn_face_detection_model_v1` gives for the
same detections (one call yields both). dlib's CNN costs seconds per frame, so the reference is
kept in bench/out/cnn_reference.json (keyed by path, upsample and the image's SHA-256) and only
missing entries are computed. Then auditor's detector runs on the same pixels and every box
(within 1 px) and confidence (within 1e-3) is compared; the worst differences are printed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# ../shared/faces beside the checkout (or beside the folder of worktrees)
DEFAULT_PHOTOS = next(
    (p / "shared" / "faces" for p in ROOT.parents if (p / "shared" / "faces").is_dir()),
    ROOT.parent / "shared" / "faces",
)
DEFAULT_REFERENCE = ROOT / "bench" / "out" / "cnn_reference.json"
SUFFIXES = (".jpg", ".jpeg", ".png")


def images(root: Path) -> list[Path]:
    """Every photo under `root`, sorted (the same order every run)."""
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in SUFFIXES)


def load(path: Path) -> tuple[Any, str]:
    """Pixels as face_recognition loads them, and the file's SHA-256."""
    import face_recognition

    data = path.read_bytes()
    return face_recognition.load_image_file(str(path)), hashlib.sha256(data).hexdigest()


def reference(img: Any, upsample: int) -> dict[str, Any]:
    """face_locations(img, U, model="cnn") with dlib's confidences and CPU seconds."""
    from face_recognition import api

    start = time.process_time()
    found = api.cnn_face_detector(img, upsample)
    seconds = time.process_time() - start
    boxes = [api._trim_css_to_bounds(api._rect_to_css(d.rect), img.shape) for d in found]
    return {
        "boxes": [list(b) for b in boxes],
        "confidences": [float(d.confidence) for d in found],
        "cpu_s": seconds,
    }


def fill_reference(paths: list[Path], root: Path, out: Path, upsamples: list[int]) -> dict:
    """Compute the missing reference entries, saving after each image."""
    table: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    out.parent.mkdir(parents=True, exist_ok=True)
    for path in paths:
        img, sha = load(path)
        for upsample in upsamples:
            key = f"{path.relative_to(root)}@{upsample}"
            if key in table and table[key]["sha256"] == sha:
                continue
            table[key] = {"sha256": sha, "upsample": upsample, **reference(img, upsample)}
            out.write_text(json.dumps(table, indent=1, sort_keys=True))
            entry = table[key]
            print(f"{key}: {len(entry['boxes'])} faces, {entry['cpu_s']:.1f} s", flush=True)
    return table


def compare(paths: list[Path], root: Path, table: dict, upsamples: list[int]) -> int:
    """Run auditor's detector on every image; print per-image and worst differences."""
    from auditor.faces.cnn_detector import CnnDetector

    detector = CnnDetector()
    worst_box = 0.0
    worst_conf = 0.0
    mismatched: list[str] = []
    frames = 0
    per_upsample: dict[int, list[int]] = {u: [0, 0] for u in upsamples}  # frames, faces
    skipped = 0
    cpu = 0.0
    ref_cpu = 0.0
    for path in paths:
        img, sha = load(path)
        for upsample in upsamples:
            key = f"{path.relative_to(root)}@{upsample}"
            entry = table.get(key)
            if entry is None or entry["sha256"] != sha:
                print(f"{key}: no reference, skipped")
                skipped += 1
                continue
            start = time.process_time()
            dets = detector.detect(img, upsample)
            cpu += time.process_time() - start
            ref_cpu += entry["cpu_s"]
            frames += 1
            per_upsample[upsample][0] += 1
            per_upsample[upsample][1] += len(entry["boxes"])
            boxes = [list(d.box) for d in dets]
            confs = [d.confidence for d in dets]
            if len(boxes) != len(entry["boxes"]):
                mismatched.append(f"{key}: {len(boxes)} faces, dlib {len(entry['boxes'])}")
                continue
            for mine, theirs, c1, c2 in zip(
                boxes, entry["boxes"], confs, entry["confidences"], strict=True
            ):
                worst_box = max(
                    worst_box, max(abs(a - b) for a, b in zip(mine, theirs, strict=True))
                )
                worst_conf = max(worst_conf, abs(c1 - c2))
    print(
        f"frames compared: {frames} ({skipped} without a reference), mismatches: {len(mismatched)}"
    )
    for upsample, (count, faces) in per_upsample.items():
        print(f"  upsample {upsample}: {count} frames, {faces} faces found by dlib")
    for line in mismatched:
        print("  " + line)
    print(f"largest box difference: {worst_box:.0f} px, largest confidence diff: {worst_conf:.2e}")
    if frames:
        print(f"CPU s per frame: auditor {cpu / frames:.3f}, dlib {ref_cpu / frames:.3f}")
    ok = not mismatched and worst_box <= 1 and worst_conf <= 1e-3
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--upsample", type=int, action="append")
    parser.add_argument("--reference-only", action="store_true")
    parser.add_argument("--limit", type=int, default=0, help="only the first N images")
    parser.add_argument("--under", default="", help="only images under this sub-folder")
    parser.add_argument(
        "--reverse", action="store_true", help="last image first (a second reference process)"
    )
    args = parser.parse_args()
    upsamples = args.upsample or [0, 1]
    paths = [p for p in images(args.photos) if p.is_relative_to(args.photos / args.under)]
    if args.limit:
        paths = paths[: args.limit]
    if args.reverse:
        paths.reverse()
    if args.reference_only:
        fill_reference(paths, args.photos, args.reference, upsamples)
        return 0
    table = json.loads(args.reference.read_text()) if args.reference.exists() else {}
    return compare(paths, args.photos, table, upsamples)


if __name__ == "__main__":
    sys.exit(main())
