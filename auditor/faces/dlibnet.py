"""Read dlib's face descriptor network (`dlib_face_recognition_resnet_model_v1.dat`) into numpy.

Why: dlib's own CPU forward pass (no BLAS in the default wheel) costs ~75 ms per face per core.
Running the same weights on ONNX Runtime is several times cheaper, but only if we can read the
weights ourselves. This module does that, nothing else: no forward pass, no ONNX.

The file format (dlib/serialize.h, dlib/dnn/core.h, layers.h, input.h, loss.h):

* integers: one byte whose low nibble is the number of little-endian bytes that follow and whose
  bit 0x80 is the sign; strings: an integer length, then the bytes; bools: ASCII '0' / '1';
  float scalars: an integer mantissa and an integer exponent (value = mantissa * 2**exponent);
  tensors (version 2): num_samples, k, nr, nc, then raw little-endian float32.
* the network nests outermost first: the loss layer, then for every `add_layer` its version (2),
  its sub-network, and only then its own layer details, three bools and three (empty) tensors.
  So the version numbers of all layers come first and the layer details follow bottom-up.
  `add_tag_layer` / `add_skip_layer` write only a version (1) and their sub-network: the tag ids
  are template arguments, not data. Like dlib's `deserialize`, which needs the C++ network type,
  we therefore walk the file against the known architecture (`architecture()`, transcribed from
  dlib's dnn_face_recognition_ex.cpp) and check every layer name, shape and hyper-parameter
  against it; anything unexpected raises `DlibNetError` naming the byte offset.

The parsed network is cached on disk, keyed by the model file's SHA-256, with the SHA-256 of the
cache file itself recorded and checked on every load (`derived`; see `load`).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from auditor.core.cachedir import user_cache_dir
from auditor.faces.derived import read_checked, sha256_bytes, write_checked

#: Bump when what `parse` returns changes shape, so stale cache files are not read.
FORMAT_VERSION = 1


class DlibNetError(ValueError):
    """The model file is not the network this module knows how to read."""


@dataclass
class Layer:
    """One layer, bottom-up. `kind` is con, affine, relu, max_pool, avg_pool, add_prev, tag,
    skip or fc. `arrays` holds the weights; `attrs` the hyper-parameters (ints)."""

    kind: str
    attrs: dict[str, int] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class DlibNet:
    """Input normalisation and the layers, bottom-up (input side first)."""

    means: tuple[float, float, float]
    size: int
    layers: list[Layer]
    sha256: str
    #: SHA-256 of the cached parse (the .npz) this network was read from or written to
    weights_sha256: str = ""


# ---------------------------------------------------------------------------------------------
# The architecture (top-down, exactly as the C++ type nests).

#: (kind, filters / tag id / pool size, stride, kernel size)
Spec = tuple[str, int, int, int]


def _block(n: int, stride: int) -> list[Spec]:
    # block<N,BN,stride,S> = BN<con<N,3,3,1,1,relu<BN<con<N,3,3,stride,stride,S>>>>>
    return [
        ("affine", 0, 0, 0),
        ("con", n, 1, 3),
        ("relu", 0, 0, 0),
        ("affine", 0, 0, 0),
        ("con", n, stride, 3),
    ]


def _ares(n: int) -> list[Spec]:
    # relu<add_prev1<block<N,affine,1,tag1<S>>>>
    return [("relu", 0, 0, 0), ("add_prev", 1, 0, 0), *_block(n, 1), ("tag", 1, 0, 0)]


def _ares_down(n: int) -> list[Spec]:
    # relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,affine,2,tag1<S>>>>>>>
    return [
        ("relu", 0, 0, 0),
        ("add_prev", 2, 0, 0),
        ("avg_pool", 2, 2, 0),
        ("skip", 1, 0, 0),
        ("tag", 2, 0, 0),
        *_block(n, 2),
        ("tag", 1, 0, 0),
    ]


def architecture() -> list[Spec]:
    """The layers below loss_metric, top-down: (kind, filters / tag id / pool size, stride)."""
    top: list[Spec] = [("fc", 128, 0, 0), ("avg_pool", 0, 1, 0)]
    top += _ares_down(256)  # alevel0
    top += _ares(256) + _ares(256) + _ares_down(256)  # alevel1
    top += _ares(128) + _ares(128) + _ares_down(128)  # alevel2
    top += _ares(64) + _ares(64) + _ares(64) + _ares_down(64)  # alevel3
    top += _ares(32) + _ares(32) + _ares(32)  # alevel4
    top += [("max_pool", 3, 2, 0), ("relu", 0, 0, 0), ("affine", 0, 0, 0), ("con", 32, 2, 7)]
    return top


# ---------------------------------------------------------------------------------------------
# The reader.


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def fail(self, what: str) -> DlibNetError:
        return DlibNetError(f"byte {self.pos}: {what}")

    def read_int(self) -> int:
        if self.pos >= len(self.data):
            raise self.fail("unexpected end of file")
        head = self.data[self.pos]
        size = head & 0x0F
        if head & 0x70 or size > 8:
            raise self.fail(f"not a dlib integer (control byte {head:#04x})")
        raw = self.data[self.pos + 1 : self.pos + 1 + size]
        if len(raw) != size:
            raise self.fail("unexpected end of file")
        self.pos += 1 + size
        value = int.from_bytes(raw, "little")
        return -value if head & 0x80 else value

    def expect_int(self, expected: int, what: str) -> None:
        start = self.pos
        value = self.read_int()
        if value != expected:
            self.pos = start
            raise self.fail(f"{what}: expected {expected}, found {value}")

    def read_str(self) -> str:
        size = self.read_int()
        raw = self.data[self.pos : self.pos + size]
        self.pos += size
        return raw.decode("latin-1")

    def read_float(self) -> float:
        mantissa = self.read_int()
        exponent = self.read_int()
        return float(mantissa) * 2.0**exponent

    def read_bool(self) -> bool:
        char = self.data[self.pos : self.pos + 1]
        if char not in (b"0", b"1"):
            raise self.fail(f"not a dlib bool: {char!r}")
        self.pos += 1
        return char == b"1"

    def tensor(self) -> np.ndarray:
        self.expect_int(2, "tensor version")
        shape = tuple(self.read_int() for _ in range(4))
        count = int(np.prod(shape))
        end = self.pos + 4 * count
        if end > len(self.data):
            raise self.fail("tensor runs past the end of the file")
        array = np.frombuffer(self.data, "<f4", count, self.pos).reshape(shape)
        self.pos = end
        return array.astype(np.float32)

    def alias(self) -> tuple[int, int, int, int]:
        self.expect_int(1, "alias_tensor version")
        n, k, nr, nc = (self.read_int() for _ in range(4))
        return n, k, nr, nc

    def name(self, expected: str) -> None:
        start = self.pos
        found = self.read_str()
        if found != expected:
            self.pos = start
            raise self.fail(f"expected layer {expected!r}, found {found[:40]!r}")


def _con(r: _Reader, filters: int, stride: int, kernel: int) -> Layer:
    r.name("con_4")
    params = r.tensor().reshape(-1)
    num, nr, nc, sy, sx, py, px = (r.read_int() for _ in range(7))
    if (num, nr, nc, sy, sx) != (filters, kernel, kernel, stride, stride):
        raise r.fail(f"con_4 {num} filters {nr}x{nc} stride {sy}x{sx} is not the expected layer")
    fn, fk, fr, fc = r.alias()
    bn, bk, _, _ = r.alias()
    if (fn, fr, fc, bk) != (num, nr, nc, num) or bn != 1:
        raise r.fail("con_4 aliases do not match its filters")
    for _ in range(4):  # learning-rate and weight-decay multipliers (training only)
        r.read_float()
    weight_count = fn * fk * fr * fc
    if params.size != weight_count + num:
        raise r.fail(f"con_4 has {params.size} parameters, expected {weight_count + num}")
    weights = params[:weight_count].reshape(fn, fk, fr, fc)
    attrs = {"filters": num, "kernel": nr, "stride": sy, "pad": py}
    if py != px:
        raise r.fail("con_4 with different vertical and horizontal padding")
    return Layer("con", attrs, {"weights": weights, "bias": params[weight_count:].copy()})


def _affine(r: _Reader) -> Layer:
    r.name("affine_")
    params = r.tensor().reshape(-1)
    gamma = r.alias()
    beta = r.alias()
    mode = r.read_int()
    channels = gamma[1]
    if mode != 0 or gamma != beta or params.size != 2 * channels:
        raise r.fail(f"affine_ mode {mode} with {params.size} parameters is not a conv affine")
    return Layer(
        "affine",
        {"channels": channels},
        {"gamma": params[:channels].copy(), "beta": params[channels:].copy()},
    )


def _pool(r: _Reader, kind: str, size: int, stride: int) -> Layer:
    r.name(f"{kind}_2")
    nr, nc, sy, sx, py, px = (r.read_int() for _ in range(6))
    if (nr, nc, sy, sx, py, px) != (size, size, stride, stride, 0, 0):
        raise r.fail(f"{kind} {nr}x{nc} stride {sy}x{sx} pad {py}x{px} is not the expected pool")
    return Layer(kind, {"size": size, "stride": stride})


def _fc(r: _Reader, outputs: int) -> Layer:
    r.name("fc_2")
    num_outputs, num_inputs = r.read_int(), r.read_int()
    params = r.tensor()
    weights = r.alias()
    biases = r.alias()
    bias_mode = r.read_int()
    for _ in range(4):
        r.read_float()
    if num_outputs != outputs or bias_mode != 1 or weights[:2] != (num_inputs, num_outputs):
        raise r.fail("fc_2 is not the expected 128-output layer without bias")
    if biases != (0, 0, 0, 0) or params.size != num_inputs * num_outputs:
        raise r.fail("fc_2 parameters do not match a layer without bias")
    return Layer("fc", {"outputs": num_outputs}, {"weights": params.reshape(num_inputs, -1)})


def _details(r: _Reader, spec: Spec) -> Layer:
    kind, a, b, kernel = spec
    if kind == "con":
        return _con(r, a, b, kernel)
    if kind == "affine":
        return _affine(r)
    if kind == "relu":
        r.name("relu_")
        return Layer("relu")
    if kind == "add_prev":
        r.name("add_prev_")
        return Layer("add_prev", {"tag": a})
    if kind in ("max_pool", "avg_pool"):
        return _pool(r, kind, a, b)
    return _fc(r, a)


def _layer_tail(r: _Reader) -> None:
    """Three bools and three tensors that every add_layer writes (empty in a deploy net)."""
    for _ in range(3):
        r.read_bool()
    for _ in range(3):
        if r.tensor().size:
            raise r.fail("a deploy network should hold no gradients or cached outputs")


def parse_bytes(data: bytes, sha256: str = "") -> DlibNet:
    """Parse the whole file; raises DlibNetError naming the offset of anything unexpected."""
    r = _Reader(data)
    r.expect_int(1, "add_loss_layer version")
    r.name("loss_metric_2")
    r.read_float(), r.read_float()  # margin and distance threshold: training only
    spec = architecture()
    for kind, *_ in spec[:-1]:  # the bottom layer shares the input add_layer (version 3)
        r.expect_int(1 if kind in ("tag", "skip") else 2, f"version of a {kind} layer")
    r.expect_int(3, "version of the input add_layer")
    r.name("input_rgb_image_sized")
    means = (r.read_float(), r.read_float(), r.read_float())
    rows, cols = r.read_int(), r.read_int()
    if rows != cols:
        raise r.fail(f"input {rows}x{cols} is not square")
    bottom = list(reversed(spec))
    layers = [_details(r, bottom[0])]  # the input add_layer's own layer
    _layer_tail(r)
    r.read_int()  # the input layer's sample expansion factor
    for item in bottom[1:]:
        kind, a = item[:2]
        if kind in ("tag", "skip"):
            layers.append(Layer(kind, {"tag": a}))
            continue
        layers.append(_details(r, item))
        _layer_tail(r)
    if r.pos != len(data):
        raise r.fail(f"{len(data) - r.pos} bytes left after the last layer")
    return DlibNet(means, rows, layers, sha256)


# ---------------------------------------------------------------------------------------------
# Disk cache.


def cache_dir() -> Path:
    """The auditor's user cache folder (`core.cachedir`: `$AUDITOR_CACHE_DIR`, else the
    platform's, `$XDG_CACHE_HOME/auditor` or `~/.cache/auditor` on Linux)."""
    return user_cache_dir()


