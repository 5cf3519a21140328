"""`auditor faces`: the frame pass alone over images (faces, boxes, timings, no descriptors)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from auditor.run.executors.base import Executor
from auditor.run.facepass import FaceAnalyser
from auditor.run.frame_choice import IMAGE_EXT
from auditor.run.stores import LazyStore


def scan_images(
    paths: list[Path],
    upsample: int,
    workers: int,
    store_url: str | None,
    use_cache: bool,
    progress: Callable[[str, int, int], None] | None = None,
    kernel: str | None = None,
    executor: Executor | None = None,
    detector: str | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """`auditor faces`: faces, boxes and timings per image (no descriptors), plus engine info."""
    with LazyStore(store_url) as store:
        analyser = FaceAnalyser(
            upsample, workers, store, use_cache, progress, kernel, executor, detector
        )
        return _scan(paths, analyser)


def _scan(paths: list[Path], analyser: FaceAnalyser) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    # absolute: on a cluster the workers do not share this process's working directory
    images = [(p.absolute(), str(p)) for p in paths]
    results = analyser.run(images)
    rows: list[dict[str, Any]] = []
    for _, display in images:
        res = results[display]
        width, height, timings = analyser.meta.get(display, (0, 0, {}))
        if isinstance(res, str):
            rows.append({"path": display, "error": res, "faces": None, "boxes": []})
            continue
        rows.append(
            {
                "path": display,
                "sha256": res.sha256,
                "width": width,
                "height": height,
                "faces": len(res.boxes),
                "boxes": [list(b) for b in res.boxes],
                "cached": display in analyser.cached,
                "timings": {k: round(v, 6) for k, v in timings.items()},
                "error": None,
            }
        )
    return rows, analyser.engine_info()


def image_files(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Expand folders to their image files (sorted); names that do not exist are errors."""
    found: list[Path] = []
    missing: list[str] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXT)
            )
        elif path.exists():
            found.append(path)
        else:
            missing.append(str(path))
    return found, missing
