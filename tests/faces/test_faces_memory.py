"""What the memory bounds change in the engine: nothing that is found.

A chunk makes a descriptor call whenever it holds `BATCH_PIXELS` decoded pixels; with a bound
of one pixel every frame gets its own call, and the results must equal one call per chunk.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, PHOTOS

from auditor.faces import detectors, engine
from auditor.faces.engine import ImageJob, analyse_chunk
from auditor.faces.params import FaceParams


def test_one_descriptor_call_per_frame_finds_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = [ImageJob(str(p), p.relative_to(FIXTURES).as_posix()) for p in PHOTOS]
    jobs.insert(1, ImageJob(str(FIXTURES / "missing.jpg"), "missing.jpg"))  # an error between
    params = FaceParams(workers=1, chunk=len(jobs))
    together = analyse_chunk(jobs, params)
    monkeypatch.setattr(engine, "BATCH_PIXELS", 1)
    apart = analyse_chunk(jobs, params)
    assert [r.path for r in apart] == [j.display for j in jobs]
    assert apart[1].error == "file not found"
    assert sum(len(r.faces) for r in together) >= 10
    for one, other in zip(together, apart, strict=True):
        assert (one.path, one.sha256, one.error) == (other.path, other.sha256, other.error)
        assert [f.box for f in one.faces] == [f.box for f in other.faces]
        for a, b in zip(one.faces, other.faces, strict=True):
            assert max(abs(x - y) for x, y in zip(a.descriptor, b.descriptor, strict=True)) < 1e-6


def test_large_frames_scanned_in_strips_find_the_same(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A frame over `STREAM_FROM_PIXELS` is scanned in strips (`hogtiles`): through the engine,
    the same boxes and the same descriptors (bit for bit: the same boxes give the same
    landmarks) as the whole-frame detector, on a 2600x1500 frame of real photos with faces
    across the strip seams, and on a frame made of one photo scaled up 3x."""
    import numpy as np
    from PIL import Image

    from tests.faces.test_hogtiles import _frame

    paths = []
    for name, pixels in (
        ("collage.jpg", _frame(2600, 1500, seed=7)),
        ("scaled.jpg", np.asarray(Image.open(PHOTOS[0]).convert("RGB").resize((1800, 1500)))),
    ):
        path = tmp_path / name
        Image.fromarray(pixels).save(path, quality=92)
        paths.append(path)
    jobs = [ImageJob(str(p), p.name) for p in paths]
    params = FaceParams(workers=1, chunk=len(jobs))
    assert all(
        detectors.streams_pyramid(w, h, params.upsample) for w, h in [(2600, 1500), (1800, 1500)]
    )
    strips = analyse_chunk(jobs, params)
    monkeypatch.setattr(detectors, "STREAM_FROM_PIXELS", 1 << 40)
    whole = analyse_chunk(jobs, params)
    assert sum(len(r.faces) for r in whole) >= 8
    for one, other in zip(strips, whole, strict=True):
        assert one.error is None and one.sha256 == other.sha256
        assert [f.box for f in one.faces] == [f.box for f in other.faces]
        assert [f.descriptor for f in one.faces] == [f.descriptor for f in other.faces]
