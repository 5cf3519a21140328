"""The worker-side checks in isolation: file stamps, their comparison, and the facts a worker
is compared by, which follow the descriptor kernel of the audit (issue 15, item 5)."""

from __future__ import annotations

from pathlib import Path

from auditor.faces.fingerprint import build_info
from auditor.run.executors.dask_checks import BLOCK, client_stamps, mismatch, stamp, worker_facts


def test_stamps_see_size_and_end_blocks(tmp_path: Path) -> None:
    path = tmp_path / "log"
    body = b"x" * (3 * BLOCK)
    path.write_bytes(body)
    first = stamp(str(path))
    assert first is not None and first.startswith(f"blocks:{3 * BLOCK}:")
    path.write_bytes(body + b"y")  # appended: size differs
    grown = stamp(str(path))
    why = mismatch(first, grown, "tcp://w:1")
    assert why is not None and f"{3 * BLOCK + 1} bytes there, {3 * BLOCK} here" in why
    path.write_bytes(b"z" + body[1:])  # same size, other first block
    why = mismatch(first, stamp(str(path)), "tcp://w:1")
    assert why is not None and "same size, other first or last block" in why
    assert mismatch(first, first, "tcp://w:1") is None
    assert "cannot read this file" in (mismatch(first, None, "tcp://w:1") or "")
    assert mismatch(None, None, "tcp://w:1") is None  # the client cannot read it either
    assert stamp(str(tmp_path / "missing")) is None


def test_full_hash_where_the_client_has_it(tmp_path: Path) -> None:
    import hashlib

    path = tmp_path / "frame.jpg"
    path.write_bytes(b"frame bytes")
    sha = hashlib.sha256(b"frame bytes").hexdigest()
    ((_, mine),) = client_stamps([(str(path), sha)])
    assert mine == f"sha256:{sha}" == stamp(str(path), full=True)
    path.write_bytes(b"other bytes")
    assert "other SHA-256" in (mismatch(mine, stamp(str(path), full=True), "w") or "")


def test_worker_facts_follow_the_kernel() -> None:
    assert "onnxruntime" in build_info("onnx") and "onnxruntime" not in build_info("dlib")
    onnx, dlib = worker_facts("onnx"), worker_facts("dlib")
    assert onnx["kernel"] == "onnx" and dlib["kernel"] == "dlib"
    key = "dlib build, kernel runtime and models"
    assert onnx[key] != dlib[key]


def test_worker_facts_follow_the_detector() -> None:
    """A worker is compared on the detector the audit uses: with `--detector cnn` a worker
    whose mmod model, parse or graph differs must not be taken for the client's twin."""
    hog, cnn = worker_facts("onnx", "hog"), worker_facts("onnx", "cnn")
    assert (hog["detector"], cnn["detector"]) == ("hog", "cnn")
    key = "dlib build, kernel runtime and models"
    assert hog[key] != cnn[key]
    assert "sha256:mmod_graph" in build_info("onnx", "cnn")
    assert "sha256:mmod_graph" not in build_info("onnx", "hog")
