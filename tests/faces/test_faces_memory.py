"""What the memory bounds change in the engine: nothing that is found.

A chunk makes a descriptor call whenever it holds `BATCH_PIXELS` decoded pixels; with a bound
of one pixel every frame gets its own call, and the results must equal one call per chunk.
"""

from __future__ import annotations

import pytest
from conftest import FIXTURES, PHOTOS

from auditor.faces import engine
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
