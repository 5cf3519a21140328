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

from auditor.core.report import ErrorEntry, NoticeEntry, UndecidedSample
from auditor.core.reportdoc import TypedReport
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


def _verdict(report: TypedReport) -> dict[str, str]:
    decided = verdict(report)
    return {
        "css": decided.css,
        "text": decided.banner(),
        "sentence": verdict_sentence(report),
        "word": verdict_word(report),
    }


def _where(item: NoticeEntry | ErrorEntry) -> str:
    text = item.file or ""
    if item.line is not None:
        text += f":{item.line}"
    if item.record is not None:
        text += f" (record {item.record})"
    return text


def _anchor(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "pack"


def _undecided(report: TypedReport) -> list[dict[str, Any]]:
    """Rules that could not be judged, by pack, rule and reason, with where it happened (the
    first five places of the group's sample) and the sample events that have a time."""
    groups: dict[tuple[str, str, str], tuple[int, list[str], list[UndecidedSample]]] = {}
    for u in report.head.undecided:
        key = (u.pack, u.rule, u.reason)
        count, where, sample = groups.get(key, (0, [], []))
        where += [location_text(e) for e in u.sample]
        sample += [e for e in u.sample if e.time]
        groups[key] = (count + u.count, where, sample)
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
    report: TypedReport, undecided: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The pack x (severities, cannot decide, status) matrix: packs with findings, and the
    packs without (folded in the page; their cannot-decide count still shows)."""
    packs = report.head.packs
    counts: dict[str, Counter[str]] = {p.id: Counter() for p in packs}
    for f in report.findings:
        counts.setdefault(f.pack, Counter())[f.severity] += 1
    cannot = undecided_by_pack(report)
    with_findings: list[dict[str, Any]] = []
    without: list[dict[str, Any]] = []
    for p in packs:
        c = counts[p.id]
        undecided_n = int(cannot.get(p.id, 0))
        total = sum(c.values())
        row = {
            "id": p.id,
            "title": p.title or p.id,
            "version": p.version,
            "pack_status": p.status,
            "anchor": _anchor(p.id),
            "counts": {s: c.get(s, 0) for s in SEVERITIES},
            "total": total,
            "cannot_decide": undecided_n,
            "status": "findings" if total else ("cannot decide" if undecided_n else "clear"),
            "timeline": charts.pack_timeline(
                p,
                (f for f in report.findings if f.pack == p.id) if total else (),
                [(u["rule"], u["sample"]) for u in undecided if u["pack"] == p.id],
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


def json_sha256(report: TypedReport) -> str:
    """The SHA-256 of the JSON report of this run as `--format json` writes it (UTF-8)."""
    sink = _Digest()
    JsonReporter().write(report, RenderOptions(), sink)  # type: ignore[arg-type]
    return sink.sha.hexdigest()


def _footer_css(report: TypedReport) -> tuple[str, str]:
    """The print footer (`@page` margin boxes): the run id and "page N of M". The run id is
    the tool's hex id; anything else a stored document might carry is reduced to safe
    characters, since it lands in a CSS string."""
    run_id = re.sub(r"[^A-Za-z0-9._-]", "_", report.head.run.id)[:64]
    name = re.sub(r"[^A-Za-z0-9 ._-]", "_", report.head.bundle.name)[:60]
    css = (
        "@page { size: A4; margin: 16mm 14mm 18mm;"
        f' @bottom-left {{ content: "auditor run {run_id} \\00B7  {name}";'
        " font: 8pt sans-serif; color: #555; }"
        ' @bottom-right { content: "page " counter(page) " of " counter(pages);'
        " font: 8pt sans-serif; color: #555; } }"
    )
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return css, f"sha256-{digest}"


def context(report: TypedReport, options: RenderOptions) -> dict[str, Any]:
    """Everything the template shows, computed from the typed report (and the bundle folder)."""
    head = report.head
    everything = report.findings
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
        "schema": head.schema_,
        "tool": head.tool,
        "run": head.run,
        "bundle_name": head.bundle.name,
        "summary": head.summary,
        "severities": SEVERITIES,
        "verdict": _verdict(report),
        "probes": head.probes,
        "packs": head.packs,
        "overview": with_findings,
        "overview_clear": without,
        "orgs": charts.by_organisation(everything),
        "cards": cards(findings, head.packs, options),
        "more_findings": more,
        "detailed": len(findings),
        "errors": [{**e.model_dump(), "where": _where(e)} for e in head.errors],
        "notices": [{**n.model_dump(), "where": _where(n)} for n in head.notices],
        "inputs": head.inputs,
        "show_faces": options.show_faces,
        "undecided": undecided,
        "json_sha256": json_sha256(report),
        "settings": head.settings,
    }


class HtmlReporter:
    """See `Reporter.render`."""

    name = "html"
    extension = "html"

    def render(self, report: TypedReport, options: RenderOptions) -> str:
        """See `Reporter.render`."""
        template = _environment().get_template("report.html.j2")
        return template.render(**context(report, options))