def _cache_file(sha256: str) -> Path:
    return cache_dir() / "dlibnet" / f"{sha256}-v{FORMAT_VERSION}.npz"


def _to_npz(net: DlibNet) -> bytes:
    arrays: dict[str, Any] = {}
    meta = {"means": net.means, "size": net.size, "layers": []}
    for index, layer in enumerate(net.layers):
        meta["layers"].append({"kind": layer.kind, "attrs": layer.attrs})  # type: ignore[attr-defined]
        for key, value in layer.arrays.items():
            arrays[f"{index}/{key}"] = value
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _from_npz(data: bytes, sha256: str) -> DlibNet:
    with np.load(io.BytesIO(data)) as saved:
        meta = json.loads(bytes(saved["meta"]).decode())
        layers = [Layer(item["kind"], dict(item["attrs"])) for item in meta["layers"]]
        for key in saved.files:
            if key != "meta":
                index, name = key.split("/")
                layers[int(index)].arrays[name] = saved[key]
    return DlibNet(tuple(meta["means"]), int(meta["size"]), layers, sha256)


def load(model: Path, sha256: str | None = None) -> DlibNet:
    """The parsed network, from the disk cache when its SHA-256 matches, else parsed and saved.

    A cache directory that cannot be written is not an error (the file is parsed each time).
    A cache file whose bytes do not match their recorded SHA-256, or that cannot be read for any
    reason, is a cache miss: the model is parsed again and the file replaced.
    """
    data = model.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if sha256 is not None and sha256 != digest:
        raise DlibNetError(f"{model}: changed while being read")
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
