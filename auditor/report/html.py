"""`--format html`: one self-contained page a compliance officer can read, print and sign.

Rendered with Jinja2 (`templates/report.html.j2`) with autoescaping on: log content is
untrusted and is only ever text in the page. The page makes no request at all: styles are
inline (allowed by hash in a Content-Security-Policy that forbids scripts), the month timeline
is inline SVG, and frame thumbnails are `data:` JPEGs made with Pillow, faces blurred unless
`--show-faces`. Thumbnails and log excerpts need the bundle folder (`RenderOptions.bundle_root`);
without it the page says so. The run id and times appear only in the `#run` line, so two runs
over the same inputs give the same page apart from that line.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any

import jinja2

from auditor.report.base import RenderOptions
from auditor.report.common import (
    SEVERITIES,
    finding_faces,
    location_text,
    rules_of,
    severity_rank,
    verdict,
)
from auditor.report.excerpt import excerpts
from auditor.report.thumbs import Thumbnail, thumbnail

TEMPLATES = Path(__file__).parent / "templates"
#: Distinct frames shown as thumbnails in one page (each is a few kB of inline JPEG).
MAX_THUMBNAILS = 400
#: Findings rendered in detail (tables by pack and the evidence section), in report order. The
#: page is one document and cannot be written piece by piece, so beyond this it says how many
#: more there are and points to the JSON report; the timeline and per-organisation counts still
#: cover every finding.
MAX_DETAILED = 2000


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # every value is escaped; only our own CSS is marked safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )


def _css() -> tuple[str, str]:
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return css, f"sha256-{digest}"


def _verdict(report: dict[str, Any]) -> dict[str, str]:
    decided = verdict(report)
    return {"css": decided.css, "text": decided.banner()}


def _timeline(findings: Iterable[dict[str, Any]]) -> dict[str, Any]:
    counts: Counter[tuple[str, str]] = Counter()
    for f in findings:
        counts[(f["events"][0]["time"][:7], f["severity"])] += 1
    if not counts:
        return {"months": []}
    first, last = min(m for m, _ in counts), max(m for m, _ in counts)
    months = []
    y, m = int(first[:4]), int(first[5:7])
    while f"{y:04d}-{m:02d}" <= last:
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    width, height, left, top, bottom = 760, 190, 40, 14, 28
    base = height - bottom
    plot_w = width - left - 14
    slot = plot_w / len(months)
    bar_w = max(1.0, slot * 0.7)
    peak = max(sum(counts[(mo, s)] for s in SEVERITIES) for mo in months)
    scale = (base - top) / peak
    bars = []
    for i, mo in enumerate(months):
        x = left + 4 + i * slot + (slot - bar_w) / 2
        y_cursor = float(base)
        for sev in reversed(SEVERITIES):
            n = counts[(mo, sev)]
            if not n:
                continue
            h = n * scale
            y_cursor -= h
            bars.append(
                {
                    "x": f"{x:.1f}",
                    "y": f"{y_cursor:.1f}",
                    "w": f"{bar_w:.1f}",
                    "h": f"{h:.1f}",
                    "severity": sev,
                    "month": mo,
                    "count": n,
                }
            )
    step = max(1, round(len(months) / 12 + 0.49))
    labels = [
        {"x": f"{left + 4 + i * slot + slot / 2:.1f}", "text": mo}
        for i, mo in enumerate(months)
        if i % step == 0
    ]
    return {
        "months": months,
        "first": first,
        "last": last,
        "bars": bars,
        "labels": labels,
        "width": width,
        "height": height,
        "left": left,
        "top": top,
        "base": base,
        "max": peak,
    }


def _orgs(findings: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for f in findings:
        ev = f["events"][0]
        key = (ev["organisation"], ev["category"])
        row = rows.setdefault(
            key,
            {
                "organisation": key[0],
                "category": key[1],
                "counts": dict.fromkeys(SEVERITIES, 0),
                "attempts": 0,
                "baselined": 0,
                "operations": set(),
                "total": 0,
            },
        )
        row["counts"][f["severity"]] = row["counts"].get(f["severity"], 0) + 1
        row["attempts"] += 1 if f["attempt"] else 0
        row["baselined"] += 1 if f.get("baselined") else 0
        row["operations"].add(ev["operation"])
        row["total"] += 1
    out = sorted(rows.values(), key=lambda r: (-r["total"], r["organisation"], r["category"]))
    for r in out:
        r["operations"] = sorted(r["operations"])
    return out


def _where(item: dict[str, Any]) -> str:
    text = str(item.get("file") or "")
    if item.get("line") is not None:
        text += f":{item['line']}"
    if item.get("record") is not None:
        text += f" (record {item['record']})"
    return text


def _anchor(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "pack"


def _evidence(findings: list[dict[str, Any]], options: RenderOptions) -> list[dict[str, Any]]:
    made: dict[tuple[str, str], Thumbnail] = {}  # a frame shared by findings is encoded once
    texts: dict[tuple[str, int | None, int | None], str] = {}
    if options.bundle_root:
        texts = excerpts(options.bundle_root, (e for f in findings for e in f["events"]))
    out = []
    for f in findings:
        events = [
            {
                **ev,
                "where": location_text(ev),
                "attributes": sorted(
                    (str(k), str(v)) for k, v in (ev.get("attributes") or {}).items()
                ),
                "excerpt": texts.get((ev["file"], ev.get("record"), ev.get("line"))),
            }
            for ev in f["events"]
        ]
        frames = []
        for fr in f.get("frames", []):
            item = {**fr, "thumb": None, "width": 0, "height": 0, "note": None}
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
                    )
                item.update(
                    thumb=thumb.uri, width=thumb.width, height=thumb.height, note=thumb.note
                )
            elif fr.get("sha256"):
                item["note"] = "thumbnail not available: no bundle folder given"
            frames.append(item)
        out.append({**f, "events": events, "frames": frames})
    return out


def _undecided(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Rules that could not be judged, grouped by pack, rule and reason, with where it happened.

    Reports aggregate `undecided[]` per (pack, rule, reason) with a count and a sample of
    events; stored runs from before that list one entry per event, grouped here the same way.
    """
    groups: dict[tuple[str, str, str], tuple[int, list[str]]] = {}
    for u in report.get("undecided") or []:
        key = (str(u.get("pack", "")), str(u.get("rule", "")), str(u.get("reason", "")))
        count, where = groups.get(key, (0, []))
        events = u.get("sample") if "sample" in u else [u.get("event") or {"file": ""}]
        where += [location_text(e) for e in events or []]
        groups[key] = (count + int(u.get("count", 1)), where)
    out = []
    for k, (count, where) in sorted(groups.items()):
        shown = sorted(set(where))[:5]
        out.append(
            {
                "pack": k[0],
                "rule": k[1],
                "reason": k[2],
                "count": count,
                "where": shown,
                "more": max(0, count - len(shown)),
            }
        )
    return out


