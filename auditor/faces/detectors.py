"""Face detectors: what finds the face boxes the landmarks and descriptors are computed on.

* `hog` (default): dlib's `get_frontal_face_detector`, face_recognition's default
  (`face_locations(img, U)`); run by the engine itself, one detector per thread.
* `cnn`: dlib's MMOD network (`mmod_human_face_detector.dat`), face_recognition's
  `model="cnn"`, parsed (`mmodnet`) and run on ONNX Runtime (`cnn_graph`, `cnn_detector`) with
  dlib's boxes and confidences (tested on real photos). It finds more faces (profiles, small,
  tilted) but costs several times HOG's CPU per frame (bench/RESULTS.md), so HOG stays the
  default.

A detector name is part of the result parameters: cached results never mix detectors.

Each detector implements `Detector` and is listed once, in `_REGISTRY`; the engine, the pool,
the worker checks and `build_info` reach a detector only through `get_detector(name)`, so a new
detector is one class and one registry line (tests/faces/test_detectors.py walks the registry).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from time import perf_counter
from typing import Any, Protocol

from auditor.core.errors import AuditorError
from auditor.faces.memory import release_free_memory

#: A face box in face_recognition's order: (top, right, bottom, left), inside the frame.
Box = tuple[int, int, int, int]
#: Per frame: the seconds its detection took and its boxes.
Found = tuple[float, list[Box]]

DEFAULT_DETECTOR = "hog"

#: Frames whose upsampled image has more pixels than this are scanned in strips (`hogtiles`):
#: the same boxes and scores as the whole-frame detector, in bounded memory, at about 1.6x its
#: CPU. Below it the whole pyramid fits the 256 MB bound (bench/RESULTS.md, "Frames in strips").
STREAM_FROM_PIXELS = 4 * 1920 * 1080


class DetectorUnavailable(AuditorError):
    """The chosen detector cannot run on this install (onnxruntime missing, unreadable model)."""


class Detector(Protocol):
    """What the engine asks of a face detector. One instance per process (`get_detector`)."""

    name: str

    def check(self) -> None:
        """Raise DetectorUnavailable now if this detector cannot run here: called before the
        pool forks, it may fill the on-disk caches so that the workers only read them."""

    def preload(self) -> None:
        """Load what forked workers may inherit (pages shared until written); nothing that
        must not cross a fork, such as an ONNX Runtime session."""

    def warm(self) -> None:
        """Load what a worker needs before its first frame (the pool's initializer)."""

    def find(self, frames: Sequence[Any], upsample: int) -> list[Found]:
        """For each RGB frame (H x W x 3 uint8), the seconds spent on it and its face boxes,
        trimmed to the frame, in the detector's order."""

    def build(self) -> dict[str, object]:
        """What this detector's results depend on beyond dlib (merged into `build_info`, so the
        report's `face_engine`, the cache key and the worker check name it)."""


def trim_box(top: int, right: int, bottom: int, left: int, width: int, height: int) -> Box:
    """face_recognition's `_trim_css_to_bounds`: right/bottom are capped at width/height."""
    return max(top, 0), min(right, width), min(bottom, height), max(left, 0)


def streams_pyramid(width: int, height: int, upsample: int) -> bool:
    """Whether the HOG detector scans a frame of this size in strips at `upsample`."""
    return bool(width * height * 4**upsample > STREAM_FROM_PIXELS)


class HogFaces:
    """dlib's frontal face detector, face_recognition's default; one detector per thread
    (it releases the GIL and is not re-entrant), read from its saved file (`hogfile`)."""

    name = "hog"

    def __init__(self) -> None:
        self._local = threading.local()

    def check(self) -> None:
        return None

    def preload(self) -> None:
        self._whole()

    def warm(self) -> None:
        self._whole()

    def _whole(self) -> Any:
        found = getattr(self._local, "whole", None)
        if found is None:
            from auditor.faces.hogfile import load_detector

            found = self._local.whole = load_detector()[0]
        return found

    def _tiled(self) -> Any:
        """The same detector with its pyramid streamed in strips (`hogtiles`), for frames whose
        whole pyramid would not fit the memory bound."""
        found = getattr(self._local, "tiled", None)
        if found is None:
            from auditor.faces.hogfile import detector_file
            from auditor.faces.hogtiles import TiledHogDetector

            found = self._local.tiled = TiledHogDetector(detector_file())
        return found

    def find(self, frames: Sequence[Any], upsample: int) -> list[Found]:
        out: list[Found] = []
        for img in frames:
            height, width = img.shape[:2]
            start = perf_counter()
            streamed = streams_pyramid(width, height, upsample)
            rects = (self._tiled() if streamed else self._whole())(img, upsample)
            boxes = [trim_box(r.top(), r.right(), r.bottom(), r.left(), width, height)
                     for r in rects]  # fmt: skip
            out.append((perf_counter() - start, boxes))
            if streamed:
                release_free_memory()  # the strips' levels and features, freed as it went
            else:
                self._shrink()
        return out

    def _shrink(self) -> None:
        """Give back what the detector kept of the frame: drop it, and read it again from its
        saved file before the next frame (2 ms).

        dlib's scanner keeps the last image's HOG pyramid and its work buffers as members.
        Running it once on a blank 32 x 32 image, as this did before, left 38 MB resident after
        a 1080p frame (84 MB against 46 MB after dropping it, measured), and the next frame's
        peak grew on top of it.
        """
        self._local.whole = None
        release_free_memory()

    def build(self) -> dict[str, object]:
        return {}  # the saved detector's hash is in every build_info (`sha256:hog_detector`)


class CnnFaces:
    """dlib's MMOD network on ONNX Runtime (`cnn_detector`): one session per process, shared
    by threads, made on first use (never before a fork)."""

    name = "cnn"

    def __init__(self) -> None:
        self._net: Any = None
        self._lock = threading.Lock()

    def check(self) -> None:
        """Parses the model file (the parse is cached on disk, so the workers read it instead
        of each parsing it) and builds the graphs once, to fail here, not in a worker."""
        try:
            import onnx  # noqa: F401
            import onnxruntime  # noqa: F401

            from auditor.faces.cnn_graph import graphs_bytes
            from auditor.faces.dlibnet import DlibNetError
            from auditor.faces.mmodnet import load
            from auditor.faces.modelfiles import detector_path
        except ImportError as exc:
            raise DetectorUnavailable(
                f"the cnn detector needs the onnx and onnxruntime packages ({exc})"
            ) from None
        try:
            graphs_bytes(load(detector_path()))
        except (DlibNetError, OSError) as exc:
            raise DetectorUnavailable(f"the cnn detector cannot read the model: {exc}") from None

    def preload(self) -> None:
        return None  # an ONNX Runtime session must not cross a fork

    def warm(self) -> None:
        self._session()

    def _session(self) -> Any:
        if self._net is None:
            with self._lock:
                if self._net is None:
                    self._net = self._load()
        return self._net

    @staticmethod
    def _load() -> Any:
        try:
            from auditor.faces.cnn_detector import CnnDetector

            return CnnDetector()
        except ImportError as exc:
            raise DetectorUnavailable(
                f"the cnn detector needs the onnx and onnxruntime packages ({exc})"
            ) from None
        except ValueError as exc:  # DlibNetError: a model file this parser does not know
            raise DetectorUnavailable(f"the cnn detector cannot read the model: {exc}") from None

    def find(self, frames: Sequence[Any], upsample: int) -> list[Found]:
        """One batched pass over the frames (frames of one size share a forward pass); the
        time is shared out by pixel count."""
        start = perf_counter()
        found = self._session().detect_many(list(frames), upsample)
        spent = perf_counter() - start
        pixels = [img.shape[0] * img.shape[1] for img in frames]
        total = sum(pixels) or 1
        return [(spent * n / total, [d.box for d in dets])
                for n, dets in zip(pixels, found, strict=True)]  # fmt: skip

    def build(self) -> dict[str, object]:
        """The ONNX Runtime version and provider it runs on (whatever the descriptor kernel)
        and the model file, parse and graph hashes."""
        import onnxruntime

        from auditor.faces.cnn_graph import graph_sha256, graphs_bytes
        from auditor.faces.mmodnet import load
        from auditor.faces.modelfiles import detector_path, sha256_file
        from auditor.faces.onnx_kernel import providers

        model = detector_path()
        net = load(model)
        data = graphs_bytes(net)
        return {
            "onnxruntime": str(onnxruntime.__version__),
            "onnx_provider": providers()[0],
            "sha256:mmod_detector": sha256_file(model),
            "sha256:mmod_weights": net.weights_sha256,
            "sha256:mmod_graph": graph_sha256(data),
        }


#: The detectors, by the name `--detector` takes. The one place a detector is listed.
_REGISTRY: dict[str, Callable[[], Detector]] = {"hog": HogFaces, "cnn": CnnFaces}
DETECTORS = tuple(_REGISTRY)
_MADE: dict[str, Detector] = {}
_MADE_LOCK = threading.Lock()


def get_detector(name: str) -> Detector:
    """This process's instance of detector `name` (made on first use)."""
    if name not in _REGISTRY:
        raise DetectorUnavailable(f"unknown detector {name!r} (choose from {', '.join(DETECTORS)})")
    with _MADE_LOCK:
        if name not in _MADE:
            _MADE[name] = _REGISTRY[name]()
        return _MADE[name]


def check_detector(name: str) -> None:
    """Raise DetectorUnavailable now if `name` could not run (checked before the pool forks)."""
    get_detector(name).check()


def detector_build(name: str) -> dict[str, object]:
    """What detector `name` runs on beyond dlib (`Detector.build`); empty for hog, so what hog
    results are keyed on does not change."""
    return get_detector(name).build()
