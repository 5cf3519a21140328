"""Fuzzing every log source through the real `read_file`: whatever a file holds, reading it never
raises, never ends in the catch-all "could not be read: <exception>" (that would be a parser
bug swallowed by the safety net), and every issue names its file and a plausible line.

Inputs are random bytes, random text lines (mixed with mutated sample lines), and JSON records
taken from fixtures/logs-samples and fixtures/demo/logs with random fields dropped, replaced or
added. Each source is forced with a `[[sources]]` override written to a real audit.toml, so every
entry of `SOURCES` sees every kind of input; the mutated samples are also read with sniffing.
Runs are derandomized (a fixed seed per test), so a failure in CI reproduces locally.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.config.bundle import SourceSettings
from auditor.sources import SOURCES, FileResult, ReadJob, open_bundle, read_file
from tests.fuzz.strategies import json_values, mutate, text_lines

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DIRS = (ROOT / "fixtures" / "logs-samples", ROOT / "fixtures" / "demo" / "logs")

FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: The text source needs a pattern; this one accepts the demo gateway's lines.
AUDIT_TOML = """\
[[text]]
glob = "*"
pattern = '^(?P<time>\\S+) user=(?P<principal>\\S+) .*op=(?P<operation>\\S+) frame=(?P<frame>\\S+)'

