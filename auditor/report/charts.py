"""Chart geometry for the HTML report: plain numbers the template turns into inline SVG.

Computed here, server-side, so the page needs no script and no library, and prints as it
shows. Two charts: a timeline per pack (its effective window shaded, every face operation the
report lists plotted: findings by severity, the cannot-decide sample) and findings by
organisation (stacked by severity). Nothing here formats input as markup: labels are returned
as text and escaped by the template.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from auditor.core.report import Finding, PackEntry, UndecidedSample
from auditor.core.timefmt import when_or_none
from auditor.report.common import SEVERITIES, first_event

WIDTH = 760
LEFT, RIGHT = 12, 12
ROW = 20


@dataclass
class PackTimeline:
    """One pack's timeline: window bounds and points, in viewBox units."""

    pack: str
    first: str
    last: str
    window: tuple[float, float] | None
    window_text: str
    open_ended: bool
    points: list[dict[str, Any]] = field(default_factory=list)
    ticks: list[dict[str, Any]] = field(default_factory=list)
    width: int = WIDTH
    height: int = 74


def _window_text(pack: PackEntry) -> str:
    start = (pack.effective_from or "")[:10]
    until = (pack.effective_until or "")[:10]
    if not start and not until:
        return "effective period not in this report"
    mark = pack.dates_confidence or "?"
    return f"in force {start or '…'} to {until or 'open-ended'} (dates {mark})"


def _ticks(lo: datetime, hi: datetime, x: Any) -> list[dict[str, Any]]:
    years = list(range(lo.year + (0 if lo.month == 1 and lo.day == 1 else 1), hi.year + 1))
    step = max(1, round(len(years) / 8 + 0.49))
    return [
        {"x": f"{x(datetime(y, 1, 1, tzinfo=UTC)):.1f}", "text": str(y)}
        for i, y in enumerate(years)
        if i % step == 0
    ]


def pack_timeline(
    pack: PackEntry,
    findings: Iterable[Finding],
    undecided: Iterable[tuple[str, Iterable[UndecidedSample]]],
) -> PackTimeline | None:
    """The timeline of one pack, or None when the report lists no operation under it.

    Points are the pack's findings (one per finding, coloured by severity) and the events of
    its cannot-decide sample (`undecided`: (rule, sample events) per group); excused events are
    only counted in the report, so they are not plotted (the legend says so).
    """
    raw: list[tuple[datetime, str, str]] = []
    for f in findings:
        first = first_event(f)
        when = when_or_none(first.time)
        if when:
            raw.append((when, f.severity, f"{f.rule} {f.severity} {first.time}"))
    for rule, sample in undecided:
        for ev in sample:
            when = when_or_none(ev.time)
            if when:
                raw.append((when, "undecided", f"{rule} cannot decide {ev.time}"))
    if not raw:
        return None
    start, until = when_or_none(pack.effective_from), when_or_none(pack.effective_until)
    times = [t for t, _, _ in raw] + [t for t in (start, until) if t]
    lo, hi = min(times), max(times)
    span = max((hi - lo).total_seconds(), 86400.0)
    lo_t, span = lo.timestamp() - span * 0.03, span * 1.06
    plot = WIDTH - LEFT - RIGHT

    def x(when: datetime) -> float:
        return LEFT + (when.timestamp() - lo_t) / span * plot

    window = None
    if start or until:
        window = (x(start) if start else float(LEFT), x(until) if until else float(WIDTH - RIGHT))
    lanes: Counter[int] = Counter()
    points = []
    for when, kind, label in sorted(raw, key=lambda r: (r[0], r[1])):
        cx = x(when)
        lane = lanes[round(cx / 5)]  # points closer than 5 units stack upwards
        lanes[round(cx / 5)] += 1
        cy = max(8.0, 44 - lane * 7)
        points.append(
            {
                "x": f"{cx:.1f}",
                "y": f"{cy:.1f}",
                "rx": f"{cx - 3.5:.1f}",
                "ry": f"{cy - 3.5:.1f}",
                "kind": kind,
                "label": label,
            }
        )
    return PackTimeline(
        pack=pack.id,
        first=min(t for t, _, _ in raw).strftime("%Y-%m-%d"),
        last=max(t for t, _, _ in raw).strftime("%Y-%m-%d"),
        window=None if window is None else (round(window[0], 1), round(window[1] - window[0], 1)),
        window_text=_window_text(pack),
        open_ended=until is None,
        points=points,
        ticks=_ticks(lo, hi, x),
    )


def by_organisation(findings: Iterable[Finding]) -> dict[str, Any]:
    """Horizontal bars, one per organisation (most findings first), stacked by severity."""
    counts: dict[str, Counter[str]] = {}
    for f in findings:
        org = first_event(f).organisation
        counts.setdefault(org, Counter())[f.severity] += 1
    rows = sorted(counts.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    if not rows:
        return {"rows": [], "height": 0, "width": WIDTH}
    peak = max(sum(c.values()) for _, c in rows)
    label_w, bar_left = 250, 262
    plot = WIDTH - bar_left - 40
    out = []
    for i, (org, c) in enumerate(rows):
        x = float(bar_left)
        bars = []
        for sev in SEVERITIES:
            if not c[sev]:
                continue
            w = c[sev] / peak * plot
            bars.append({"x": f"{x:.1f}", "w": f"{w:.1f}", "severity": sev, "count": c[sev]})
            x += w
        out.append(
            {
                "y": 6 + i * ROW,
                "text_y": 6 + i * ROW + 12,
                "label": org if len(org) <= 38 else org[:37] + "…",
                "organisation": org,
                "bars": bars,
                "total": sum(c.values()),
                "total_x": f"{x + 4:.1f}",
            }
        )
    return {
        "rows": out,
        "height": 12 + len(rows) * ROW,
        "width": WIDTH,
        "label_x": label_w,
    }
