"""A face call whose log gives no time is "cannot decide" for every rule that covers it: never
judged by its placeholder date (1970 lies outside every pack's period, so it would pass
silently), never an input error, never dropped."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import make_bundle
from tests.logsamples import SAMPLES
from tests.sources.test_app_logs_cli import PACK

DATED = (
    "2025-03-16 12:12:33: Response rec'd from Face Processing command 'recognize' (...107992) "
    "['A face was recognised']  took 431ms\n"
)
POLICE = (
    '[[principal]]\nname = "codeproject-ai"\norganisation = "Metro Police"\ncategory = "police"\n'
)


def _audit(tmp_path: Path, cli: Callable[..., Any], *flags: str) -> tuple[int, dict[str, Any]]:
    bundle = make_bundle(
        tmp_path / "b",
        {
            "logs/dashboard.txt": (SAMPLES / "codeproject-ai/dashboard-copy.txt").read_bytes(),
            "logs/log-2025-03-16.txt": DATED,
        },
        principals=POLICE,
    )
    (tmp_path / "pack.toml").write_text(PACK)
    out = tmp_path / "r.json"
    res = cli(
        "audit",
        bundle,
        "--no-frames",
        "--no-store",
        "--policy",
        tmp_path / "pack.toml",
        "--format",
        "json",
        "--output",
        out,
        *flags,
    )
    return res.exit_code, json.loads(out.read_text())


def test_untimed_calls_cannot_be_decided_dated_ones_are_judged(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    code, report = _audit(tmp_path, cli)
    assert code == 1  # the dated police identification is a finding
    assert [(f["events"][0]["file"], f["events"][0]["line"]) for f in report["findings"]] == [
        ("logs/log-2025-03-16.txt", 1)
    ]
    (group,) = report["undecided"]
    assert (group["missing"], group["count"]) == (["time"], 2)
    assert "no time" in group["reason"]
    assert sorted((s["line"], s["kind"]) for s in group["sample"]) == [
        (2, "enrolment"),
        (4, "identification_1toN"),
    ]
    assert report["errors"] == []  # a face call is never an input error for lacking a time
    notes = [n for n in report["notices"] if "has no time" in n["message"]]
    assert [(n["file"], n["line"]) for n in notes] == [
        ("logs/dashboard.txt", 1),
        ("logs/dashboard.txt", 2),
        ("logs/dashboard.txt", 4),
    ]


def test_fail_on_undecided_fails_the_gate_on_untimed_calls(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    (tmp_path / "only").mkdir()
    bundle = make_bundle(
        tmp_path / "only" / "b",
        {"logs/dashboard.txt": (SAMPLES / "codeproject-ai/dashboard-copy.txt").read_bytes()},
        principals=POLICE,
    )
    (tmp_path / "pack.toml").write_text(PACK)
    base = ("audit", bundle, "--no-frames", "--no-store", "--policy", tmp_path / "pack.toml")
    assert cli(*base).exit_code == 0
    assert cli(*base, "--fail-on-undecided").exit_code == 1