[frames]
"s3://" = "frames/"
"""


def _open(path: Path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if path.suffix == ".gz" else raw


def _samples() -> dict[str, list[Any]]:
    """Every JSON record (one per line) and JSON document in the sample folders, by the source
    that reads its file."""
    found: dict[str, list[Any]] = {}
    for folder in SAMPLE_DIRS:
        for path in sorted(folder.rglob("*")):
            name = path.name.removesuffix(".gz")
            if not path.is_file() or not name.endswith((".json", ".jsonl", ".ndjson")):
                continue
            rel = path.relative_to(folder).as_posix()
            source = read_file(ReadJob(str(folder), rel, "auto", SourceSettings())).source
            mine = found.setdefault(source, [])
            text = _open(path).decode("utf-8", "replace")
            try:
                mine.append(json.loads(text))
                continue
            except ValueError:
                pass
            for line in text.splitlines()[:50]:
                try:
                    mine.append(json.loads(line))
                except ValueError:
                    pass  # the samples hold broken records on purpose
    return found


def _sample_lines() -> list[str]:
    lines: list[str] = []
    for folder in SAMPLE_DIRS:
        for path in sorted(folder.rglob("*.log")):
            lines += _open(path).decode("utf-8", "replace").splitlines()[:50]
    return lines


BY_SOURCE = _samples()
SAMPLES = [record for records in BY_SOURCE.values() for record in records]
LINES = _sample_lines()
CUSTOM_LINES = [
    line
    for path in sorted((ROOT / "fixtures" / "httplog-custom" / "logs").rglob("*.log"))
    for line in path.read_text().splitlines()
] + ["99999999999999999 POST /facepp/v3/search?x=1 200", "1678784571 POST /v1/vision/face 200"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("fuzz-bundle")
    (root / "logs").mkdir()
    yield root


def _read(root: Path, source: str | None, name: str, data: bytes, gz: bool) -> FileResult:
    """Write `data` as logs/<name>[.gz] and read it with `source` forced (None: sniffed)."""
    toml = AUDIT_TOML
    if source is not None:
        toml += f'\n[[sources]]\nglob = "logs/*"\nsource = "{source}"\n'
    (root / "audit.toml").write_text(toml)
    settings_ = open_bundle(root).settings
    rel = f"logs/{name}" + (".gz" if gz else "")
    for old in (root / "logs").iterdir():
        old.unlink()
    (root / rel).write_bytes(gzip.compress(data, mtime=0) if gz else data)
    result = read_file(ReadJob(str(root), rel, "auto", settings_))
    assert source is None or result.source == source
    _check(result, rel, data)
    return result


def _check(result: FileResult, rel: str, data: bytes) -> None:
    lines = data.count(b"\n") + 1
    for issue in result.issues:
        assert issue.file == rel, issue
        assert issue.message and isinstance(issue.message, str), issue
        assert not issue.message.startswith("could not be read: "), issue  # a parser crashed
        assert issue.line is None or 1 <= issue.line <= lines, issue
        assert issue.record is None or issue.record >= 0, issue
    for event in result.events:
        assert event.line is None or 1 <= event.line <= lines, event
    assert result.sha256 and result.records >= 0


@pytest.mark.parametrize("source", sorted(SOURCES))
@FUZZ
@given(
    data=st.binary(max_size=4096), gz=st.booleans(), ext=st.sampled_from(["json", "jsonl", "log"])
)
def test_random_bytes(bundle: Path, source: str, data: bytes, gz: bool, ext: str) -> None:
    _read(bundle, source, f"fuzz.{ext}", data, gz)


@pytest.mark.parametrize("source", sorted(SOURCES))
@FUZZ
@given(lines=text_lines(LINES), gz=st.booleans(), ext=st.sampled_from(["log", "jsonl"]))
def test_random_text_lines(bundle: Path, source: str, lines: list[str], gz: bool, ext: str) -> None:
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    _read(bundle, source, f"fuzz.{ext}", data, gz)


#: `[[httplog]]` formats (Apache and nginx) that every line of a fuzzed access log meets first.
HTTPLOG_FORMATS = """
[[httplog]]
format = '%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"'
[[httplog]]
format = '$time_iso8601 $remote_addr "$request" $status $request_time "$http_user_agent"'
[[httplog]]
format = '%{sec}t %m %U%q %>s'
"""


@FUZZ
@given(lines=text_lines(LINES + CUSTOM_LINES), gz=st.booleans())
def test_random_lines_through_httplog_formats(bundle: Path, lines: list[str], gz: bool) -> None:
    (bundle / "audit.toml").write_text(
        AUDIT_TOML + HTTPLOG_FORMATS + '[[sources]]\nglob = "logs/*"\nsource = "httplog"\n'
    )
    settings_ = open_bundle(bundle).settings
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    for old in (bundle / "logs").iterdir():
        old.unlink()
    rel = "logs/fuzz.log" + (".gz" if gz else "")
    (bundle / rel).write_bytes(gzip.compress(data, mtime=0) if gz else data)
    result = read_file(ReadJob(str(bundle), rel, "auto", settings_))
    assert result.source == "httplog"
    _check(result, rel, data)


@pytest.mark.parametrize("source", [*sorted(SOURCES), None])
@FUZZ
@given(data=st.data(), per_line=st.booleans(), gz=st.booleans())
def test_mutated_sample_records(
    bundle: Path, source: str | None, data: st.DataObject, per_line: bool, gz: bool
) -> None:
    """Sample records with fields dropped, replaced and added; one per line or one document.
    Mostly the source's own samples (so its parser gets past the shape checks), some others."""
    own = BY_SOURCE.get(source or "", []) or SAMPLES
    pool = st.sampled_from(own) | st.sampled_from(own) | st.sampled_from(SAMPLES)
    records = data.draw(st.lists(pool.flatmap(mutate), min_size=1, max_size=4))
    if per_line:
        body = "\n".join(json.dumps(r) for r in records)
        name = "fuzz.jsonl"
    else:
        body = json.dumps(
            records[0] if len(records) == 1 else records,
            indent=data.draw(st.sampled_from([None, 2])),
        )
        name = "fuzz.json"
    _read(bundle, source, name, body.encode(), gz)


@FUZZ
@given(value=json_values())
def test_any_json_value_as_a_cloudtrail_document(bundle: Path, value: Any) -> None:
    _read(bundle, None, "fuzz.json", json.dumps({"Records": value}).encode(), False)
