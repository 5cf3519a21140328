"""The face pass with the face cache in front of it, on whichever executor the audit uses.

Kept apart from `auditor.run.frames` because two commands need it: the audit's frame evidence
and `auditor faces` (`auditor.run.scan`), which analyses images with no bundle, findings or
probes. Everything here is about one image at a time (hash it, look it up by SHA-256 + model
fingerprint, analyse the misses, keep the new results); what the faces mean for the findings is
decided by the caller. Descriptors leave this module only into the cache and to the caller.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from auditor.faces.engine import ImageJob, ImageResult
    from auditor.faces.params import FaceParams
    from auditor.run.executors.base import Executor
    from auditor.store import Store


@dataclass(frozen=True)
class Faces:
    """Faces of one image: boxes and descriptors (descriptors stay inside the auditor)."""

    sha256: str
    boxes: tuple[tuple[int, int, int, int], ...]
    descriptors: np.ndarray  # shape (n, 128)


def _sha256(path: Path | str, root: str | None) -> str:
    if root is None:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    from auditor.config.bundlefs import open_fs

    digest = hashlib.sha256()
    with open_fs(root).open(str(path)) as fh:  # checked (regular, size) when it was listed
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class FaceAnalyser:
    """Runs the face pass over images with the cache in front of it."""

    def __init__(
        self,
        upsample: int,
        workers: int,
        store: Callable[[], Store | None],
        use_cache: bool,
        progress: Callable[[str, int, int], None] | None = None,
        kernel: str | None = None,
        executor: Executor | None = None,
        detector: str | None = None,
    ) -> None:
        """`store` opens (or returns the already open) store of the run, or None: the audit
        owns it, so one audit uses one connection pool for its cache and its run."""
        from auditor.faces.detectors import DEFAULT_DETECTOR
        from auditor.faces.fingerprint import fingerprint
        from auditor.faces.kernels import DEFAULT_KERNEL
        from auditor.faces.params import FaceParams

        self.params = FaceParams(
            upsample=upsample,
            workers=workers,
            kernel=kernel or DEFAULT_KERNEL,
            detector=detector or DEFAULT_DETECTOR,
        )
        self.fingerprint = fingerprint(self.params)
        self.store = store() if use_cache else None
        self.progress = progress
        self.executor = executor  # None: the engine's own local pool
        self.cached: set[str] = set()
        #: display path -> SHA-256 the client read for the cache (workers must read the same)
        self.hashes: dict[str, str] = {}
        #: display path -> (width, height, timings) of what was analysed or read from the cache
        self.meta: dict[str, tuple[int, int, dict[str, float]]] = {}

    def run(
        self, images: Sequence[tuple[Path | str, str]], root: str | None = None
    ) -> dict[str, Faces | str]:
        """display path -> Faces, or an error message for images that could not be read.

        With `root` (an object-storage bundle's URL) each path is bundle-relative and read
        through the bundle's filesystem wherever it is analysed."""
        from auditor.faces.engine import ImageJob

        out: dict[str, Faces | str] = {}
        if self.store is None:
            # no cache to consult: the engine reads and hashes each file once, itself
            todo = [ImageJob(str(path), display, root) for path, display in images]
            return self._analyse(todo, out)
        hashes = self.hashes
        for path, display in images:
            try:
                hashes[display] = _sha256(path, root)
            except OSError as exc:
                out[display] = f"cannot read frame: {exc.strerror or exc}"
        cached = self.store.cached_faces(hashes.values(), self.fingerprint)
        todo = []
        for path, display in images:
            sha = hashes.get(display)
            if sha is None:
                continue
            row = cached.get(sha)
            if row is not None:
                boxes = tuple(tuple(b) for b in json.loads(row.boxes))
                desc = np.frombuffer(row.descriptors, dtype=np.float64).reshape(-1, 128)
                out[display] = Faces(sha, boxes, desc)
                self.cached.add(display)
                self.meta[display] = (row.width, row.height, {})
            else:
                todo.append(ImageJob(str(path), display, root))
        return self._analyse(todo, out)

    def _analyse(self, todo: list[ImageJob], out: dict[str, Faces | str]) -> dict[str, Faces | str]:
        """Run the engine on the cache misses and keep what it found (when there is a store)."""
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            if self.progress:
                self.progress("frames", done, len(todo))

        new_rows = []
        for res in analyse_frames(self.executor, todo, self.params, step, self.hashes):
            out[res.path] = self._faces(res) if res.error is None else res.error
            self.meta[res.path] = (res.width, res.height, res.timings)
            if res.error is None and self.store is not None:
                # imported here: without a cache, sqlmodel (~30 MB, ~0.5 s) is never needed
                from auditor.store import new_cache_row

                faces = out[res.path]
                assert isinstance(faces, Faces)
                new_rows.append(
                    new_cache_row(
                        res.sha256,
                        self.fingerprint,
                        res.width,
                        res.height,
                        [list(f.box) for f in res.faces],
                        faces.descriptors.astype(np.float64).tobytes(),
                    )
                )
        if self.store is not None:
            self.store.cache_faces(new_rows)
        return out

    def engine_info(self) -> dict[str, Any]:
        """The dlib build, model hashes and parameters: NGOs must know what they re-ran."""
        from auditor.faces.fingerprint import build_info, result_params

        return {
            "fingerprint": self.fingerprint,
            "build": build_info(self.params.kernel, self.params.detector),
            "params": result_params(self.params),
        }

    @staticmethod
    def _faces(res: ImageResult) -> Faces:
        desc = np.array([f.descriptor for f in res.faces], dtype=np.float64).reshape(-1, 128)
        return Faces(res.sha256, tuple(f.box for f in res.faces), desc)


def analyse_frames(
    executor: Executor | None,
    jobs: Sequence[ImageJob],
    params: FaceParams,
    progress: Callable[[int], None] | None = None,
    known: dict[str, str] | None = None,
) -> Iterator[ImageResult]:
    """The frame pass on `executor`: one result per job, in job order.

    On the local pool this is exactly `engine.analyse` (its own fork pool, models loaded once per
    process by the pool initialiser). On a cluster each task is one chunk of frames given to
    `engine.analyse_chunk` (one batched descriptor call per chunk); each worker process loads the
    models once, on its first chunk, and each frame it reads is compared with the client's view:
    the SHA-256 in `known` (display path -> hash, what the client read for the cache) or the
    size and end blocks.
    """
    from auditor.faces.engine import analyse, analyse_chunk
    from auditor.run.executors import Inputs, LocalPool, frame_chunks

    if executor is None or isinstance(executor, LocalPool):
        yield from analyse(jobs, params, progress)
        return
    chunks = frame_chunks(list(jobs), params.chunk, executor.slots())
    work = functools.partial(analyse_chunk, params=params)
    hashes = known or {}

    def files(chunk: list[ImageJob]) -> list[tuple[str, str, str | None]]:
        # frames of an object-storage bundle are not stamped: every reader gets the same object
        return [
            (job.path, job.display, hashes.get(job.display)) for job in chunk if job.root is None
        ]

    checks: Inputs[list[ImageJob], list[ImageResult]] = Inputs(files, _refuse_frames)
    for done in executor.map(work, chunks, None, checks):
        if progress is not None:
            progress(len(done))
        yield from done


def _refuse_frames(
    chunk: list[ImageJob], results: list[ImageResult], bad: dict[str, str]
) -> list[ImageResult]:
    """A chunk's results with each frame a worker saw with other bytes than the client turned
    into an unreadable frame (an input error), nothing of what the worker computed kept."""
    from auditor.faces.engine import ImageResult

    none = {"decode": 0.0, "detect": 0.0, "landmarks": 0.0, "descriptors": 0.0}
    return [
        ImageResult(res.path, "", 0, 0, (), dict(none), bad[res.path]) if res.path in bad else res
        for res in results
    ]
