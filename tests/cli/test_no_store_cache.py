"""`--no-store` keeps the face cache: a database of its own in the user cache directory (or
`--cache-db` / `AUDITOR_CACHE_DB`), so a CI job that records no run still recomputes no face it
has seen; `--no-cache` keeps none, and `auditor cache purge` empties it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEMO

AMAZON = "amazon-rekognition-police-2020"
Cli = Callable[..., Any]


def _audit(cli: Cli, out: Path, *extra: object) -> dict[str, Any]:
    result = cli("audit", DEMO, "--no-store", "--policy", AMAZON, "-f", "json", "-o", out, *extra)
    assert result.exit_code == 1, result.output
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def test_no_store_audits_keep_their_faces_in_the_user_cache_directory(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUDITOR_CACHE_DB")
    monkeypatch.delenv("AUDITOR_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    first = _audit(cli, tmp_path / "1.json")
    cache = tmp_path / "xdg" / "auditor" / "faces.db"
    assert cache.is_file()
    assert first["run"]["frames_computed"] > 0 and first["run"]["frames_from_cache"] == 0
    second = _audit(cli, tmp_path / "2.json")
    assert second["run"]["frames_computed"] == 0
    assert second["run"]["frames_from_cache"] == first["run"]["frames_computed"]
    assert {k: v for k, v in first.items() if k != "run"} == {
        k: v for k, v in second.items() if k != "run"
    }

    purged = cli("cache", "purge", "--db", f"sqlite:///{tmp_path / 'store.db'}")
    assert purged.exit_code == 0, purged.output
    # the frames and the probe photos (cached the same way)
    purged_here = re.search(
        r"purged cached faces of (\d+) image\(s\) from the --no-store cache", purged.stdout
    )
    assert purged_here and int(purged_here.group(1)) >= first["run"]["frames_computed"]
    third = _audit(cli, tmp_path / "3.json")
    assert third["run"]["frames_computed"] == first["run"]["frames_computed"]


def test_cache_db_relocates_it_and_no_cache_keeps_none(tmp_path: Path, cli: Cli) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere' / 'faces.db'}"
    first = _audit(cli, tmp_path / "1.json", "--cache-db", url)
    assert (tmp_path / "elsewhere" / "faces.db").is_file()
    second = _audit(cli, tmp_path / "2.json", "--cache-db", url)
    assert second["run"]["frames_computed"] == 0 < first["run"]["frames_computed"]

    other = f"sqlite:///{tmp_path / 'unused' / 'faces.db'}"
    none = _audit(cli, tmp_path / "3.json", "--cache-db", other, "--no-cache")
    assert none["run"]["frames_computed"] == first["run"]["frames_computed"]
    assert not (tmp_path / "unused").exists()


def test_a_stored_run_keeps_its_faces_in_the_store_not_the_cache_db(
    tmp_path: Path, cli: Cli, db_url: str, no_store_face_cache: Path
) -> None:
    out = tmp_path / "r.json"
    result = cli("audit", DEMO, "--db", db_url, "--policy", AMAZON, "-f", "json", "-o", out)
    assert result.exit_code == 1, result.output
    assert json.loads(out.read_text())["run"]["frames_computed"] > 0
    assert not no_store_face_cache.exists()
