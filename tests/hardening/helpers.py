"""What the hardening tests share: a police CloudTrail record and a bundle around it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

AMAZON = "amazon-rekognition-police-2020"

PRINCIPALS = """
[[principal]]
arn = "arn:aws:iam::111122223333:role/pd-*"
organisation = "Role Police"
category = "police"
"""


def ct_record(time: str = "2023-01-01T00:00:00Z", **extra: Any) -> dict[str, Any]:
    """A CloudTrail SearchFacesByImage record by a police role (a finding under AMAZON)."""
    rec: dict[str, Any] = {
        "eventVersion": "1.08",
        "eventTime": time,
        "eventSource": "rekognition.amazonaws.com",
        "eventName": "SearchFacesByImage",
        "awsRegion": "us-east-1",
        "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:iam::111122223333:role/pd-x"},
        "eventID": f"id-{time}",
    }
    rec.update(extra)
    return rec


def jsonl_line(**kw: object) -> str:
    """A JSON-lines police SearchFacesByImage record (a finding under AMAZON)."""
    rec: dict[str, object] = {
        "time": "2023-01-01T00:00:00Z",
        "principal": "pd-analyst",
        "service": "rekognition",
        "operation": "SearchFacesByImage",
    }
    rec.update(kw)
    return json.dumps(rec) + "\n"


JSONL_PRINCIPALS = """
[[principal]]
name = "pd-analyst"
organisation = "Test Police"
category = "police"
"""


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write {relative path: content} under root and return root."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root
