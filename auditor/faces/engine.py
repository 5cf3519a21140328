"""The frame pass: image files in, face boxes and 128-d dlib descriptors out.

Measured facts that shape this module (see docs/faces.md):

* On CPU, dlib's descriptor net costs the same per face however calls are batched; throughput
  comes from one process per core. We still make ONE batched `compute_face_descriptor` call per
  chunk of frames (free on CPU, a gain on a CUDA build), and spread chunks over a fork pool.
* Each worker loads only its detector (`detectors.get_detector`: HOG, or dlib's CNN on ONNX
  Runtime), the 5-point predictor and the ResNet (never the 68-point model that
  `import face_recognition` loads), once, and reads and decodes each file once (`decode.py`).
  A group of decoded frames is handed to the detector at once (the CNN batches them) before
  their landmarks.
* Results must equal the reference `face_recognition.face_locations(img, upsample)` followed by
  `face_recognition.face_encodings(img, known_face_locations=boxes)`: boxes are trimmed to the
  image exactly like face_recognition's `_trim_css_to_bounds` (right/bottom may equal the width /
  height), and the landmarks are computed on the TRIMMED boxes, as that reference call does.
* The HOG detector releases the GIL and is not re-entrant, so each thread gets its own detector
  (Dask workers run several threads; `detectors.HogFaces`). The predictor and the net hold the
  GIL and are shared.
* `num_jitters` above 1 draws from an RNG inside the model, so results would change between runs;
  `FaceParams` refuses it because cached results must be reproducible.

`analyse_chunk` is the unit of work: top-level, picklable arguments, plain-data results, so it
runs the same in-process, in the local pool here, or as a Dask task.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from time import perf_counter
from typing import Any

from auditor.faces.decode import Decoded, decode_file, decode_in_bundle
from auditor.faces.detectors import Box, Found, check_detector, get_detector
from auditor.faces.kernels import Kernel, check_kernel, load_kernel
from auditor.faces.memory import release_free_memory
from auditor.faces.modelfiles import model_paths
from auditor.faces.params import FaceParams

_THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Face:
    """One face: box in face_recognition's (top, right, bottom, left) order, 128 floats."""

    box: Box
    descriptor: tuple[float, ...]


@dataclass(frozen=True)
class ImageJob:
    """A file to analyse: `path` is read, `display` names it in results and messages."""

    path: str
    display: str
    #: The URL of an object-storage bundle: then `path` is bundle-relative and read through
    #: the bundle's filesystem on whichever process analyses it (None: a local file path).
    root: str | None = None


@dataclass(frozen=True)
class ImageResult:
    """Faces found in one image, or `error` (then `faces` is empty).

    `timings` holds seconds for decode (read + hash + decode), detect, landmarks and descriptors;
    the descriptor time of a chunk's single batched call is shared out by face count.
    """

    path: str
    sha256: str
    width: int
    height: int
    faces: tuple[Face, ...]
    timings: dict[str, float]
    error: str | None = None


# ---------------------------------------------------------------------------------------------
# Models, loaded once per process (detector once per thread).


class _Models:
    def __init__(self) -> None:
        import dlib

        paths = model_paths()
        self.predictor = dlib.shape_predictor(str(paths["shape_predictor_5"]))
        self._kernels: dict[tuple[str, int], Kernel] = {}

    def kernel(self, name: str, jitters: int) -> Kernel:
        """The descriptor kernel, loaded on first use (only the one asked for is loaded)."""
        key = (name, jitters)
        if key not in self._kernels:
            with _MODELS_LOCK:
                if key not in self._kernels:
                    self._kernels[key] = load_kernel(name, jitters)
        return self._kernels[key]


_MODELS: _Models | None = None
_MODELS_LOCK = threading.RLock()


def _models() -> _Models:
    global _MODELS
    if _MODELS is None:
        with _MODELS_LOCK:
            if _MODELS is None:
                _MODELS = _Models()
    return _MODELS


