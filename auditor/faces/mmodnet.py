"""Read dlib's CNN face detector (`mmod_human_face_detector.dat`) into numpy.

Why: dlib's CNN detector finds faces HOG misses (profiles, small and tilted faces), but its CPU
forward pass in the default wheel (no BLAS) costs ~7 s per 640x480 frame. Running the same
weights on ONNX Runtime (`cnn_graph`) needs the weights, and this module reads them, nothing
else. The file format is the one `dlibnet` reads (same integers, floats, tensors and nesting);
the network is the one dlib's `cnn_face_detection_model_v1` deserialises into
(tools/python/src/cnn_face_detector.cpp):

    loss_mmod<con<1,9,9,1,1, rcon5<rcon5<rcon5<downsampler<
        input_rgb_image_pyramid<pyramid_down<6>>>>>>>>
    downsampler = relu<affine<con5d<32, relu<affine<con5d<32, relu<affine<con5d<16,SUBNET>>>>>>>>>
    rcon5<N> = relu<affine<con5<N,SUBNET>>>;  con5d: 5x5 stride 2;  con5: 5x5 stride 1

The file stores the batch-norm layers it was trained with (`bn_con2`); dlib turns each into an
affine layer when it reads it (layers.h, `affine_(const bn_&)`): gamma / sqrt(running variance
+ eps) and beta - that * running mean, in float32. We do the same, in float32, so the affine
weights are the ones dlib runs.

The loss layer carries what the detector needs besides weights: the detector window (80x80),
the non-max-suppression overlap test and the input means and pyramid padding. Every layer name,
shape and hyper-parameter is checked against the architecture above; anything else raises
`DlibNetError` naming the byte offset. The parse is cached by the model file's SHA-256, the
cache file's own SHA-256 checked on every load (`derived`).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from auditor.faces.derived import read_checked, sha256_bytes, write_checked
from auditor.faces.dlibnet import DlibNetError, Layer, _con, _layer_tail, _Reader, cache_dir

#: Bump when what `parse_bytes` returns changes shape, so stale cache files are not read.
FORMAT_VERSION = 1

#: (filters, stride) of the convolutions, bottom-up; each but the last is affine + relu.
CONVS: tuple[tuple[int, int, int], ...] = (
    (16, 2, 5),
    (32, 2, 5),
    (32, 2, 5),
    (45, 1, 5),
    (45, 1, 5),
    (45, 1, 5),
    (1, 1, 9),
)


@dataclass
class MmodNet:
    """What the detector needs: input means, pyramid padding, window, NMS test, layers."""

    means: tuple[float, float, float]
    pyramid_padding: int
    pyramid_outer_padding: int
    window: tuple[int, int]  # width, height
    nms_iou: float
    nms_covered: float
    layers: list[Layer]  # con (folded with nothing yet), affine, relu, ..., con; bottom-up
    sha256: str
    weights_sha256: str = ""


def _options(r: _Reader) -> dict[str, Any]:
    """mmod_options (loss.h `deserialize(mmod_options&)`), versions 1 to 4."""
    version = r.read_int()
    if not 1 <= version <= 4:
        raise r.fail(f"mmod_options version {version} is not one dlib writes")
    if version == 1:
        windows = [(r.read_int(), r.read_int())]
    else:
        windows = []
        for _ in range(r.read_int()):
            r.expect_int(2, "detector window version")
            width, height = r.read_int(), r.read_int()
            r.read_str()  # label
            windows.append((width, height))
    if len(windows) != 1:
        raise r.fail(f"{len(windows)} detector windows; the face detector has one")
    r.read_float(), r.read_float(), r.read_float()  # losses and truth IoU: training only
    nms = (r.read_float(), r.read_float())
    r.read_float(), r.read_float()  # overlaps_ignore: training only
    if version >= 3:
        r.pos += 1  # assume_image_pyramid (a raw byte)
    if version >= 4 and r.read_bool():
        raise r.fail("a detector with bounding-box regression is not the face detector")
    if version >= 4:
        r.read_float()
    if not (0 < nms[0] <= 1 and 0 < nms[1] <= 1):
        raise r.fail(f"non-max-suppression thresholds {nms} out of range")
    return {"window": windows[0], "nms": nms}


def _bn_as_affine(r: _Reader, channels: int) -> Layer:
    """A `bn_con2` layer turned into dlib's affine layer, exactly as `affine_(bn_)` does."""
    r.name("bn_con2")
    params = r.tensor().reshape(-1)
    gamma, beta = r.alias(), r.alias()
    r.tensor(), r.tensor()  # means, invstds of the last training batch
    running_means = r.tensor().reshape(-1)
    running_vars = r.tensor().reshape(-1)
    r.read_int(), r.read_int()  # num_updates, running_stats_window_size
    for _ in range(4):
        r.read_float()  # learning-rate and weight-decay multipliers
    eps = np.float32(r.read_float())
    if gamma[1] != channels or params.size != 2 * channels or running_vars.size != channels:
        raise r.fail(f"bn_con2 over {gamma[1]} channels, expected {channels}")
    if running_means.size != channels or gamma != beta:
        raise r.fail("bn_con2 running statistics do not match its channels")
    g = params[:channels] / np.sqrt(running_vars + eps)
    b = params[channels:] - g * running_means
    return Layer("affine", {"channels": channels}, {"gamma": g, "beta": b})


