"""Descriptor kernels: what turns a frame's 5-point landmarks into 128-d descriptors.

* `dlib`: dlib's own `face_recognition_model_v1.compute_face_descriptor` (the reference).
* `onnx` (default): the same network, parsed from the same model file (`dlibnet`), run on ONNX
  Runtime (`onnx_kernel`); measured about 20x cheaper per face on the default install, with
  descriptors within 1e-6 of dlib's (bench/RESULTS.md, tests/faces/test_faces_kernels.py).

Both kernels see exactly the same 150x150 chips: dlib extracts them (`get_face_chips` with the
padding the dlib path uses), so detection, landmarks and alignment stay dlib's. A kernel gets
all frames of a chunk at once and runs one forward pass for all their faces.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from auditor.core.errors import AuditorError
from auditor.faces.modelfiles import model_paths

KERNELS = ("onnx", "dlib")
DEFAULT_KERNEL = "onnx"
CHIP_SIZE = 150


class KernelUnavailable(AuditorError):
    """The chosen kernel cannot run on this install (onnxruntime missing, unreadable model)."""


class Kernel(Protocol):
    def __call__(
        self, images: Sequence[Any], shapes: Sequence[Any], padding: float
    ) -> list[np.ndarray]:
        """Per image, an (n_faces, 128) float array in the order of its shapes."""
        ...


class DlibKernel:
    """dlib's ResNet: one batched `compute_face_descriptor` call for all images."""

    def __init__(self, jitters: int) -> None:
        import dlib

        self.encoder = dlib.face_recognition_model_v1(str(model_paths()["resnet"]))
        self.jitters = jitters

    def __call__(
        self, images: Sequence[Any], shapes: Sequence[Any], padding: float
    ) -> list[np.ndarray]:
        if not images:
            return []
        vectors = self.encoder.compute_face_descriptor(
            list(images), list(shapes), self.jitters, padding
        )
        return [np.array(per_image, dtype=np.float64).reshape(-1, 128) for per_image in vectors]


class OnnxChipKernel:
    """dlib's chips, then one ONNX Runtime pass over every chip of the chunk."""

    def __init__(self) -> None:
        try:
            from auditor.faces.onnx_kernel import OnnxKernel

            self.net = OnnxKernel(model_paths()["resnet"])
        except ImportError as exc:
            raise KernelUnavailable(
                f"the onnx kernel needs the onnx and onnxruntime packages ({exc}); "
                "install them or use --kernel dlib"
            ) from None
        except ValueError as exc:  # DlibNetError: a model file this parser does not know
            raise KernelUnavailable(f"the onnx kernel cannot read the model: {exc}") from None

    def __call__(
        self, images: Sequence[Any], shapes: Sequence[Any], padding: float
    ) -> list[np.ndarray]:
        import dlib

        chips: list[np.ndarray] = []
        counts: list[int] = []
        for image, found in zip(images, shapes, strict=True):
            counts.append(len(found))
            if len(found):
                chips.extend(dlib.get_face_chips(image, found, size=CHIP_SIZE, padding=padding))
        if not chips:
            return [np.zeros((0, 128)) for _ in counts]
        vectors = self.net(np.stack(chips)).astype(np.float64)
        bounds = np.cumsum([0, *counts])
        return [vectors[bounds[i] : bounds[i + 1]] for i in range(len(counts))]


def load_kernel(name: str, jitters: int = 0) -> Kernel:
    """The kernel called `name` (one of KERNELS), loaded for this process."""
    if name == "dlib":
        return DlibKernel(jitters)
    if name == "onnx":
        return OnnxChipKernel()
    raise KernelUnavailable(f"unknown kernel {name!r} (choose from {', '.join(KERNELS)})")


def check_kernel(name: str) -> None:
    """Raise KernelUnavailable now if `name` could not load (the pool checks before forking).

    For the onnx kernel this imports onnxruntime (onnx too when the graph must be built),
    parses the model file and builds the graph (both cached on disk), without starting a
    session.
    """
    if name not in KERNELS:
        raise KernelUnavailable(f"unknown kernel {name!r} (choose from {', '.join(KERNELS)})")
    if name != "onnx":
        return
    try:
        # onnx is only needed to build the graph: look for it without importing it (its import
        # costs ~18 MB that every forked worker would inherit)
        if importlib.util.find_spec("onnx") is None:
            raise ImportError("No module named 'onnx'")
        import onnxruntime  # noqa: F401

        from auditor.faces.dlibnet import DlibNetError
        from auditor.faces.onnx_kernel import prepare
    except ImportError as exc:
        raise KernelUnavailable(
            f"the onnx kernel needs the onnx and onnxruntime packages ({exc}); "
            "install them or use --kernel dlib"
        ) from None
    try:
        prepare(model_paths()["resnet"])
    except (DlibNetError, OSError) as exc:
        raise KernelUnavailable(f"the onnx kernel cannot read the model: {exc}") from None


def kernel_build(name: str) -> dict[str, object]:
    """What, beyond dlib and the model files, can change the kernel's float rounding."""
    if name != "onnx":
        return {}
    try:
        import onnxruntime

        from auditor.faces.onnx_kernel import derived_hashes, providers
    except ImportError:
        return {"onnxruntime": None}
    return {
        "onnxruntime": str(onnxruntime.__version__),
        "onnx_provider": providers()[0],
        # the parsed weights and the graph that ran (checked on load, rebuilt when they differ)
        **derived_hashes(model_paths()["resnet"]),
    }
