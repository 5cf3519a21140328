"""`--format html`: one self-contained page a compliance officer can read, print and sign.

Rendered with Jinja2 (`templates/report.html.j2`) with autoescaping on: log content is
untrusted and is only ever text in the page. The page makes no request at all: styles are
inline (allowed by hash in a Content-Security-Policy that forbids scripts), the charts are
inline SVG computed in `charts`, the evidence cards come from `evidence`, and frame thumbnails
are `data:` JPEGs made with Pillow, faces blurred unless `--show-faces`. Thumbnails and log
excerpts need the bundle folder (`RenderOptions.bundle_root`); without it the page says so.
The run id and times appear only in the `#run` line, the print footer (its own `<style>`, with
its own hash in the policy) and the sign-off's JSON digest, so two runs over the same inputs
give the same page apart from those.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any

import jinja2

from auditor.report import charts
from auditor.report.base import RenderOptions
from auditor.report.common import (
    SEVERITIES,
    location_text,
    undecided_by_pack,
    verdict,
    verdict_sentence,
    verdict_word,
)
from auditor.report.evidence import cards
from auditor.report.json_report import JsonReporter

TEMPLATES = Path(__file__).parent / "templates"
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
    return {
        "css": decided.css,
        "text": decided.banner(),
        "sentence": verdict_sentence(report),
        "word": verdict_word(report),
    }


def _where(item: dict[str, Any]) -> str:
    text = str(item.get("file") or "")
    if item.get("line") is not None:
        text += f":{item['line']}"
    if item.get("record") is not None:
        text += f" (record {item['record']})"
    return text


def _anchor(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "pack"


def _undecided(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Rules that could not be judged, grouped by pack, rule and reason, with where it happened.

    Reports aggregate `undecided[]` per (pack, rule, reason) with a count and a sample of
    events; stored runs from before that list one entry per event, grouped here the same way.
    """
    groups: dict[tuple[str, str, str], tuple[int, list[str], list[dict[str, Any]]]] = {}
    for u in report.get("undecided") or []:
        key = (str(u.get("pack", "")), str(u.get("rule", "")), str(u.get("reason", "")))
        count, where, sample = groups.get(key, (0, [], []))
        events = u.get("sample") if "sample" in u else [u.get("event") or {"file": ""}]
        where += [location_text(e) for e in events or []]
        sample += [e for e in events or [] if e.get("time")]
        groups[key] = (count + int(u.get("count", 1)), where, sample)
    out = []
    for k, (count, where, sample) in sorted(groups.items()):
        shown = sorted(set(where))[:5]
        out.append(
            {
                "pack": k[0],
                "rule": k[1],
                "reason": k[2],
                "count": count,
                "where": shown,
                "more": max(0, count - len(shown)),
                "sample": sample,
            }
        )
    return out


def _overview(
    report: dict[str, Any], undecided: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The pack x (severities, cannot decide, status) matrix: packs with findings, and the
    packs without (folded in the page; their cannot-decide count still shows)."""
    counts: dict[str, Counter[str]] = {p["id"]: Counter() for p in report["packs"]}
    for f in report["findings"]:
        counts.setdefault(f["pack"], Counter())[f["severity"]] += 1
    cannot = undecided_by_pack(report)
    with_findings: list[dict[str, Any]] = []
    without: list[dict[str, Any]] = []
    for p in report["packs"]:
        c = counts[p["id"]]
        undecided_n = int(cannot.get(p["id"], 0))
        total = sum(c.values())
        row = {
            "id": p["id"],
            "title": p.get("title") or p["id"],
            "version": p["version"],
            "pack_status": p.get("status", ""),
            "anchor": _anchor(p["id"]),
            "counts": {s: c.get(s, 0) for s in SEVERITIES},
            "total": total,
            "cannot_decide": undecided_n,
            "status": "findings" if total else ("cannot decide" if undecided_n else "clear"),
            "timeline": charts.pack_timeline(
                p,
                (f for f in report["findings"] if f["pack"] == p["id"]) if total else (),
                [u for u in undecided if u["pack"] == p["id"]],
            ),
        }
        (with_findings if total else without).append(row)
    return with_findings, without


class _Digest:
    """A text sink that only hashes what is written (the JSON report, never kept whole)."""

    def __init__(self) -> None:
        self.sha = hashlib.sha256()

    def write(self, text: str) -> int:
        self.sha.update(text.encode("utf-8"))
        return len(text)


def json_sha256(report: dict[str, Any]) -> str:
    """The SHA-256 of the JSON report of this run as `--format json` writes it (UTF-8)."""
    sink = _Digest()
    JsonReporter().write(report, RenderOptions(), sink)  # type: ignore[arg-type]
    return sink.sha.hexdigest()


def _footer_css(report: dict[str, Any]) -> tuple[str, str]:
    """The print footer (`@page` margin boxes): the run id and "page N of M". The run id is
    the tool's hex id; anything else a stored document might carry is reduced to safe
    characters, since it lands in a CSS string."""
    run_id = re.sub(r"[^A-Za-z0-9._-]", "_", str(report["run"]["id"]))[:64]
    name = re.sub(r"[^A-Za-z0-9 ._-]", "_", str(report["bundle"]["name"]))[:60]
    css = (
        "@page { size: A4; margin: 16mm 14mm 18mm;"
        f' @bottom-left {{ content: "auditor run {run_id} \\00B7  {name}";'
        " font: 8pt sans-serif; color: #555; }"
        ' @bottom-right { content: "page " counter(page) " of " counter(pages);'
        " font: 8pt sans-serif; color: #555; } }"
    )
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return css, f"sha256-{digest}"


def context(report: dict[str, Any], options: RenderOptions) -> dict[str, Any]:
    """Everything the template shows, computed from the report dict (and the bundle folder)."""
    everything = report["findings"]
    findings = list(islice(everything, MAX_DETAILED))
    more = max(0, len(everything) - len(findings))
    css, css_hash = _css()
    footer_css, footer_hash = _footer_css(report)
    undecided = _undecided(report)
    with_findings, without = _overview(report, undecided)
    return {
        "css": css,
        "css_hash": css_hash,
        "footer_css": footer_css,
        "footer_hash": footer_hash,
        "schema": report.get("schema", ""),
        "tool": report["tool"],
        "run": report["run"],
        "bundle_name": report["bundle"]["name"],
        "summary": report["summary"],
        "severities": SEVERITIES,
        "verdict": _verdict(report),
        "probes": report.get("probes", []),
        "packs": report["packs"],
        "overview": with_findings,
        "overview_clear": without,
        "orgs": charts.by_organisation(everything),
        "cards": cards(findings, report["packs"], options),
        "more_findings": more,
        "detailed": len(findings),
        "errors": [{**e, "where": _where(e)} for e in report["errors"]],
        "notices": [{**n, "where": _where(n)} for n in report["notices"]],
        "inputs": report["inputs"],
        "show_faces": options.show_faces,
        "undecided": undecided,
        "json_sha256": json_sha256(report),
        "settings": report.get("settings") or {},
    }


class HtmlReporter:
    """See `Reporter.render`."""

    name = "html"
    extension = "html"

    def render(self, report: dict[str, Any], options: RenderOptions) -> str:
        """See `Reporter.render`."""
        template = _environment().get_template("report.html.j2")
        return template.render(**context(report, options))
