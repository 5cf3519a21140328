"""Every rule of every shipped pack against its fixtures, through the real reader and engine.

fixtures/packs/<pack-id>/<rule-id>/violating.jsonl must give the rule at least one finding;
compliant.jsonl none and nothing undecided; undecided.jsonl (where present) no finding and at
least one "cannot decide" entry. `<kind>-<point>.jsonl` (violating-glba.jsonl) holds the pair of
fixtures of one corrected point and is judged like `<kind>.jsonl`. A few packs also go through
the real CLI on a mini bundle.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.config import principals
from auditor.core.models import Event
from auditor.policy import Pack, evaluate, resolve, seed_files
from auditor.sources import ReadJob, open_bundle, read_file

ROOT = Path(__file__).resolve().parents[2]
PACKS = ROOT / "fixtures" / "packs"


def _cases() -> list[tuple[str, str, str]]:
    out = []
    for pack_dir in sorted(p for p in PACKS.iterdir() if p.is_dir()):
        for rule_dir in sorted(p for p in pack_dir.iterdir() if p.is_dir()):
            files = sorted(rule_dir.glob("*.jsonl"))
            out += [(pack_dir.name, rule_dir.name, f.stem) for f in files]
    return out


CASES = _cases()


def read_events(pack_id: str, rel: str) -> list[Event]:
    """Read one fixture file as the audit would: JSON-lines source, then principals.toml."""
    bundle = open_bundle(PACKS / pack_id)
    result = read_file(ReadJob(str(bundle.root), rel, "auto", bundle.settings))
    assert not result.issues, result.issues
    directory = principals.load(Path(bundle.root) / "principals.toml", "principals.toml")
    return [directory.attribute(e) for e in result.events]


def pack(pack_id: str) -> Pack:
    return resolve([pack_id])[0]


@pytest.mark.parametrize(
    ("pack_id", "rule_id", "kind"), CASES, ids=[f"{p}/{r}/{k}" for p, r, k in CASES]
)
def test_rule_fixture(pack_id: str, rule_id: str, kind: str) -> None:
    events = read_events(pack_id, f"{rule_id}/{kind}.jsonl")
    assert events
    result = evaluate(events, [pack(pack_id)])
    mine = [f for f in result.findings if f.rule == rule_id]
    undecided = [u for u in result.undecided if u.rule == rule_id]
    kind = kind.split("-", 1)[0]
    if kind == "violating":
        assert mine, f"{rule_id} found nothing in its violating fixture"
        assert all(f.pack == pack_id for f in mine)
    elif kind == "compliant":
        assert not mine, [f.message for f in mine]
        assert not undecided, [(u.missing, u.reason) for u in undecided]
    else:
        assert kind == "undecided"
        assert not mine, [f.message for f in mine]
        assert undecided and all(u.missing for u in undecided)


def test_every_rule_of_every_pack_has_both_fixtures() -> None:
    have = {(p, r, k.split("-", 1)[0]) for p, r, k in CASES}
    shipped = {}
    for path in seed_files():
        p = pack(path.stem)
        shipped[p.id] = p
        for rule in p.rules:
            for kind in ("compliant", "violating"):
                missing = f"missing fixtures/packs/{p.id}/{rule.id}/{kind}.jsonl"
                assert (p.id, rule.id, kind) in have, missing
    for p, r, _ in CASES:
        assert p in shipped and r in {x.id for x in shipped[p].rules}, f"stray fixture {p}/{r}"


def _mini_bundle(tmp_path: Path, pack_id: str, *files: str) -> Path:
    root = tmp_path / "bundle"
    (root / "logs").mkdir(parents=True)
    shutil.copy(PACKS / pack_id / "principals.toml", root / "principals.toml")
    for i, rel in enumerate(files):
        shutil.copy(PACKS / pack_id / rel, root / "logs" / f"{i}-{Path(rel).parent.name}.jsonl")
    return root


def _audit(root: Path, *policies: str) -> tuple[int, dict[str, Any]]:
    out = root.parent / "report.json"
    args = [
        "audit",
        str(root),
        "--no-frames",
        "--no-store",
        "--format",
        "json",
        "--output",
        str(out),
    ]
    for p in policies:
        args += ["--policy", p]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    return result.exit_code, json.loads(out.read_text())


@pytest.mark.parametrize(
    ("pack_id", "rule_id"),
    [
        ("ring-neighbors-rfa-2021", "RING-RFA-001"),
        ("eu-ai-act-art5", "EU-AIA-5-3-002"),
        ("us-wa-rcw-43-386", "WA-386-003"),
        ("us-va-frt-2021", "VA-2026-001"),
    ],
)
def test_cli_on_mini_bundle(tmp_path: Path, pack_id: str, rule_id: str) -> None:
    root = _mini_bundle(tmp_path, pack_id, f"{rule_id}/violating.jsonl")
    code, report = _audit(root, pack_id)
    assert code == 1
    assert any(f["pack"] == pack_id and f["rule"] == rule_id for f in report["findings"])
    assert [p["id"] for p in report["packs"]] == [pack_id]

    clean = _mini_bundle(tmp_path / "c", pack_id, f"{rule_id}/compliant.jsonl")
    code, report = _audit(clean, pack_id)
    assert not [f for f in report["findings"] if f["rule"] == rule_id]
