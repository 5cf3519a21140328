"""The source registry: every registered source is a module of its own with samples to read."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

from auditor.sources import SOURCES
from tests.logsamples import SAMPLES, read_sample

#: Sources with their own real-data or demo fixtures (tests/test_sources_*.py).
ELSEWHERE = {"cloudtrail", "jsonl", "text"}
SAMPLE_FILES = sorted(
    p.relative_to(SAMPLES).as_posix()
    for p in SAMPLES.rglob("*")
    if p.is_file() and p.name != "SOURCES.md"
)


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


def test_all_samples_through_the_cli(tmp_path: Path, cli: Any, db_url: str) -> None:
    """Every sample in one bundle: each file gets its source, its broken records are errors
    with their locations, and the audit says it is incomplete (exit 3)."""
    import json
    import shutil

    bundle = tmp_path / "b"
    shutil.copytree(SAMPLES, bundle / "logs", ignore=shutil.ignore_patterns("SOURCES.md"))
    out = tmp_path / "r.json"
    res = cli("audit", bundle, "--no-frames", "--no-store", "--format", "json", "--output", out)
    assert res.exit_code == 3, res.output
    report = json.loads(out.read_text())
    sources = {i["path"]: i["source"] for i in report["inputs"] if i["kind"] == "log"}
    assert sources == {f"logs/{rel}": read_sample(rel).source for rel in SAMPLE_FILES}
    assert set(sources.values()) - ELSEWHERE == set(SOURCES) - ELSEWHERE
    expected = sorted(
        (f"logs/{rel}", i.line, i.record) for rel in SAMPLE_FILES for i in read_sample(rel).issues
    )
    assert sorted((e["file"], e["line"], e["record"]) for e in report["errors"]) == expected
    # one broken record in each of 9 JSON samples, 2 in the access-log samples of other
    # servers, 9 in the products' text logs and pasted rows, the unknown-shape document and the
    # five free-text files without a [[text]] pattern (SOURCES.md); face calls whose format
    # carries no time (morgan, uvicorn, consoles) are undated events with notices, not errors
    assert len(expected) == 9 + 2 + 9 + 1 + 5


_ODD: list[Any] = [None, 1, 1.5, True, "x", [], {}, [1], {"a": 1}, "10.0.0.1", -1e308]


def _mutate(obj: Any, rng: Any) -> Any:
    if isinstance(obj, dict):
        return {
            k: (rng.choice(_ODD) if rng.random() < 0.3 else _mutate(v, rng)) for k, v in obj.items()
        }
    if isinstance(obj, list):
        return [_mutate(v, rng) for v in obj]
    return obj


@pytest.mark.parametrize("rel", [r for r in SAMPLE_FILES if ".json" in r])
def test_wrong_types_anywhere_are_located_issues_never_crashes(tmp_path: Path, rel: str) -> None:
    """Every field of every sample record replaced by values of other JSON types, 60 times:
    the source reports what it cannot use; nothing reaches read_file's catch-all."""
    import json
    import random

    from auditor.config.bundle import SourceSettings

    rng = random.Random(rel)
    source = read_sample(rel).source
    text = (SAMPLES / rel).read_text()
    try:
        docs = [json.loads(text)]
    except json.JSONDecodeError:
        docs = [
            json.loads(line)
            for line in text.splitlines()
            if line.startswith("{") and line.rstrip().endswith("}")
        ]
    settings = SourceSettings(overrides=(("*", str(source)),))
    for _ in range(60):
        (tmp_path / "m.json").write_text(
            "\n".join(json.dumps(_mutate(d, rng)) for d in docs) + "\n"
        )
        result = read_sample("m.json", settings, root=tmp_path)
        assert not [i for i in result.issues if "could not be read" in i.message], rel
