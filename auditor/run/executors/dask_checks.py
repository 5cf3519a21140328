"""What a Dask worker is checked for, on the worker itself, with every task it runs.

Checking the workers once, when the client connects, misses the workers that join later (a
replaced pod, an autoscaled node): they would run tasks unchecked, and a worker without the
shared filesystem would turn every file it reads into a "cannot open" blamed on the bundle.
So every task is wrapped in `checked_call`, which runs on the worker before the task itself:

* the worker's facts (auditor, Python, dlib build, kernel runtime and model hashes) are
  returned with the result, for the client to compare with its own;
* the bundle folders the client shared must be listable, or the task is not run;
* each input file of the task is stamped as the worker sees it (its size and a hash of its
  first and last blocks, or its full SHA-256 where the client has that one anyway), so that the
  client can refuse a file a worker sees with other bytes than the client (a stale mount)
  instead of reporting on other data.

Everything here is top-level and imports lazily, because workers import it by reference.
"""

from __future__ import annotations

import hashlib
import os
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from auditor.faces.detectors import DEFAULT_DETECTOR  # a constant module, light to import

#: Bytes hashed at each end of a file for its stamp: one filesystem block, so stamping a
#: million frames reads 8 GB on the client rather than the frames themselves.
BLOCK = 4096

#: A worker process's facts per (kernel, detector), computed once (hashing the model files
#: takes a moment).
_FACTS: dict[tuple[str, str], dict[str, str]] = {}


def worker_facts(kernel: str, detector: str = DEFAULT_DETECTOR) -> dict[str, str]:
    """What must be equal on the client and every worker for identical results, for the
    descriptor kernel and the face detector the audit uses (the onnx kernel adds the
    onnxruntime version and provider; the cnn detector its model, parse and graph hashes)."""
    key = (kernel, detector)
    if key not in _FACTS:
        import json

        from auditor import __version__
        from auditor.faces.fingerprint import build_info

        build = json.dumps(build_info(kernel, detector), sort_keys=True, default=str)
        _FACTS[key] = {
            "auditor": __version__,
            "python": platform.python_version(),
            "kernel": kernel,
            "detector": detector,
            "dlib build, kernel runtime and models": hashlib.sha256(build.encode()).hexdigest()[
                :16
            ],
        }
    return dict(_FACTS[key])


def can_read(root: str) -> bool:
    """Runs on each worker: is the bundle there and listable (a folder at the same path, or
    the same object-storage URL with this worker's own credentials)?"""
    from auditor.config.bundlefs import PathEscape, is_url, open_fs

    if not is_url(root):
        try:
            os.listdir(root)
        except OSError:
            return False
        return True
    try:
        return open_fs(root).is_dir("")
    except (OSError, PathEscape):
        return False


def stamp(path: str, full: bool = False) -> str | None:
    """How a file looks from here: `blocks:SIZE:HASH` (size, SHA-256 of the first and last
    `BLOCK` bytes) or, with `full`, `sha256:HEX` of all of it; None when it cannot be read."""
    try:
        with open(path, "rb") as fh:
            if full:
                return "sha256:" + hashlib.file_digest(fh, "sha256").hexdigest()
            size = os.fstat(fh.fileno()).st_size
            digest = hashlib.sha256(fh.read(BLOCK))
            if size > BLOCK:
                fh.seek(max(BLOCK, size - BLOCK))
                digest.update(fh.read(BLOCK))
    except OSError:
        return None
    return f"blocks:{size}:{digest.hexdigest()[:32]}"


@dataclass(frozen=True)
class TaskCheck:
    """What the client sends with a task: the kernel and detector whose facts it compares, the
    folders the
    worker must see, and each input file's absolute path with the client's stamp of it."""

    kernel: str
    roots: tuple[str, ...]
    inputs: tuple[tuple[str, str | None], ...] = ()
    detector: str = DEFAULT_DETECTOR


@dataclass
class Checked:
    """A task's result with what the worker saw; `result` is None when it was not run."""

    worker: str
    facts: dict[str, str]
    blind: str | None = None
    seen: list[str | None] = field(default_factory=list)
    result: Any = None


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return platform.node()


def checked_call(fn: Callable[[Any], Any], job: Any, check: TaskCheck) -> Checked:
    """Runs on the worker: check it, stamp the inputs, then run `fn(job)` (not when the
    worker differs from the client or cannot see a bundle folder)."""
    out = Checked(_worker_address(), worker_facts(check.kernel, check.detector))
    out.blind = next((root for root in check.roots if not can_read(root)), None)
    if out.blind is not None:
        return out
    out.seen = [
        stamp(path, full=bool(mine and mine.startswith("sha256:"))) for path, mine in check.inputs
    ]
    out.result = fn(job)
    return out


def differences(mine: dict[str, str], theirs: dict[str, str]) -> str:
    """`key THEIRS (client: MINE)` for every fact that differs, or empty."""
    return ", ".join(
        f"{key} {theirs.get(key)} (client: {value})"
        for key, value in mine.items()
        if theirs.get(key) != value
    )


def client_stamps(files: Sequence[tuple[str, str | None]]) -> tuple[tuple[str, str | None], ...]:
    """The client's stamp of each (path, known SHA-256 or None): the full hash when known."""
    return tuple((path, f"sha256:{sha}" if sha else stamp(path)) for path, sha in files)


def mismatch(mine: str | None, theirs: str | None, worker: str) -> str | None:
    """Why the worker's view of a file is not the client's, or None when they agree (or when
    the client cannot read it either: the task reports that as for a local run)."""
    if mine is None or mine == theirs:
        return None
    if theirs is None:
        return (
            f"the Dask worker {worker} cannot read this file, which this client reads: "
            f"the bundle must be on a filesystem shared at the same path by every worker"
        )
    if mine.startswith("blocks:") and theirs.startswith("blocks:"):
        here, there = mine.split(":")[1], theirs.split(":")[1]
        detail = (
            f"{there} bytes there, {here} here"
            if here != there
            else "same size, other first or last block"
        )
    else:
        detail = "other SHA-256"
    return (
        f"the Dask worker {worker} reads other bytes at this path than this client "
        f"({detail}): a stale or different mount; not used"
    )