def parse_bytes(data: bytes, sha256: str = "") -> MmodNet:
    """Parse the whole file; raises DlibNetError naming the offset of anything unexpected."""
    r = _Reader(data)
    r.expect_int(1, "add_loss_layer version")
    r.name("loss_mmod_")
    options = _options(r)
    # 7 convolutions, 6 affine + 6 relu: 19 add_layers; the bottom one is the input add_layer
    for _ in range(18):
        r.expect_int(2, "version of an add_layer")
    r.expect_int(3, "version of the input add_layer")
    version = r.read_str()
    if version not in ("input_rgb_image_pyramid", "input_rgb_image_pyramid2"):
        raise r.fail(f"input layer {version[:40]!r} is not input_rgb_image_pyramid")
    means = (r.read_float(), r.read_float(), r.read_float())
    padding, outer = (r.read_int(), r.read_int()) if version.endswith("2") else (10, 11)
    layers: list[Layer] = []
    for index, (filters, stride, kernel) in enumerate(CONVS):
        layers.append(_con(r, filters, stride, kernel))
        _layer_tail(r)
        if index == 0:
            r.read_int()  # the input add_layer's sample expansion factor
        if index == len(CONVS) - 1:
            break
        layers.append(_bn_as_affine(r, filters))
        _layer_tail(r)
        r.name("relu_")
        layers.append(Layer("relu"))
        _layer_tail(r)
    if r.pos != len(data):
        raise r.fail(f"{len(data) - r.pos} bytes left after the last layer")
    width, height = options["window"]
    nms_iou, nms_covered = options["nms"]
    return MmodNet(means, padding, outer, (width, height), nms_iou, nms_covered, layers, sha256)


# ---------------------------------------------------------------------------------------------
# Disk cache (same scheme as dlibnet: keyed by the model's SHA-256, the cache file checked).


def _cache_file(sha256: str) -> Path:
    return cache_dir() / "mmodnet" / f"{sha256}-v{FORMAT_VERSION}.npz"


def _to_npz(net: MmodNet) -> bytes:
    arrays: dict[str, Any] = {}
    meta: dict[str, Any] = {
        "means": net.means,
        "padding": [net.pyramid_padding, net.pyramid_outer_padding],
        "window": net.window,
        "nms": [net.nms_iou, net.nms_covered],
        "layers": [{"kind": layer.kind, "attrs": layer.attrs} for layer in net.layers],
    }
    for index, layer in enumerate(net.layers):
        for key, value in layer.arrays.items():
            arrays[f"{index}/{key}"] = value
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _from_npz(data: bytes, sha256: str) -> MmodNet:
    with np.load(io.BytesIO(data)) as saved:
        meta = json.loads(bytes(saved["meta"]).decode())
        layers = [Layer(item["kind"], dict(item["attrs"])) for item in meta["layers"]]
        for key in saved.files:
            if key != "meta":
                index, name = key.split("/")
                layers[int(index)].arrays[name] = saved[key]
    padding, outer = meta["padding"]
    width, height = meta["window"]
    iou, covered = meta["nms"]
    means = tuple(float(m) for m in meta["means"])
    return MmodNet(means, padding, outer, (width, height), iou, covered, layers, sha256)  # type: ignore[arg-type]


def load(model: Path) -> MmodNet:
    """The parsed detector, from the disk cache when its SHA-256 matches, else parsed and saved.

    An unwritable cache folder only costs parse time; a cache file whose bytes do not match
    their recorded SHA-256, or that cannot be read, is a miss (parsed again, file replaced).
    """
    data = model.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    path = _cache_file(digest)
    cached = read_checked(path)
    if cached is not None:
        try:
            net = _from_npz(cached, digest)
            net.weights_sha256 = sha256_bytes(cached)
            return net
        except Exception:  # noqa: BLE001 - any unreadable cache file is a miss, rebuilt below
            pass
    try:
        net = parse_bytes(data, digest)
    except DlibNetError as exc:
        raise DlibNetError(f"{model}: {exc}") from None
    net.weights_sha256 = write_checked(path, _to_npz(net))
    return net