def context(report: dict[str, Any], options: RenderOptions) -> dict[str, Any]:
    """Everything the template shows, computed from the report dict (and the bundle folder)."""
    everything = report["findings"]
    findings = list(islice(everything, MAX_DETAILED))
    more = max(0, len(everything) - len(findings))
    css, css_hash = _css()
    packs = []
    rule_counts = Counter(p["id"] for p, _ in rules_of(report))
    for p in report["packs"]:
        mine = [f for f in findings if f["pack"] == p["id"]]
        groups = [
            {
                "severity": sev,
                "findings": [
                    {**f, "event": f["events"][0], "faces": finding_faces(f)}
                    for f in mine
                    if f["severity"] == sev
                ],
            }
            for sev in sorted({f["severity"] for f in mine}, key=severity_rank)
        ]
        packs.append(
            {
                **p,
                "title": p.get("title") or p["id"],
                "citation": p.get("citation", ""),
                "anchor": _anchor(p["id"]),
                "groups": groups,
                "rule_count": rule_counts.get(p["id"], 0),
            }
        )
    return {
        "css": css,
        "css_hash": css_hash,
        "schema": report.get("schema", ""),
        "tool": report["tool"],
        "run": report["run"],
        "bundle_name": report["bundle"]["name"],
        "summary": report["summary"],
        "severities": SEVERITIES,
        "verdict": _verdict(report),
        "probes": report.get("probes", []),
        "timeline": _timeline(everything),
        "packs": packs,
        "orgs": _orgs(everything),
        "evidence": _evidence(findings, options),
        "more_findings": more,
        "detailed": len(findings),
        "errors": [{**e, "where": _where(e)} for e in report["errors"]],
        "notices": [{**n, "where": _where(n)} for n in report["notices"]],
        "inputs": report["inputs"],
        "show_faces": options.show_faces,
        "undecided": _undecided(report),
    }


class HtmlReporter:
    """See `Reporter.render`."""

    name = "html"
    extension = "html"

    def render(self, report: dict[str, Any], options: RenderOptions) -> str:
        """See `Reporter.render`."""
        template = _environment().get_template("report.html.j2")
        return template.render(**context(report, options))
