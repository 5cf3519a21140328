"""GitHub code scanning's side of SARIF: where the bundle sits in the repository, the tool's
page, and GitHub's upload limits (the results cap and the gzipped size, measured as written).

GitHub reads every relative `artifactLocation.uri` against the repository root and does not
resolve `originalUriBaseIds`, so `--sarif-root` (checked by `check_root`) makes the uris
repository-relative. An upload of more than `MAX_RESULTS` results in one run, or of more than
`MAX_GZIP_BYTES` gzipped, is rejected: the writer keeps the most severe `MAX_RESULTS` findings
(`results_cap`) and measures the gzipped size as it writes (`GzipCounter`).
"""

from __future__ import annotations

import posixpath
import zlib
from collections import Counter
from importlib import metadata
from typing import TextIO

from auditor.core.report import Finding
from auditor.core.reportdoc import TypedReport
from auditor.report.common import severity_rank, web_url

#: GitHub code scanning rejects an upload with more results than this in one run.
MAX_RESULTS = 25_000
#: ... and a SARIF file larger than this once gzipped.
MAX_GZIP_BYTES = 10 * 1024 * 1024


def check_root(root: str) -> str:
    """The bundle folder's path relative to the repository root, normalised (`./a/b/` ->
    `a/b`, `.` -> ``: the bundle is the repository); ValueError for a path that is absolute,
    leaves the repository (`..`) or is not a plain relative path."""
    text = root.replace("\\", "/")
    if not text.strip() or text.startswith("/") or ":" in text.split("/")[0]:
        raise ValueError(
            f"--sarif-root {root!r}: give the bundle's path relative to the repository root"
        )
    norm = posixpath.normpath(text)
    if norm == ".." or norm.startswith("../") or any(ord(c) < 32 for c in norm):
        raise ValueError(f"--sarif-root {root!r}: must stay inside the repository")
    return "" if norm == "." else norm


def information_uri() -> str | None:
    """The tool's web page (`tool.driver.informationUri`): the package's `Homepage` (or
    `Documentation`) project URL, when its metadata has one."""
    try:
        urls = metadata.metadata("auditor").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    found = dict(u.split(", ", 1) for u in urls if ", " in u)
    for key in ("Homepage", "Documentation", "Source"):
        if web_url(found.get(key)):
            return str(found[key])
    return None


def cap_message(report: TypedReport, limit: int = MAX_RESULTS) -> str:
    """What the results cap left out, for the SARIF and the command line."""
    total = len(report.findings)
    return (
        f"SARIF holds {limit:,} of {total:,} findings, most severe first: GitHub code scanning "
        f"rejects a run of more than {MAX_RESULTS:,} results (the JSON report has them all)"
    )


def priority(finding: Finding) -> tuple[int, bool]:
    """Which findings the results cap keeps first: most severe, then not baselined."""
    return severity_rank(finding.severity), finding.baselined


def results_cap(report: TypedReport, limit: int) -> tuple[tuple[int, bool], int] | None:
    """None when every finding fits in `limit` results; else the last priority kept whole or
    in part and how many findings of that priority are kept (in report order), found in one
    pass over the findings so that they can stay streamed."""
    if len(report.findings) <= limit:
        return None
    counts = Counter(priority(f) for f in report.findings)
    room = limit
    for key in sorted(counts):
        if counts[key] >= room:
            return key, room
        room -= counts[key]
    return None


class GzipCounter:
    """Passes text through to `out` and counts what it would take gzipped (level 6, as the
    `gzip` command and the upload action compress), in bounded memory."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._zip = zlib.compressobj(6, zlib.DEFLATED, 31)
        self._size = 0

    def write(self, text: str) -> int:
        self._out.write(text)
        self._size += len(self._zip.compress(text.encode("utf-8")))
        return len(text)

    def close(self) -> int:
        """The gzipped size so far (the file's, once everything is written)."""
        return self._size + len(self._zip.flush())
