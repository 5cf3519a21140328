"""Face detectors: what finds the face boxes the landmarks and descriptors are computed on.

* `hog` (default): dlib's `get_frontal_face_detector`, face_recognition's default
  (`face_locations(img, U)`); run by the engine itself, one detector per thread.
* `cnn`: dlib's MMOD network (`mmod_human_face_detector.dat`), face_recognition's
  `model="cnn"`, parsed (`mmodnet`) and run on ONNX Runtime (`cnn_graph`, `cnn_detector`) with
  dlib's boxes and confidences (tested on real photos). It finds more faces (profiles, small,
  tilted) but costs several times HOG's CPU per frame (bench/RESULTS.md), so HOG stays the
  default.

A detector name is part of the result parameters: cached results never mix detectors.
"""

from __future__ import annotations

from auditor.core.errors import AuditorError

DETECTORS = ("hog", "cnn")
DEFAULT_DETECTOR = "hog"


class DetectorUnavailable(AuditorError):
    """The chosen detector cannot run on this install (onnxruntime missing, unreadable model)."""


def _unknown(name: str) -> DetectorUnavailable:
    return DetectorUnavailable(f"unknown detector {name!r} (choose from {', '.join(DETECTORS)})")


def check_detector(name: str) -> None:
    """Raise DetectorUnavailable now if `name` could not load (checked before the pool forks).

    For cnn this parses the model file and builds the graph (both cached on disk), so the
    workers read them instead of each building them.
    """
    if name not in DETECTORS:
        raise _unknown(name)
    if name == "hog":
        return
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401

        from auditor.faces.cnn_graph import graph_bytes
        from auditor.faces.dlibnet import DlibNetError
        from auditor.faces.modelfiles import detector_path
    except ImportError as exc:
        raise DetectorUnavailable(
            f"the cnn detector needs the onnx and onnxruntime packages ({exc})"
        ) from None
    try:
        graph_bytes(detector_path())
    except (DlibNetError, OSError) as exc:
        raise DetectorUnavailable(f"the cnn detector cannot read the model: {exc}") from None


def load_cnn() -> object:
    """The CNN detector for this process (a `cnn_detector.CnnDetector`)."""
    try:
        from auditor.faces.cnn_detector import CnnDetector

        return CnnDetector()
    except ImportError as exc:
        raise DetectorUnavailable(
            f"the cnn detector needs the onnx and onnxruntime packages ({exc})"
        ) from None
    except ValueError as exc:  # DlibNetError: a model file this parser does not know
        raise DetectorUnavailable(f"the cnn detector cannot read the model: {exc}") from None


def detector_build(name: str) -> dict[str, object]:
    """What the detector runs beyond dlib: for cnn, the ONNX Runtime version and provider it
    runs on (whatever the descriptor kernel) and the model file, parse and graph hashes.

    Empty for hog, so what hog results are keyed on does not change.
    """
    if name != "cnn":
        return {}
    import onnxruntime

    from auditor.faces.cnn_graph import graph_bytes, graph_sha256
    from auditor.faces.modelfiles import detector_path, sha256_file
    from auditor.faces.onnx_kernel import providers

    model = detector_path()
    data, net = graph_bytes(model)
    return {
        "onnxruntime": str(onnxruntime.__version__),
        "onnx_provider": providers()[0],
        "sha256:mmod_detector": sha256_file(model),
        "sha256:mmod_weights": net.weights_sha256,
        "sha256:mmod_graph": graph_sha256(data),
    }
