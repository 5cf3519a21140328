"""The evidence cards of the HTML report: one card per logged event, its broken rules grouped.

A reader who has to sign the report needs to see *why* each finding is one without the pack
file: the rule's cited sources (with their P/S/U marks and links), the period it was in force,
the exceptions the engine checked, who the principal was attributed to, and the log record
with the fields the rule matched on first and marked. Everything is returned as plain values
(text, or (text, marked) segments) for the autoescaping template; nothing here writes markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from auditor.report.base import RenderOptions
from auditor.report.common import finding_faces, location_text, web_url
from auditor.report.excerpt import excerpts
from auditor.report.thumbs import Thumbnail, thumbnail

#: Distinct frames shown as thumbnails in one page (each is a few kB of inline JPEG).
MAX_THUMBNAILS = 400

Segments = list[tuple[str, bool]]


def _event_key(ev: dict[str, Any]) -> tuple[Any, ...]:
    return (ev["file"], ev.get("record"), ev.get("line"), ev.get("event_id"), ev["time"])


def _needles(ev: dict[str, Any]) -> list[str]:
    """The values the rules matched on: who, what operation on which service, and when."""
    values = [ev.get(k) for k in ("operation", "principal", "time", "event_id", "service")]
    found = {str(v) for v in values if v is not None and len(str(v)) >= 3}
    return sorted(found, key=lambda v: (-len(v), v))  # longest first: no nested marks


def marked(text: str, needles: list[str]) -> Segments:
    """`text` cut into (piece, is-a-matched-value) segments."""
    out: Segments = []
    i = 0
    while i < len(text):
        hits = [(text.find(n, i), n) for n in needles]
        hits = [(pos, n) for pos, n in hits if pos >= 0]
        if not hits:
            break
        pos, needle = min(hits, key=lambda h: (h[0], -len(h[1])))
        if pos > i:
            out.append((text[i:pos], False))
        out.append((needle, True))
        i = pos + len(needle)
    if i < len(text):
        out.append((text[i:], False))
    return out


def excerpt_view(text: str | None, ev: dict[str, Any]) -> dict[str, Any] | None:
    """The matched lines of an excerpt (marked) and the whole record (marked), or None."""
    if text is None:
        return None
    needles = _needles(ev)
    lines = text.split("\n")
    hits = [marked(line.strip(), needles) for line in lines if any(n in line for n in needles)]
    return {
        "matched": [h for h in hits if any(m for _, m in h)],
        "full": marked(text, needles),
        "lines": len(lines),
    }


def _why(finding: dict[str, Any], pack: dict[str, Any] | None) -> dict[str, Any]:
    """The reasons a finding stands, from the pack entry the report carries."""
    pack = pack or {}
    rule: dict[str, Any] = next(
        (r for r in pack.get("rules") or [] if r["id"] == finding["rule"]), {}
    )
    cite = list(rule.get("cite") or [])
    sources = [
        {
            "id": s["id"],
            "title": s["title"],
            "confidence": s["confidence"],
            "url": s["url"] if web_url(s.get("url")) else None,
            "raw_url": s.get("url") or "",
        }
        for s in pack.get("sources") or []
        if s["id"] in cite
    ]
    start = rule.get("effective_from") or pack.get("effective_from")
    until = rule.get("effective_until") or pack.get("effective_until")
    own = bool(rule.get("effective_from") or rule.get("effective_until"))
    return {
        "sources": sources,
        "window": None
        if not (start or until)
        else {
            "from": (start or "")[:10] or "…",
            "until": (until or "")[:10] or "open-ended (still in force)",
            "confidence": pack.get("dates_confidence") or "?",
            "timezone": pack.get("timezone") or "UTC",
            "own": own,
        },
        "exceptions": list(rule.get("exceptions") or []),
        "known_rule": bool(rule),
        "kind": rule.get("kind", ""),
    }


def _frames(
    f: dict[str, Any], options: RenderOptions, made: dict[tuple[str, str], Thumbnail]
) -> list[dict[str, Any]]:
    frames = []
    for fr in f.get("frames", []):
        labels = list(fr.get("box_persons") or [])
        item = {
            **fr,
            "thumb": None,
            "width": 0,
            "height": 0,
            "note": None,
            "probe_marks": [
                (str(p["name"]), labels[p["box"]] if 0 <= p["box"] < len(labels) else "")
                for p in fr.get("probe_boxes") or []
            ],
        }
        if fr.get("sha256") and options.bundle_root:
            key = (fr["path"], fr["sha256"])
            thumb = made.get(key)
            if thumb is None and len(made) >= MAX_THUMBNAILS:
                thumb = Thumbnail(
                    None,
                    note=f"thumbnail not shown: the page already has "
                    f"{MAX_THUMBNAILS} (see the frame file)",
                )
            elif thumb is None:
                thumb = made[key] = thumbnail(
                    options.bundle_root,
                    fr["path"],
                    fr["sha256"],
                    fr.get("boxes") or [],
                    options.show_faces,
                    tuple(fr.get("box_persons") or ()),
                    {int(p["box"]): str(p["name"]) for p in fr.get("probe_boxes") or []},
                )
            item.update(thumb=thumb.uri, width=thumb.width, height=thumb.height, note=thumb.note)
        elif fr.get("sha256"):
            item["note"] = "thumbnail not available: no bundle folder given"
        frames.append(item)
    return frames


def cards(
    findings: list[dict[str, Any]], packs: Iterable[dict[str, Any]], options: RenderOptions
) -> list[dict[str, Any]]:
    """One card per event (in report order), with every finding on that event grouped."""
    by_id = {p["id"]: p for p in packs}
    texts: dict[tuple[str, int | None, int | None], str] = {}
    if options.bundle_root:
        texts = excerpts(options.bundle_root, (e for f in findings for e in f["events"]))
    made: dict[tuple[str, str], Thumbnail] = {}  # a frame shared by findings is encoded once
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for f in findings:
        key = _event_key(f["events"][0])
        card = out.get(key)
        if card is None:
            card = out[key] = {
                "anchor": f"e-{f['id']}",
                "event": f["events"][0],
                "events": [],
                "findings": [],
                "frames": _frames(f, options, made),
                "probes": list(f.get("probes") or []),
                "faces": finding_faces(f),
                "severity": f["severity"],
            }
            for ev in f["events"]:
                card["events"].append(
                    {
                        **ev,
                        "where": location_text(ev),
                        "attributes": sorted(
                            (str(k), str(v)) for k, v in (ev.get("attributes") or {}).items()
                        ),
                        "excerpt": excerpt_view(
                            texts.get((ev["file"], ev.get("record"), ev.get("line"))), ev
                        ),
                    }
                )
        card["findings"].append({**f, "why": _why(f, by_id.get(f["pack"]))})
    return list(out.values())
