"""Where the shipped packs come from (docs/packs.md): the checkout's seeds/ here (an editable
install), `AUDITOR_SEEDS` instead when set, and never an empty set."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEMO, ROOT

AMAZON = "amazon-rekognition-police-2020"
Cli = Callable[..., Any]


def test_the_checkout_reads_its_own_seeds(cli: Cli) -> None:
    from auditor.policy import seed_files, seeds_dir

    assert seeds_dir().resolve() == (ROOT / "seeds").resolve()
    listed = cli("policy", "list")
    assert listed.exit_code == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [
        p.stem for p in seed_files()
    ]


def test_auditor_seeds_replaces_the_shipped_packs(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = tmp_path / "my-packs"
    mine.mkdir()
    shutil.copy(ROOT / "seeds" / f"{AMAZON}.toml", mine)
    monkeypatch.setenv("AUDITOR_SEEDS", str(mine))
    listed = cli("policy", "list")
    assert listed.exit_code == 0 and [ln.split()[0] for ln in listed.stdout.splitlines()] == [
        AMAZON
    ]
    out = tmp_path / "r.json"
    done = cli("audit", DEMO, "--no-store", "--no-frames", "-f", "json", "-o", out)
    assert done.exit_code == 1, done.output
    assert [p["path"] for p in json.loads(out.read_text())["packs"]] == [f"my-packs/{AMAZON}.toml"]


@pytest.mark.parametrize("kind", ["empty", "missing"])
def test_no_pack_at_all_is_an_error(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    folder = tmp_path / "packs"
    if kind == "empty":
        folder.mkdir()
    monkeypatch.setenv("AUDITOR_SEEDS", str(folder))
    why = "no *.toml pack files in it" if kind == "empty" else "no such folder"
    for args in (("policy", "list"), ("audit", DEMO, "--no-store", "--no-frames")):
        result = cli(*args)
        assert result.exit_code == 2, result.output
        assert (
            f"auditor: error: AUDITOR_SEEDS={folder}: no policy packs found ({why})"
            in result.stderr
        )
