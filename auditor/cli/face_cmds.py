"""`auditor faces` (the embedding pass alone) and `auditor cache purge`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from auditor.cli.common import (
    Db,
    Kernel,
    KernelName,
    NoCache,
    Scheduler,
    SchedulerFile,
    SchedulerTimeout,
    Upsample,
    Workers,
    _db_url,
    _fail,
    _progress_bar,
    app,
    cache_app,
    echo,
)
from auditor.core import defaults
from auditor.core.errors import AuditorError
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
    db: Db = None,
    scheduler: Scheduler = None,
    scheduler_timeout: SchedulerTimeout = defaults.SCHEDULER_TIMEOUT,
    scheduler_file: SchedulerFile = None,
) -> None:
    """The face-embedding pass alone: faces and boxes per image, with the timing split."""
    from auditor.run.audit import worker_count
    from auditor.run.executors import open_executor
    from auditor.run.scan import image_files, scan_images

    if scheduler_timeout <= 0:
        _fail("--scheduler-timeout must be positive")
    files, missing = image_files(paths)
    for name in missing:
        echo(f"auditor: error: {name}: not found", err=True)
    update, close = _progress_bar()
    executor = None
    try:
        if scheduler or scheduler_file:
            executor = open_executor(
                scheduler,
                worker_count(workers),
                scheduler_timeout,
                kernel.value,
                None if scheduler_file is None else str(scheduler_file),
            )
            for folder in sorted({str(f.resolve().parent) for f in files}):
                executor.share(Path(folder))
        rows, engine = scan_images(
            files,
            upsample,
            worker_count(workers),
            None if no_cache else _db_url(db),
            not no_cache,
            update,
            kernel.value,
            executor,
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
        build = engine["build"]
        echo(
            f"dlib {build.get('dlib')} (BLAS {build.get('DLIB_USE_BLAS')}, "
            f"AVX {build.get('USE_AVX_INSTRUCTIONS')}), "
            f"upsample {engine['params']['upsample']}, kernel {engine['params']['kernel']}, "
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
    bad = sum(1 for r in rows if r["error"]) + len(missing)
    raise typer.Exit(3 if bad else 0)


@cache_app.command("purge")
def cache_purge(db: Db = None) -> None:
    """Delete every cached face (descriptors included) from the store."""
    from auditor.store import Store

    try:
        count = Store(_db_url(db)).purge_faces()
    except AuditorError as exc:
        _fail(str(exc))
    echo(f"purged cached faces of {count} image(s)")
