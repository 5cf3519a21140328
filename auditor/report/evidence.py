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

from auditor.core.report import EventRef, Finding, PackEntry
from auditor.report.base import RenderOptions
from auditor.report.common import finding_faces, first_event, location_text, web_url
from auditor.report.excerpt import excerpts
from auditor.report.thumbs import Thumbnail, thumbnail

#: Distinct frames shown as thumbnails in one page (each is a few kB of inline JPEG).
MAX_THUMBNAILS = 400

Segments = list[tuple[str, bool]]
#: (file, record, line) -> the log record's text (`excerpt.excerpts`).
Excerpts = dict[tuple[str, int | None, int | None], str]


def _event_key(ev: EventRef) -> tuple[Any, ...]:
    return (ev.file, ev.record, ev.line, ev.event_id, ev.time)


def _needles(ev: EventRef) -> list[str]:
    """The values the rules matched on: who, what operation on which service, and when."""
    values = [ev.operation, ev.principal, ev.time, ev.event_id, ev.service]
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


def excerpt_view(text: str | None, ev: EventRef) -> dict[str, Any] | None:
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


def _why(finding: Finding, pack: PackEntry | None) -> dict[str, Any]:
    """The reasons a finding stands, from the pack entry the report carries."""
    rule = next((r for r in pack.rules if r.id == finding.rule), None) if pack else None
    cite = set(rule.cite) if rule else set()
    sources = [
        {
            "id": s.id,
            "title": s.title,
            "confidence": s.confidence,
            "url": s.url if web_url(s.url) else None,
            "raw_url": s.url,
        }
        for s in (pack.sources if pack else ())
        if s.id in cite
    ]
    own_from, own_until = (rule.effective_from, rule.effective_until) if rule else (None, None)
    start = own_from or (pack.effective_from if pack else None)
    until = own_until or (pack.effective_until if pack else None)
    return {
        "sources": sources,
        "window": None
        if not (start or until)
        else {
            "from": (start or "")[:10] or "…",
            "until": (until or "")[:10] or "open-ended (still in force)",
            "confidence": (pack.dates_confidence if pack else None) or "?",
            "timezone": (pack.timezone if pack else None) or "UTC",
            "own": bool(own_from or own_until),
        },
        "exceptions": list(rule.exceptions) if rule else [],
        "known_rule": rule is not None,
        "kind": rule.kind if rule else "",
    }


def _frames(
    f: Finding, options: RenderOptions, made: dict[tuple[str, str], Thumbnail]
) -> list[dict[str, Any]]:
    frames = []
    for fr in f.frames:
        labels = list(fr.box_persons)
        item = {
            **fr.model_dump(),
            "thumb": None,
            "width": 0,
            "height": 0,
            "note": None,
            "probe_marks": [
                (p.name, labels[p.box] if 0 <= p.box < len(labels) else "") for p in fr.probe_boxes
            ],
        }
        if fr.sha256 and options.bundle_root:
            key = (fr.path, fr.sha256)
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
                    fr.path,
                    fr.sha256,
                    [list(b) for b in fr.boxes],
                    options.show_faces,
                    fr.box_persons,
                    {p.box: p.name for p in fr.probe_boxes},
                )
            item.update(thumb=thumb.uri, width=thumb.width, height=thumb.height, note=thumb.note)
        elif fr.sha256:
            item["note"] = "thumbnail not available: no bundle folder given"
        frames.append(item)
    return frames


def _event_view(
    ev: EventRef, texts: dict[tuple[str, int | None, int | None], str]
) -> dict[str, Any]:
    """One event of a card: where, its attributes in order, and its marked log excerpt."""
    return {
        **ev.model_dump(),
        "where": location_text(ev),
        "attributes": sorted((str(k), str(v)) for k, v in ev.attributes.items()),
        "excerpt": excerpt_view(texts.get((ev.file, ev.record, ev.line)), ev),
    }


def cards(
    findings: list[Finding], packs: Iterable[PackEntry], options: RenderOptions
) -> list[dict[str, Any]]:
    """One card per event (in report order), with every finding on that event grouped."""
    by_id = {p.id: p for p in packs}
    texts: Excerpts = {}
    if options.bundle_root:
        texts = excerpts(options.bundle_root, (e for f in findings for e in f.events))
    made: dict[tuple[str, str], Thumbnail] = {}  # a frame shared by findings is encoded once
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for f in findings:
        first = first_event(f)
        key = _event_key(first)
        card = out.get(key)
        if card is None:
            card = out[key] = {
                "anchor": f"e-{f.id}",
                "event": first,
                "events": [_event_view(ev, texts) for ev in f.events],
                "findings": [],
                "frames": _frames(f, options, made),
                "probes": list(f.probes),
                "faces": finding_faces(f),
                "severity": f.severity,
            }
        card["findings"].append({**f.model_dump(), "why": _why(f, by_id.get(f.pack))})
    return list(out.values())