def _init_worker(kernel: str, jitters: int, detector: str = "hog") -> None:
    """Pool initializer: one BLAS thread per process (we have one process per core), load models.

    The thread limit only binds if dlib was not already imported before the fork (OpenBLAS reads
    it when the library loads); the engine itself imports dlib lazily for that reason.
    """
    for name in _THREAD_ENV:
        os.environ.setdefault(name, "1")
    try:
        get_detector(detector).warm()
        _models().kernel(kernel, jitters)
    except Exception:
        # A raising initializer makes multiprocessing respawn the worker forever. Stay up:
        # the first task calls _models() again and its error reaches the caller through imap.
        pass


# ---------------------------------------------------------------------------------------------
# The unit of work.


def _error_result(job: ImageJob, sha256: str, error: str, seconds: float) -> ImageResult:
    timings = {"decode": seconds, "detect": 0.0, "landmarks": 0.0, "descriptors": 0.0}
    return ImageResult(job.display, sha256, 0, 0, (), timings, error)


@dataclass
class _Frame:
    """A decoded frame waiting for its descriptors."""

    job: ImageJob
    decoded: Decoded
    boxes: list[Box]
    shapes: Any  # dlib.full_object_detections
    timings: dict[str, float]


def _detect(job: ImageJob, decoded: Decoded, models: _Models, found: Found) -> _Frame:
    """Landmarks on the detector's boxes (`found`: its seconds and boxes for this frame)."""
    import dlib

    img = decoded.pixels
    seconds, boxes = found
    detected = perf_counter()
    # As face_encodings(img, known_face_locations=boxes): landmarks on the trimmed boxes.
    shapes = dlib.full_object_detections()
    for top, right, bottom, left in boxes:
        shapes.append(models.predictor(img, dlib.rectangle(left, top, right, bottom)))
    timings = {
        "decode": decoded.seconds,
        "detect": seconds,
        "landmarks": perf_counter() - detected,
        "descriptors": 0.0,
    }
    return _Frame(job, decoded, boxes, shapes, timings)


#: Decoded pixels a chunk holds before its frames get their descriptors. Eight 640x480 frames
#: still share one kernel call; a 1080p frame gets its own, so a chunk never holds several
#: large frames at once (four 1080p frames held together cost +38 MB of peak RSS, measured).
BATCH_PIXELS = 2_500_000


def _describe(frames: list[_Frame], kernel: Kernel, padding: float) -> list[ImageResult]:
    """One kernel call for `frames`; its time is shared out by face count."""
    start = perf_counter()
    # face-less frames are empty entries
    vectors = kernel(
        [frame.decoded.pixels for frame in frames], [frame.shapes for frame in frames], padding
    )
    spent = perf_counter() - start
    total_faces = sum(len(frame.boxes) for frame in frames)
    out = []
    for frame, per_image in zip(frames, vectors, strict=True):
        if total_faces:
            frame.timings["descriptors"] = spent * len(frame.boxes) / total_faces
        faces = tuple(
            Face(box, tuple(float(x) for x in vector))
            for box, vector in zip(frame.boxes, per_image, strict=True)
        )
        decoded = frame.decoded
        out.append(
            ImageResult(
                frame.job.display, decoded.sha256, decoded.width, decoded.height, faces,
                frame.timings,
            )
        )  # fmt: skip
    return out


