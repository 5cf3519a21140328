"""`auditor faces` (the embedding pass alone) and `auditor cache purge`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from auditor.cli.common import _db_url, _fail, app, cache_app, echo
from auditor.cli.options import (
    CacheDb,
    Db,
    Detector,
    DetectorName,
    Kernel,
    KernelName,
    NoCache,
    Quiet,
    Scheduler,
    SchedulerFile,
    SchedulerTimeout,
    Upsample,
    Workers,
)
from auditor.cli.terminal import StageTimes, progress, verbosity
from auditor.core import defaults
from auditor.core.errors import AuditorError
from auditor.faces.detectors import DEFAULT_DETECTOR
from auditor.faces.kernels import DEFAULT_KERNEL


@app.command()
def faces(
    paths: Annotated[list[Path], typer.Argument(help="Image files or folders.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Write a JSON list, one entry per image.")
    ] = False,
    no_cache: NoCache = False,
    workers: Workers = 0,
    upsample: Upsample = defaults.UPSAMPLE,
    kernel: Kernel = KernelName(DEFAULT_KERNEL),
    detector: Detector = DetectorName(DEFAULT_DETECTOR),
    db: Db = None,
    scheduler: Scheduler = None,
    scheduler_timeout: SchedulerTimeout = defaults.SCHEDULER_TIMEOUT,
    quiet: Quiet = False,
    scheduler_file: SchedulerFile = None,
) -> None:
    """The face-embedding pass alone: faces and boxes per image, with the timing split.

    A PATH that does not exist is a usage error (exit 2) found before any model is loaded;
    an image that cannot be decoded is reported in its row (exit 3)."""
    # not auditor.run.audit: the frame pass alone needs none of policy, report or sources
    from auditor.run.executors import open_executor
    from auditor.run.options import worker_count
    from auditor.run.scan import image_files, scan_images

    if scheduler_timeout <= 0:
        _fail("--scheduler-timeout must be positive")
    files, missing = image_files(paths)
    if missing:
        for name in missing[:-1]:
            echo(f"auditor: error: {name}: not found", err=True)
        _fail(f"{missing[-1]}: not found")
    update, close = progress(verbosity(quiet, False), StageTimes())
    executor = None
    try:
        if scheduler or scheduler_file:
            executor = open_executor(
                scheduler,
                worker_count(workers),
                scheduler_timeout,
                kernel.value,
                None if scheduler_file is None else str(scheduler_file),
                detector.value,
            )
            for folder in sorted({str(f.resolve().parent) for f in files}):
                executor.share(folder)
        rows, engine = scan_images(
            files,
            upsample,
            worker_count(workers),
            None if no_cache else _db_url(db),
            not no_cache,
            update,
            kernel.value,
            executor,
            detector.value,
        )
    except AuditorError as exc:
        close()
        _fail(str(exc))
    finally:
        if executor is not None:
            executor.close()
    close()
    if as_json:
        echo(json.dumps(rows, indent=2))
    else:
        _say_rows(rows, engine)
    bad = sum(1 for r in rows if r["error"])
    raise typer.Exit(3 if bad else 0)


def _say_rows(rows: list[dict[str, Any]], engine: dict[str, Any]) -> None:
    """The human form of `auditor faces`: the engine, a line per image, the timing split."""
    build = engine["build"]
    echo(
        f"dlib {build.get('dlib')} (BLAS {build.get('DLIB_USE_BLAS')}, "
        f"AVX {build.get('USE_AVX_INSTRUCTIONS')}), "
        f"upsample {engine['params']['upsample']}, detector {engine['params']['detector']}, "
        f"kernel {engine['params']['kernel']}, "
        f"fingerprint {engine['fingerprint'][:12]}"
    )
    total: dict[str, float] = {}
    for row in rows:
        if row["error"]:
            echo(f"{row['path']}: ERROR {row['error']}")
            continue
        for key, value in row["timings"].items():
            total[key] = total.get(key, 0.0) + value
        timing = (
            "cached"
            if row["cached"]
            else " ".join(f"{k} {v * 1000:.0f}ms" for k, v in row["timings"].items())
        )
        boxes = " ".join("({},{},{},{})".format(*b) for b in row["boxes"])
        echo(f"{row['path']}: {row['faces']} face(s) {boxes}  [{timing}]")
    found = sum(r["faces"] or 0 for r in rows)
    split = ", ".join(f"{k} {v:.2f}s" for k, v in total.items())
    echo(f"{len(rows)} image(s), {found} face(s); summed worker time: {split or 'all cached'}")


@cache_app.command("purge")
def cache_purge(db: Db = None, cache_db: CacheDb = None) -> None:
    """Delete every cached face (descriptors included) from the store, and from the face cache
    of --no-store audits when there is one."""
    from auditor.core.cachedir import face_cache_url
    from auditor.store import Store

    own = face_cache_url(cache_db)
    try:
        with Store(_db_url(db)) as store:
            count = store.purge_faces()
        echo(f"purged cached faces of {count} image(s)")
        if own != _db_url(db) and _exists(own):
            with Store(own) as store:
                count = store.purge_faces()
            echo(f"purged cached faces of {count} image(s) from the --no-store cache")
    except AuditorError as exc:
        _fail(str(exc))


def _exists(url: str) -> bool:
    """False for an SQLite file that is not there (purging must not create one)."""
    prefix = "sqlite:///"
    return not url.startswith(prefix) or Path(url[len(prefix) :]).is_file()
