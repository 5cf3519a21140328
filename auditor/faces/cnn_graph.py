"""dlib's CNN face detector network as ONNX graphs, built from the weights `mmodnet` parsed.

Why: the default dlib wheel runs this network without BLAS (~7 s per 640x480 frame at
upsample 1); ONNX Runtime's CPU convolutions run the same arithmetic several times cheaper
(bench/RESULTS.md). The graphs are only the network: they take dlib's tiled image pyramid,
already normalised ((pixel - mean) / 256, float32, N x 3 x rows x cols, see `cnn_detector`),
and give the detector's score map (N x 1 x rows' x cols'). Building the pyramid, thresholding
and non-max suppression stay in numpy, where they can follow dlib's code line by line.

The network is a chain of seven convolutions (each affine layer folded into its convolution in
float64, a change in float32 rounding only; parity with dlib is tested on real photos), and
`stage_models` gives one graph per convolution (with its ReLU) that pads only the columns:
`cnn_stream` runs them over the pyramid a few rows at a time and carries each layer's last rows
to the next call, so no row is computed twice and no layer's whole output is ever held.
`build_model` is the same chain as one graph: it runs small pyramids in one call (cheaper
there than seven) and is the reference the streamed stages are tested against. dlib's padding
is none for the 5x5 stride-2 convolutions and half the kernel for the stride-1 ones; with no
padding and a window that fits, dlib's output size `1 + (in - k) / s` equals ONNX's floor
formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from auditor.faces.dlibnet import DlibNetError
from auditor.faces.mmodnet import MmodNet
from auditor.faces.onnx_kernel import _Graph


@dataclass(frozen=True)
class Stage:
    """One convolution of the chain, its affine layer folded in, and whether a ReLU follows."""

    weights: np.ndarray  # float32 (out, in, k, k)
    bias: np.ndarray  # float32 (out,)
    kernel: int
    stride: int
    pad: int
    relu: bool


def stages(net: MmodNet) -> list[Stage]:
    """The network's convolutions in input-to-output order."""
    out: list[Stage] = []
    layers = net.layers
    index = 0
    while index < len(layers):
        layer = layers[index]
        if layer.kind == "relu":
            if not out or out[-1].relu:
                raise DlibNetError("a relu layer that does not follow a convolution")
            last = out.pop()
            out.append(Stage(last.weights, last.bias, last.kernel, last.stride, last.pad, True))
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
        out.append(Stage(weights.astype(np.float32), bias.astype(np.float32), k, s, p, relu=False))
        index += 1
    return out


def _conv(g: _Graph, x: str, stage: Stage, row_pad: int) -> str:
    p = stage.pad
    x = g.op(
        "Conv",
        [x, g.const("w", stage.weights), g.const("b", stage.bias)],
        kernel_shape=[stage.kernel, stage.kernel],
        strides=[stage.stride, stage.stride],
        pads=[row_pad, p, row_pad, p],
    )
    return g.op("Relu", [x]) if stage.relu else x


def _model(g: _Graph, x_in: str, x_out: str, channels: int, name: str) -> Any:
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        g.nodes,
        name,
        [helper.make_tensor_value_info(x_in, TensorProto.FLOAT, ["n", channels, "r", "c"])],
        [helper.make_tensor_value_info(x_out, TensorProto.FLOAT, ["n", None, "r2", "c2"])],
        g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def build_model(net: MmodNet) -> Any:
    """The whole network as one onnx.ModelProto: float32 (N, 3, rows, cols) in, (N, 1, r, c)
    out, padding rows and columns as dlib does."""
    g = _Graph()
    x = "pyramid"
    for stage in stages(net):
        x = _conv(g, x, stage, stage.pad)
    return _model(g, "pyramid", x, 3, "mmod_human_face_detector")


def stage_models(net: MmodNet) -> list[Any]:
    """One onnx.ModelProto per convolution (with its ReLU), padding the columns only: the
    rows' padding is the caller's (`cnn_stream` adds zero rows at the pyramid's edges)."""
    models = []
    for i, stage in enumerate(stages(net)):
        g = _Graph()
        x = _conv(g, "x", stage, 0)
        models.append(_model(g, "x", x, stage.weights.shape[1], f"mmod_stage{i}"))
    return models


def graphs_bytes(net: MmodNet) -> list[bytes]:
    """The whole-network graph, then the stage graphs, serialised (built in memory from the
    checked parse in a few ms, so not cached on disk)."""
    models = [build_model(net), *stage_models(net)]
    return [model.SerializeToString() for model in models]


def graph_sha256(stage_data: list[bytes]) -> str:
    """SHA-256 over the graphs (what face_engine names): each graph's length, then its bytes,
    so no two lists of graphs hash alike."""
    import hashlib

    digest = hashlib.sha256()
    for data in stage_data:
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()
