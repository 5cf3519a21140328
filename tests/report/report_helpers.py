"""Helpers shared by the report tests (imported by tests/report/conftest.py and the tests)."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo"
GOLDEN = ROOT / "fixtures" / "golden"
#: The packs of the golden run: one with findings on the demo bundle, one without.
GOLDEN_PACKS = ("amazon-rekognition-police-2020", "microsoft-face-police-2020")
CHROMIUM = Path("/usr/bin/chromium")

FIXED_RUN = {"id": "0" * 32, "started": "2000-01-01T00:00:00Z", "finished": "2000-01-01T00:00:01Z"}


def canonical(report: dict[str, Any]) -> dict[str, Any]:
    """The report with its run id and times fixed; `normalise` hides the rest of the run-specific
    parts in the rendered text (the typed model would refuse placeholders in the report)."""
    out = copy.deepcopy(report)
    out["run"] = {**out["run"], **FIXED_RUN}
    return out


_DATA_URI = re.compile(r"data:image/jpeg;base64,[A-Za-z0-9+/=]+")
#: Run keys that vary between machines and runs (cache state, workers, spill counts).
_VOLATILE_RUN = ("frames_computed", "frames_from_cache", "spilled", "workers")


def _normalise_json(text: str) -> str:
    """Run-specific values and the face engine build as placeholders, same layout as written."""
    doc = json.loads(text)
    for key in _VOLATILE_RUN:
        if key in doc["run"]:
            doc["run"][key] = "<run>"
    if "face_engine" in doc:
        doc["face_engine"] = "<face engine build: varies by machine>"
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def normalise(fmt: str, text: str) -> str:
    """Golden form of a rendered report: JPEG bytes depend on the Pillow/libjpeg build; the
    frame cache state, workers and the face engine build on the machine."""
    if fmt == "html":
        return _DATA_URI.sub("data:image/jpeg;base64,<thumbnail>", text)
    if fmt == "json":
        return _normalise_json(text)
    if fmt == "table":
        return re.sub(r"\(\d+ from cache\)", "(<run> from cache)", text)
    return text


class Chromium:
    """Debian's chromium, headless, one fresh profile per call; no network use."""

    FLAGS = (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-default-apps",
        "--disable-extensions",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
    )

    def run(self, page: Path, *extra: str, timeout: int = 90) -> subprocess.CompletedProcess[str]:
        """Load `page` (a local file) with the extra flags; returns the finished process."""
        with tempfile.TemporaryDirectory(prefix="auditor-chromium-") as profile:
            env = {**os.environ, "HOME": profile}
            return subprocess.run(
                [
                    str(CHROMIUM),
                    *self.FLAGS,
                    f"--user-data-dir={profile}",
                    *extra,
                    page.resolve().as_uri(),
                ],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
                check=False,
            )

    @staticmethod
    def console_lines(stderr: str) -> list[str]:
        """Console messages (errors, CSP violations, logs) the page produced."""
        return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def copy_tree(src: Path, dest: Path) -> Path:
    """A writable copy of a bundle."""
    shutil.copytree(src, dest)
    return dest
