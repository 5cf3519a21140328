"""Helpers shared by the report tests (imported by tests/report/conftest.py and the tests)."""

from __future__ import annotations

import copy
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
    """The report with its run-specific parts fixed (the rest is a function of the inputs)."""
    out = copy.deepcopy(report)
    out["run"] = {key: FIXED_RUN.get(key, "<run>") for key in out["run"]}
    out["run"]["status"] = report["run"]["status"]
    if "face_engine" in out:
        out["face_engine"] = "<face engine build: varies by machine>"
    return out


_DATA_URI = re.compile(r"data:image/jpeg;base64,[A-Za-z0-9+/=]+")


def normalise(fmt: str, text: str) -> str:
    """Golden form of a rendered report: JPEG bytes depend on the Pillow/libjpeg build."""
    if fmt == "html":
        return _DATA_URI.sub("data:image/jpeg;base64,<thumbnail>", text)
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
