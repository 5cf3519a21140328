"""Fuzzing the TOML loaders with mutated real files: audit.toml (through `open_bundle`),
principals.toml (`auditor.config.principals.load`) and policy packs (`check_pack`).

Whatever the text, a loader either succeeds or raises the project's `ConfigError` (packs: returns
them), and every error names the file it is about; a line, when it has one, is in the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.config import principals
from auditor.core.errors import ConfigError, ConfigErrors
from auditor.policy import check_pack
from auditor.sources import open_bundle
from tests.fuzz.strategies import mutated_toml

ROOT = Path(__file__).resolve().parents[2]
FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

AUDIT_TOMLS = [
    (ROOT / "fixtures" / "demo" / "audit.toml").read_text(),
    (ROOT / "fixtures" / "httplog-custom" / "audit.toml").read_text(),
    """\
name = "x"
timezone = "Europe/Berlin"
description = "d"
[frames]
"s3://a/" = "frames/"
[[jsonl]]
glob = "logs/*.jsonl"
[jsonl.fields]
time = "ts"
principal = "user.id"
[[text]]
glob = "logs/*.log"
pattern = '^(?P<time>\\S+) (?P<operation>\\S+)'
time_format = "%Y-%m-%d"
[[sources]]
glob = "logs/x/*"
source = "frigate"
""",
]
PRINCIPALS = sorted(p.read_text() for p in (ROOT / "fixtures").rglob("principals.toml"))
PACKS = sorted(p.read_text() for p in (ROOT / "seeds").glob("*.toml"))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("fuzz-toml")


def _located(exc: ConfigError, name: str, text: str) -> None:
    errors = exc.errors if isinstance(exc, ConfigErrors) else [exc]
    for err in errors:
        assert err.location is not None and err.location.file == name, str(err)
        line = err.location.line
        assert line is None or 1 <= line <= text.count("\n") + 1, str(err)
        assert str(err).startswith(name), str(err)


@FUZZ
@given(data=st.data())
def test_audit_toml(folder: Path, data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(AUDIT_TOMLS).flatmap(mutated_toml))
    (folder / "audit.toml").write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        open_bundle(folder)
    except ConfigError as exc:
        _located(exc, "audit.toml", text)


@FUZZ
@given(data=st.data())
def test_principals_toml(folder: Path, data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(PRINCIPALS).flatmap(mutated_toml))
    path = folder / "principals.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        principals.load(path, "principals.toml")
    except ConfigError as exc:
        _located(exc, "principals.toml", text)


@FUZZ
@given(data=st.data())
def test_policy_pack(folder: Path, data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(PACKS).flatmap(mutated_toml))
    path = folder / "pack.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    check = check_pack(path, "pack.toml")
    assert (check.pack is None) == bool(check.errors)
    for err in check.errors:
        assert isinstance(err, ConfigError)
        _located(err, "pack.toml", text)
