"""The source registry: every registered source is a module of its own with samples to read."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from auditor.sources import SOURCES
from tests.logsamples import SAMPLES, read_sample

#: Sources with their own real-data or demo fixtures (tests/test_sources_*.py).
ELSEWHERE = {"cloudtrail", "jsonl", "text"}
SAMPLE_FILES = sorted(p.relative_to(SAMPLES).as_posix() for p in SAMPLES.rglob("*")
                      if p.is_file() and p.name != "SOURCES.md")


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_each_source_is_its_own_module(name: str) -> None:
    module = importlib.import_module(f"auditor.sources.{name}")
    assert module.NAME == name and module.SOURCE is SOURCES[name]
    assert module.__doc__ and len(Path(module.__file__ or "").read_text().splitlines()) <= 400


@pytest.mark.parametrize("name", sorted(set(SOURCES) - ELSEWHERE))
def test_each_new_source_has_samples_that_it_reads(name: str) -> None:
    results = [read_sample(rel) for rel in SAMPLE_FILES]
    mine = [r for r in results if r.source == name]
    assert mine, f"no sample in fixtures/logs-samples is read by {name}"
    assert all(r.records > 0 for r in mine) and any(r.events for r in mine)


def test_every_sample_is_described_in_sources_md() -> None:
    text = (SAMPLES / "SOURCES.md").read_text()
    missing = [rel for rel in SAMPLE_FILES if f"`{rel}`" not in text]
    assert missing == []
