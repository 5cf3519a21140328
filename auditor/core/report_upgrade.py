"""Stored documents of older releases in the current `auditor.report/v1` shape.

Apart from the model (`core.report`) because it is history, not shape: each step names the
release whose documents it rewrites, and the model validates only what comes out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["upgrade"]


def upgrade(data: Mapping[str, Any]) -> dict[str, Any]:
    """A stored document in the current shape: reports written before grouped `undecided`
    entries listed one entry per event (`{pack, rule, missing, reason, event}`)."""
    out = dict(data)
    undecided = out.get("undecided")
    if isinstance(undecided, list) and any(isinstance(u, dict) and "event" in u for u in undecided):
        out["undecided"] = list(_grouped(undecided))
    return out


def _grouped(entries: list[Any]) -> Iterator[dict[str, Any]]:
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for u in entries:
        if not isinstance(u, dict) or "event" not in u:
            yield u
            continue
        key = (str(u.get("pack")), str(u.get("rule")), str(u.get("reason")))
        group = groups.setdefault(
            key,
            {
                "pack": key[0],
                "rule": key[1],
                "reason": key[2],
                "missing": list(u.get("missing") or []),
                "count": 0,
                "sample": [],
            },
        )
        group["count"] += 1
        if len(group["sample"]) < 5:
            group["sample"].append(u["event"])
    yield from (groups[k] for k in sorted(groups))
