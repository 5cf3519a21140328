"""dlib's CNN face detector network as an ONNX graph, built from the weights `mmodnet` parsed.

Why: the default dlib wheel runs this network without BLAS (~7 s per 640x480 frame at
upsample 1); ONNX Runtime's CPU convolutions run the same arithmetic several times cheaper
(bench/RESULTS.md). The graph is only the network: it takes dlib's tiled image pyramid, already
normalised ((pixel - mean) / 256, float32, N x 3 x rows x cols, see `cnn_detector`), and returns
the detector's score map (N x 1 x rows' x cols'). Building the pyramid, thresholding and
non-max suppression stay in numpy, where they can follow dlib's code line by line.

All convolutions use dlib's padding (none for the 5x5 stride-2 ones, half the kernel for the
stride-1 ones); with no padding and a window that fits, dlib's output size `1 + (in - k) / s`
equals ONNX's floor formula. Each affine layer is folded into its convolution in float64 (a
change in float32 rounding only; parity with dlib is tested on real photos).

The graph is cached beside the parse, keyed by the model file's SHA-256 and GRAPH_VERSION,
its own SHA-256 recorded and checked on load (`derived`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from auditor.faces.derived import read_checked, sha256_bytes, write_checked
from auditor.faces.dlibnet import DlibNetError, cache_dir
from auditor.faces.mmodnet import FORMAT_VERSION, MmodNet, load
from auditor.faces.modelfiles import sha256_file
from auditor.faces.onnx_kernel import _Graph

#: Bump when `build_model` changes the graph, so graphs cached on disk are built again.
GRAPH_VERSION = 1


def build_model(net: MmodNet) -> Any:
    """The network as an onnx.ModelProto: float32 (N, 3, rows, cols) in, (N, 1, r, c) out."""
    from onnx import TensorProto, helper

    g = _Graph()
    x = "pyramid"
    layers = net.layers
    index = 0
    while index < len(layers):
        layer = layers[index]
        if layer.kind == "relu":
            x = g.op("Relu", [x])
            index += 1
            continue
        if layer.kind != "con":
            raise DlibNetError(f"unexpected {layer.kind} layer")
        weights = layer.arrays["weights"].astype(np.float64)
        bias = layer.arrays["bias"].astype(np.float64)
        following = layers[index + 1] if index + 1 < len(layers) else None
        if following is not None and following.kind == "affine":
            gamma = following.arrays["gamma"].astype(np.float64)
            beta = following.arrays["beta"].astype(np.float64)
            weights = weights * gamma[:, None, None, None]
            bias = bias * gamma + beta
            index += 1
        k, s, p = layer.attrs["kernel"], layer.attrs["stride"], layer.attrs["pad"]
        x = g.op(
            "Conv",
            [x, g.const("w", weights.astype(np.float32)), g.const("b", bias.astype(np.float32))],
            kernel_shape=[k, k],
            strides=[s, s],
            pads=[p, p, p, p],
        )
        index += 1
    graph = helper.make_graph(
        g.nodes,
        "mmod_human_face_detector",
        [helper.make_tensor_value_info("pyramid", TensorProto.FLOAT, ["n", 3, "rows", "cols"])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["n", 1, "out_rows", "out_cols"])],
        g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def _graph_file(model_sha256: str) -> Path:
    return cache_dir() / "mmodnet" / f"{model_sha256}-v{FORMAT_VERSION}-graph{GRAPH_VERSION}.onnx"


def graph_bytes(model_file: Path) -> tuple[bytes, MmodNet]:
    """The graph for `model_file` (the cached one when its bytes match their recorded SHA-256
    and it parses as ONNX, else built again and the cache file replaced) and the parse."""
    net = load(model_file)
    graph_file = _graph_file(sha256_file(model_file))
    data = read_checked(graph_file)
    if data is not None:
        try:
            import onnx

            onnx.load_model_from_string(data)
            return data, net
        except Exception:  # noqa: BLE001 - not a readable graph: a cache miss
            pass
    data = build_model(net).SerializeToString()
    write_checked(graph_file, data)
    return data, net


def rebuild(model_file: Path) -> bytes:
    """Build the graph again and replace the cached file (after ORT refused checked bytes)."""
    data: bytes = build_model(load(model_file)).SerializeToString()
    write_checked(_graph_file(sha256_file(model_file)), data)
    return data


def graph_sha256(data: bytes) -> str:
    """SHA-256 of graph bytes (what face_engine names)."""
    return sha256_bytes(data)
