"""The same inputs give the same report bytes, whatever the process: two real `auditor` runs
with different hash seeds (so set and dict iteration orders differ) and different working
directories write identical JSON, SARIF and CSV apart from the `run` block."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import DEMO, ENTRY_POINT

_RUN_ID = re.compile(r"[0-9a-f]{32}")


def _audit(tmp: Path, seed: str) -> dict[str, str]:
    out = tmp / f"seed-{seed}"
    out.mkdir()
    env = {**os.environ, "PYTHONHASHSEED": seed}
    args = [str(ENTRY_POINT), "audit", str(DEMO), "--no-store", "--no-cache"]
    args += ["-f", "json", "-f", "sarif", "-f", "csv", "--output-dir", str(out)]
    done = subprocess.run(args, cwd=out, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stderr
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(out.iterdir())}


def _without_run(name: str, text: str) -> str:
    if name.endswith(".json"):
        data = json.loads(text)
        data.pop("run")
        return json.dumps(data, sort_keys=True)
    if name.endswith(".sarif"):
        data = json.loads(text)
        for run in data["runs"]:
            run.pop("automationDetails", None)
            for inv in run.get("invocations", []):
                inv.pop("startTimeUtc", None)
                inv.pop("endTimeUtc", None)
        return _RUN_ID.sub("<run>", json.dumps(data, sort_keys=True))
    return text


@pytest.mark.slow
def test_reports_do_not_depend_on_the_hash_seed_or_the_directory(tmp_path: Path) -> None:
    first, second = _audit(tmp_path, "1"), _audit(tmp_path, "4242")
    assert sorted(first) == sorted(second) == ["report.csv", "report.json", "report.sarif"]
    for name in first:
        assert _without_run(name, first[name]) == _without_run(name, second[name]), name
    # the frame pass ran in both (people, boxes and probe hits are part of what must agree)
    report = json.loads(first["report.json"])
    assert report["summary"]["frames_analysed"] > 0 and report["summary"]["persons"] > 0
