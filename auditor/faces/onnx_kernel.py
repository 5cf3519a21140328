"""dlib's face descriptor network on ONNX Runtime, built from the weights `dlibnet` parsed.

Why: the default dlib wheel has no BLAS, so its ResNet costs ~75 ms per face per core; ONNX
Runtime's CPU kernels run the same arithmetic several times faster (bench/RESULTS.md). The graph
reproduces dlib's forward pass exactly, including its two quirks:

* output sizes follow dlib's formula `1 + (in + 2*pad - k) / stride` with C division, so a 3x3
  stride-2 convolution without padding on a 2x2 map yields one value whose window reaches past
  the bottom/right edge (zeros there); we express that as an asymmetric end padding;
* `add_prev` adds tensors of different shapes (64 channels 4x4 + 128 channels 3x3): dlib treats
  every missing element as zero, so both operands are zero-padded at the end to the larger shape.

Every convolution is followed by a per-channel affine layer (dlib's deploy form of batch norm);
we fold it into the convolution's weights and bias in float64, a change in float32 rounding only
(parity with dlib is tested on real faces). The input layer's per-channel means and 1/256 scale
are the first nodes of the graph, so the graph takes the 150x150 RGB chips as uint8.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from auditor.faces.derived import checked_hash, read_checked, sha256_bytes, write_checked
from auditor.faces.dlibnet import FORMAT_VERSION, DlibNet, DlibNetError, cache_dir, load
from auditor.faces.memory import release_free_memory
from auditor.faces.modelfiles import sha256_file

#: Name recorded in the report's face_engine block and in the cache fingerprint.
KERNEL_NAME = "onnx"
#: Bump when `build_model` changes the graph, so graphs cached on disk are built again.
GRAPH_VERSION = 1
#: Chips per ONNX Runtime call (see `OnnxKernel.__call__`).
MAX_BATCH = 8


def _out_size(size: int, kernel: int, stride: int, pad: int) -> int:
    span = size + 2 * pad - kernel
    return 1 + int(span / stride)  # C division truncates toward zero, as dlib computes it


def _end_pad(size: int, kernel: int, stride: int, pad: int) -> tuple[int, int]:
    """(output size, padding at the end) that make ONNX's floor formula produce dlib's size."""
    out = _out_size(size, kernel, stride, pad)
    end = max(pad, (out - 1) * stride + kernel - size - pad)
    if (size + pad + end - kernel) // stride + 1 != out:
        raise DlibNetError(f"cannot express a {kernel}x{kernel}/{stride} window on {size} pixels")
    return out, end


class _Graph:
    """Accumulates ONNX nodes and initializers while walking the layers bottom-up."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.count = 0

    def name(self, stem: str) -> str:
        self.count += 1
        return f"{stem}{self.count}"

    def const(self, stem: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        name = self.name(stem)
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def op(self, op_type: str, inputs: list[str], **attrs: Any) -> str:
        from onnx import helper

        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out


Shape = tuple[int, int, int]  # channels, rows, cols


def _pad_to(g: _Graph, x: str, shape: Shape, target: Shape) -> str:
    if shape == target:
        return x
    extra = [0, target[0] - shape[0], target[1] - shape[1], target[2] - shape[2]]
    pads = g.const("pads", np.array([0, 0, 0, 0, *extra], np.int64))
    return g.op("Pad", [x, pads])


def build_model(net: DlibNet) -> Any:
    """The network as an onnx.ModelProto: uint8 chips (N, size, size, 3) in, (N, 128) out."""
    from onnx import TensorProto, helper

    g = _Graph()
    size = net.size
    x = g.op("Cast", ["chips"], to=TensorProto.FLOAT)
    x = g.op("Sub", [x, g.const("means", np.array(net.means, np.float32))])
    x = g.op("Mul", [x, g.const("scale", np.array(1.0 / 256.0, np.float32))])
    x = g.op("Transpose", [x], perm=[0, 3, 1, 2])
    walk = _Walk(g, x, (3, size, size))
    layers = net.layers
    index = 0
    while index < len(layers):
        layer = layers[index]
        if layer.kind == "con":  # dlib's affine layer after it is folded into the convolution
            affine = layers[index + 1] if index + 1 < len(layers) else None
            if affine is None or affine.kind != "affine":
                raise DlibNetError("a convolution is not followed by its affine layer")
            walk.conv(layer, affine)
            index += 2
            continue
        walk.step(layer)
        index += 1

    graph = helper.make_graph(
        g.nodes,
        "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info("chips", TensorProto.UINT8, ["n", size, size, 3])],
        [helper.make_tensor_value_info(walk.x, TensorProto.FLOAT, ["n", 128])],
        g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


class _Walk:
    """The graph as dlib's layers are walked in order: the current tensor and its shape, and
    the tensors tagged for the residual blocks' skips."""

    def __init__(self, g: _Graph, x: str, shape: Shape) -> None:
        self.g, self.x, self.shape = g, x, shape
        self.tags: dict[int, tuple[str, Shape]] = {}

    def conv(self, layer: Any, affine: Any) -> None:
        """A convolution with the affine layer after it folded into its weights and bias."""
        attrs = layer.attrs
        gamma = affine.arrays["gamma"].astype(np.float64)
        beta = affine.arrays["beta"].astype(np.float64)
        weights = layer.arrays["weights"].astype(np.float64) * gamma[:, None, None, None]
        bias = layer.arrays["bias"].astype(np.float64) * gamma + beta
        k, s, p = attrs["kernel"], attrs["stride"], attrs["pad"]
        rows, end = _end_pad(self.shape[1], k, s, p)
        self.x = self.g.op(
            "Conv",
            [
                self.x,
                self.g.const("w", weights.astype(np.float32)),
                self.g.const("b", bias.astype(np.float32)),
            ],
            kernel_shape=[k, k],
            strides=[s, s],
            pads=[p, p, end, end],
        )
        self.shape = (attrs["filters"], rows, rows)

    def step(self, layer: Any) -> None:
        """Any layer but a convolution."""
        kind, attrs, g = layer.kind, layer.attrs, self.g
        if kind == "relu":
            self.x = g.op("Relu", [self.x])
        elif kind in ("max_pool", "avg_pool"):
            self._pool(kind, attrs)
        elif kind == "tag":
            self.tags[attrs["tag"]] = (self.x, self.shape)
        elif kind == "skip":
            self.x, self.shape = self.tags[attrs["tag"]]
        elif kind == "add_prev":
            self._add(*self.tags[attrs["tag"]])
        elif kind == "fc":
            self.x = g.op("Flatten", [self.x], axis=1)
            weights = layer.arrays["weights"]
            if weights.shape[0] != self.shape[0] * self.shape[1] * self.shape[2]:
                raise DlibNetError("the fc layer does not match the size of its input")
            self.x = g.op("MatMul", [self.x, g.const("fc", weights.astype(np.float32))])
        else:
            raise DlibNetError(f"unexpected {kind} layer")

    def _pool(self, kind: str, attrs: dict[str, Any]) -> None:
        shape = self.shape
        if attrs["size"] == 0:  # dlib's size 0: the whole map
            self.x = self.g.op("GlobalAveragePool", [self.x])
            self.shape = (shape[0], 1, 1)
            return
        k, s = attrs["size"], attrs["stride"]
        rows, end = _end_pad(shape[1], k, s, 0)
        if end:
            raise DlibNetError(f"{kind} window reaches past the edge of a {shape[1]} map")
        op = "MaxPool" if kind == "max_pool" else "AveragePool"
        self.x = self.g.op(op, [self.x], kernel_shape=[k, k], strides=[s, s])
        self.shape = (shape[0], rows, rows)

    def _add(self, other: str, other_shape: Shape) -> None:
        """A residual add: both sides zero-padded to the larger shape (dlib's add_prev)."""
        shape = self.shape
        target: Shape = (
            max(shape[0], other_shape[0]),
            max(shape[1], other_shape[1]),
            max(shape[2], other_shape[2]),
        )
        g = self.g
        self.x = g.op(
            "Add", [_pad_to(g, self.x, shape, target), _pad_to(g, other, other_shape, target)]
        )
        self.shape = target


def providers() -> list[str]:
    """CUDA first when onnxruntime-gpu sees a device, then the CPU (always present)."""
    import onnxruntime

    available = onnxruntime.get_available_providers()
    chosen = [name for name in ("CUDAExecutionProvider",) if name in available]
    return [*chosen, "CPUExecutionProvider"]


def _graph_file(model_sha256: str) -> Path:
    return cache_dir() / "dlibnet" / f"{model_sha256}-v{FORMAT_VERSION}-graph{GRAPH_VERSION}.onnx"


#: model file SHA-256 -> the hashes of the derived files this process last used for it
_DERIVED: dict[str, dict[str, str]] = {}


def _record(model_sha256: str, weights: str, graph: str) -> dict[str, str]:
    _DERIVED[model_sha256] = {"sha256:resnet_weights": weights, "sha256:resnet_graph": graph}
    return _DERIVED[model_sha256]


def _build_and_keep(model_file: Path, graph_file: Path) -> bytes:
    """Build the graph from the (cached) parse and keep it, with its SHA-256, beside it.

    Building costs ~0.5 s of float64 folding per process; reading it back ~0.05 s. A cache
    folder that cannot be written only costs that time.
    """
    net = load(model_file)
    data: bytes = build_model(net).SerializeToString()
    _record(net.sha256, net.weights_sha256, write_checked(graph_file, data))
    return data


def _weights_hash(model_sha256: str) -> str:
    """SHA-256 of the cached parse the graph was built from (checked like the graph)."""
    return checked_hash(cache_dir() / "dlibnet" / f"{model_sha256}-v{FORMAT_VERSION}.npz") or ""


def graph_bytes(model_file: Path) -> bytes:
    """The graph for `model_file`: the cached one when its bytes match their recorded SHA-256,
    else built again (and the cache file replaced)."""
    graph_file, data, _ = _checked_graph(model_file)
    if data is None and graph_file is not None:
        data = read_checked(graph_file)
    return (
        data
        if data is not None
        else _build_and_keep(model_file, _graph_file(sha256_file(model_file)))
    )


def _checked_graph(model_file: Path) -> tuple[Path | None, bytes | None, str]:
    """(the cache file when it holds the graph, the graph's bytes when they had to be built,
    its SHA-256).

    A cached graph is trusted on its recorded SHA-256, hashed from the file, and is neither held
    in memory nor parsed with `onnx` here: importing onnx and parsing cost ~18 MB and ~35 MB that
    every forked worker would inherit, and a graph ONNX Runtime refuses is rebuilt by
    `OnnxKernel`. ONNX Runtime then reads the file whose hash the report names.
    """
    model_sha256 = sha256_file(model_file)
    graph_file = _graph_file(model_sha256)
    graph = checked_hash(graph_file)
    weights = _weights_hash(model_sha256) if graph is not None else ""
    if graph is None or not weights:
        data = _build_and_keep(model_file, graph_file)
        digest = sha256_bytes(data)
        return (graph_file if checked_hash(graph_file) == digest else None), data, digest
    _record(model_sha256, weights, graph)
    return graph_file, None, graph


def prepare(model_file: Path) -> dict[str, str]:
    """Check or build the cached graph now (the pool calls this before forking, so workers
    read it instead of each building it); returns the hashes of the derived files."""
    _checked_graph(model_file)
    return derived_hashes(model_file)


def derived_hashes(model_file: Path) -> dict[str, str]:
    """SHA-256 of the parsed weights and of the graph this process used (or would use) for
    `model_file`: what the report's face_engine names, so it describes what actually ran."""
    model_sha256 = sha256_file(model_file)
    if model_sha256 not in _DERIVED:
        _checked_graph(model_file)
    return dict(_DERIVED[model_sha256])


class OnnxKernel:
    """One ONNX Runtime session per process: single intra-op thread (one process per core)."""

    name = KERNEL_NAME

    def __init__(self, model_file: Path, threads: int = 1) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # No CPU arena: it keeps the largest batch's activations for the life of the process
        # (+25 MB after two 20-face chunks, measured); freed buffers go back to malloc instead.
        options.enable_cpu_mem_arena = False
        graph_file, data, digest = _checked_graph(model_file)
        try:
            # From the checked file when there is one: then neither this process nor ONNX
            # Runtime holds a second copy of the 22 MB graph (session start-up peaks 22 MB lower).
            source: str | bytes = str(graph_file) if graph_file is not None else (data or b"")
            session = onnxruntime.InferenceSession(source, options, providers=providers())
        except Exception:  # noqa: BLE001 - checked bytes that ORT still refuses: build again
            graph_file = _graph_file(sha256_file(model_file))
            data = _build_and_keep(model_file, graph_file)
            digest = sha256_bytes(data)
            session = onnxruntime.InferenceSession(data, options, providers=providers())
        self.session = session
        self.graph_sha256 = digest
        self.size = int(session.get_inputs()[0].shape[1])
        del data
        release_free_memory()

    def __call__(self, chips: np.ndarray) -> np.ndarray:
        """(N, size, size, 3) uint8 RGB chips -> (N, 128) float32 descriptors.

        Runs `MAX_BATCH` chips at a time: on CPU a larger batch is no faster, and activations
        grow with the batch (a frame with 40 faces would otherwise cost ~30 MB more).
        """
        if len(chips) == 0:
            return np.zeros((0, 128), np.float32)
        parts = [
            self.session.run(
                None, {"chips": np.ascontiguousarray(chips[i : i + MAX_BATCH], np.uint8)}
            )[0]
            for i in range(0, len(chips), MAX_BATCH)
        ]
        return np.asarray(np.concatenate(parts), np.float32)