def analyse_chunk(jobs: Sequence[ImageJob], params: FaceParams) -> list[ImageResult]:
    """Analyse a few images with batched descriptor calls (see BATCH_PIXELS); job order.

    Frames are decoded into a group of at most BATCH_PIXELS pixels; the group is then
    detected (the CNN in one batched pass, HOG frame by frame) and described in one kernel
    call, and let go before the next group is decoded."""
    models = _models()
    # the kernel first: its start-up temporaries are freed before any frame is in memory
    kernel = models.kernel(params.kernel, params.jitters)
    detector = get_detector(params.detector)
    slots: dict[int, ImageResult] = {}
    group: list[tuple[int, ImageJob, Decoded]] = []

    def flush() -> None:
        decoded = [d for _, _, d in group]
        found = detector.find([d.pixels for d in decoded], params.upsample)
        frames = [_detect(job, d, models, f) for (_, job, d), f in zip(group, found, strict=True)]
        done = _describe(frames, kernel, params.padding)
        slots.update(zip((index for index, _, _ in group), done, strict=True))
        group.clear()  # the frames' pixels go with them
        frames.clear()
        decoded.clear()
        release_free_memory()  # and the kernel's activations (see memory.py)

    for index, job in enumerate(jobs):
        decoded = (
            decode_file(job.path, params.max_pixels)
            if job.root is None
            else decode_in_bundle(job.root, job.path, params.max_pixels)
        )
        if decoded.error is not None:
            slots[index] = _error_result(job, decoded.sha256, decoded.error, decoded.seconds)
            continue
        group.append((index, job, decoded))
        if sum(d.width * d.height for _, _, d in group) >= BATCH_PIXELS:
            flush()
    if group:
        flush()
    return [slots[index] for index in range(len(jobs))]


# ---------------------------------------------------------------------------------------------
# Scheduling.


def _pool_chunks(jobs: list[ImageJob], params: FaceParams) -> list[list[ImageJob]]:
    """Guided chunking: `params.chunk` jobs per chunk (fewer if that leaves < 4 chunks per
    worker), and never more than 1/(2 x workers) of what is left, so the last chunks shrink to
    single images and the workers finish together."""
    workers = params.workers
    size = max(1, min(params.chunk, -(-len(jobs) // (4 * workers))))
    chunks: list[list[ImageJob]] = []
    begin = 0
    while begin < len(jobs):
        step = max(1, min(size, (len(jobs) - begin) // (2 * workers)))
        chunks.append(jobs[begin : begin + step])
        begin += step
    return chunks


def analyse(
    jobs: Sequence[ImageJob],
    params: FaceParams,
    progress: Callable[[int], None] | None = None,
) -> Iterator[ImageResult]:
    """Analyse `jobs`, yielding one result per job in job order.

    Runs in-process when `params.workers` is 1 or there are fewer jobs than two chunks (a pool
    would cost more than it saves); otherwise in a fork pool of `params.workers` processes.
    `progress`, when given, is called with the number of images just finished (an increment).
    Unreadable images come back as results with `error` set; nothing is raised for them.
    """
    jobs = list(jobs)
    if params.workers <= 1 or len(jobs) < 2 * params.chunk:
        size = params.chunk
        for begin in range(0, len(jobs), size):
            done = analyse_chunk(jobs[begin : begin + size], params)
            if progress is not None:
                progress(len(done))
            yield from done
        return

    model_paths()  # missing model files: raise here, not once per worker
    check_kernel(params.kernel)  # likewise, and it fills the weight cache once for all workers
    # Load the predictor and the detector once, here: the forked workers inherit them (pages
    # shared until written) instead of each reading them. Not the kernel: an ONNX Runtime
    # session must not cross a fork. The BLAS thread limit is set first, as in the workers.
    for name in _THREAD_ENV:
        os.environ.setdefault(name, "1")
    check_detector(params.detector)  # likewise for the cnn detector's parse and graph
    get_detector(params.detector).preload()
    chunks = _pool_chunks(jobs, params)
    context = multiprocessing.get_context("fork")
    work = functools.partial(analyse_chunk, params=params)
    init = (params.kernel, params.jitters, params.detector)
    with context.Pool(
        min(params.workers, len(chunks)), initializer=_init_worker, initargs=init
    ) as pool:
        for done in pool.imap(work, chunks):
            if progress is not None:
                progress(len(done))
            yield from done
