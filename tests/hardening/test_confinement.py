"""probes/ go through the same confinement as logs/ and frames/: inside, regular, bounded."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES
from tests.hardening.helpers import AMAZON, JSONL_PRINCIPALS, jsonl_line, write

AuditJson = Callable[..., tuple[int, dict[str, Any]]]


@pytest.mark.parametrize("kind", ["outside", "fifo", "too big", "broken"])
def test_unusable_probe_photo_is_refused_unread(
    tmp_path: Path, audit_json: AuditJson, kind: str
) -> None:
    bundle = write(
        tmp_path / "b", {"logs/p.jsonl": jsonl_line(), "principals.toml": JSONL_PRINCIPALS}
    )
    folder = bundle / "probes" / "alice"
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "faces" / "obama_small.jpg", folder / "good.jpg")
    target = folder / "p.jpg"
    if kind == "outside":
        shutil.copy(FIXTURES / "faces" / "obama_small.jpg", tmp_path / "secret.jpg")
        target.symlink_to(tmp_path / "secret.jpg")
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "too big":
        with open(target, "wb") as fh:
            fh.truncate((64 << 20) + 1)
    else:
        target.symlink_to(folder / "gone.jpg")
    code, report = audit_json(bundle, "--policy", AMAZON)
    assert code == 3
    (error,) = report["errors"]
    assert error["file"] == "probes/alice/p.jpg"
    expected = {
        "outside": "leads outside the bundle",
        "fifo": "FIFO",
        "too big": "over the limit of 67,108,864 bytes",
        "broken": "broken symbolic link",
    }[kind]
    assert error["message"].startswith("refused:") and expected in error["message"]
    # the good probe photo is still used
    assert [i["path"] for i in report["inputs"] if i["kind"] == "probe"] == [
        "probes/alice/good.jpg"
    ]


def test_log_symlink_out_of_the_bundle_is_refused(tmp_path: Path, audit_json: AuditJson) -> None:
    (tmp_path / "outside.jsonl").write_text(jsonl_line())
    bundle = write(
        tmp_path / "b", {"logs/p.jsonl": jsonl_line(), "principals.toml": JSONL_PRINCIPALS}
    )
    (bundle / "logs" / "link.jsonl").symlink_to(tmp_path / "outside.jsonl")
    code, report = audit_json(bundle, "--policy", AMAZON, "--no-frames")
    assert code == 3
    (error,) = report["errors"]
    assert error["file"] == "logs/link.jsonl" and "leads outside the bundle" in error["message"]
    assert len(report["findings"]) == 1
