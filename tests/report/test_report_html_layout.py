"""The HTML report as a reader meets it: verdict in words, pack matrix, why each finding is
one, charts, and the page in a real Chromium at 1400 px and 420 px and printed to PDF."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageStat
from report_helpers import DEMO, Chromium

from auditor.core.report import EventRef
from auditor.core.reportdoc import TypedReport
from auditor.report import REPORTERS, RenderOptions
from auditor.report.common import location_text, verdict_sentence, web_url
from auditor.report.thumbs import MAX_SIDE, thumbnail_jpeg


def render(report: dict[str, Any], **options: Any) -> str:
    return REPORTERS["html"].render(TypedReport.of(report), RenderOptions(**options))


# ---- the verdict sentence (a pure function of the report) ----------------------------------


def _without_findings(report: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(report)
    out["findings"] = []
    out["summary"]["findings"] = dict.fromkeys(("critical", "high", "medium", "low"), 0)
    return out


def test_verdict_sentence_of_the_demo(demo_report: dict[str, Any]) -> None:
    findings = demo_report["findings"]
    orgs = {f["events"][0]["organisation"] for f in findings}
    packs = {f["pack"] for f in findings}
    assert {f["severity"] for f in findings} == {"high"}  # what the demo fixture holds
    assert verdict_sentence(TypedReport.of(demo_report)) == (
        f"FAIL: {len(findings)} findings ({len(findings)} high) by {len(orgs)} organisations "
        f"under {len(packs)} of {len(demo_report['packs'])} packs; "
        "1 event check could not be judged; 1 principal unknown"
    )


def test_verdict_sentence_qualifiers(demo_report: dict[str, Any]) -> None:
    clean = _without_findings(demo_report)
    clean["undecided"], clean["summary"]["unknown_principals"] = [], 0
    assert verdict_sentence(TypedReport.of(clean)) == "PASS: no findings under 2 packs"

    incomplete = copy.deepcopy(clean)
    incomplete["run"]["status"] = "incomplete"
    incomplete["errors"] = [
        {"file": "logs/a.jsonl", "line": 3, "record": None, "message": "malformed JSON"},
        {"file": "logs/a.jsonl", "line": 9, "record": None, "message": "malformed JSON"},
    ]
    assert verdict_sentence(TypedReport.of(incomplete)) == (
        "INCOMPLETE: no findings under 2 packs; audit incomplete: 2 input errors in 1 file"
    )

    failing = copy.deepcopy(demo_report)
    failing["run"]["status"] = "incomplete"
    failing["errors"] = incomplete["errors"][:1]
    assert verdict_sentence(TypedReport.of(failing)).startswith("FAIL: ")
    assert verdict_sentence(TypedReport.of(failing)).endswith(
        "; audit incomplete: 1 input error in 1 file"
    )

    accepted = copy.deepcopy(demo_report)
    for f in accepted["findings"]:
        f["baselined"] = True
    accepted["summary"]["baselined"] = len(accepted["findings"])
    n = len(accepted["findings"])
    assert verdict_sentence(TypedReport.of(accepted)).startswith(
        f"PASS: {n} findings ({n} high, {n} baselined)"
    )

    undecided = copy.deepcopy(clean)
    undecided["undecided"] = demo_report["undecided"]
    undecided["settings"] = {**undecided["settings"], "fail_on_undecided": True}
    assert verdict_sentence(TypedReport.of(undecided)) == (
        "FAIL: no findings under 2 packs; 1 event check could not be judged"
    )


def test_no_findings_is_never_said_over_undecided_events(demo_report: dict[str, Any]) -> None:
    report = _without_findings(demo_report)
    assert report["undecided"], "the demo has an event no rule could judge"
    html = render(report, bundle_root=str(DEMO))
    assert "No findings" not in html
    assert "could not be judged" in html and 'href="#undecided"' in html
    report["undecided"] = []
    report["summary"]["cannot_decide"] = 0
    report["summary"]["cannot_decide_by_pack"] = dict.fromkeys(
        report["summary"]["cannot_decide_by_pack"], 0
    )
    assert "No findings" in render(report, bundle_root=str(DEMO))


# ---- a page of every pack, through the real command line -------------------------------------


@pytest.fixture(scope="module")
def all_packs(
    tmp_path_factory: pytest.TempPathFactory, session_db: str, run_cli: Callable[..., Any]
) -> tuple[dict[str, Any], str, Path]:
    """(JSON report, HTML text, HTML path) of one audit of the demo under every pack."""
    out = tmp_path_factory.mktemp("allpacks")
    result = run_cli(
        "audit", DEMO, "--db", session_db, "-f", "json", "-f", "html", "--output-dir", out
    )
    assert result.exit_code == 1, result.stderr
    raw = (out / "report.json").read_bytes()
    report = json.loads(raw)
    report["_sha256"] = hashlib.sha256(raw).hexdigest()
    return report, (out / "report.html").read_text(encoding="utf-8"), out / "report.html"


class _Tree(HTMLParser):
    """Start tags with their attributes and the text inside each element with an id."""

    VOID = {"meta", "link", "img", "br", "hr", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.text: dict[str, list[str]] = {}
        self.tags: list[tuple[str, dict[str, str | None], tuple[str, ...]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a, tuple(str(s[1].get("id")) for s in self.stack if s[1].get("id"))))
        if tag not in self.VOID:
            self.stack.append((tag, a))
            if a.get("id"):
                self.text.setdefault(str(a["id"]), [])

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(
            (tag, dict(attrs), tuple(str(s[1].get("id")) for s in self.stack if s[1].get("id")))
        )

    def handle_endtag(self, tag: str) -> None:
        if tag not in (t for t, _ in self.stack):
            return
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, a in self.stack:
            if a.get("id"):
                self.text[str(a["id"])].append(data)

    def inner(self, element_id: str) -> str:
        return " ".join("".join(self.text.get(element_id, [])).split())

    def within(self, element_id: str, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a, ids in self.tags if t == tag and element_id in ids]


def _dom(chromium: Chromium, page: Path, *flags: str) -> _Tree:
    proc = chromium.run(page, "--dump-dom", *flags)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert chromium.console_lines(proc.stderr) == []
    tree = _Tree()
    tree.feed(proc.stdout)
    return tree


def test_verdict_matrix_and_folds_in_the_browser(
    all_packs: tuple[dict[str, Any], str, Path], chromium: Chromium
) -> None:
    report, _, page = all_packs
    dom = _dom(chromium, page)
    document = {k: v for k, v in report.items() if k != "_sha256"}
    assert dom.inner("verdict") == verdict_sentence(TypedReport.of(document))
    assert report["_sha256"] == dom.inner("json-sha256")  # the file -f json wrote

    # one matrix row per pack; packs without findings are in folds, the clear ones closed
    rows = [(a, ids) for t, a, ids in dom.tags if t == "tr" and "status-" in str(a.get("class"))]
    assert len(rows) == len(report["packs"])
    cannot = report["summary"]["cannot_decide_by_pack"]
    hit = {f["pack"] for f in report["findings"]}
    for pack in report["packs"]:
        pid = pack["id"]
        expected = "findings" if pid in hit else ("cannot decide" if cannot[pid] else "clear")
        assert re.search(rf"{re.escape(pid)} [^|]*{expected}", dom.inner("overview")), pid
    clear = [a for a, ids in rows if "packs-clear" in ids]
    assert clear and all(a["class"] == "status-clear" for a in clear)
    assert len(clear) == sum(
        1 for p in report["packs"] if p["id"] not in hit and not cannot[p["id"]]
    )
    folds = {str(a["id"]): a for t, a, _ in dom.tags if t == "details" and a.get("id")}
    assert "open" not in folds["packs-clear"] and "open" in folds["packs-undecided"]
    assert "No findings" not in dom.inner("overview") + dom.inner("charts")

    # contents: every link points at an element of the page
    ids = {str(a["id"]) for _, a, _ in dom.tags if a.get("id")}
    toc = [str(a["href"]) for a in dom.within("toc", "a")]
    assert len(toc) >= 8 and all(h.startswith("#") and h[1:] in ids for h in toc)


def _principal_entry_block(text: list[str], line: int) -> str:
    assert text[line - 1].strip() == "[[principal]]"
    block = []
    for row in text[line:]:
        if row.strip().startswith("["):
            break
        block.append(row)
    return "\n".join(block)


def test_each_finding_says_why(
    all_packs: tuple[dict[str, Any], str, Path], chromium: Chromium
) -> None:
    report, _, page = all_packs
    dom = _dom(chromium, page)
    principals = (DEMO / "principals.toml").read_text(encoding="utf-8").splitlines()
    packs = {p["id"]: p for p in report["packs"]}
    events = {
        (f["events"][0]["file"], f["events"][0]["record"], f["events"][0]["line"])
        for f in report["findings"]
    }
    cards = [a for t, a, _ in dom.tags if t == "article" and a.get("class") == "event"]
    assert len(cards) == len(events)  # one card per event, its rules grouped
    for f in report["findings"]:
        text = dom.inner(f"f-{f['id']}")
        ev = f["events"][0]
        pack = packs[f["pack"]]
        rule = next(r for r in pack["rules"] if r["id"] == f["rule"])
        # the moratorium window and the exceptions that were checked
        start = (rule["effective_from"] or pack["effective_from"])[:10]
        assert re.search(rf"In force ?{start} to ", text), text
        for exc in rule["exceptions"]:
            assert exc in text
        if not rule["exceptions"]:
            assert "none defined for this rule" in text
        # cited sources: a link for every web URL, and every P/S/U mark
        hrefs = {a["href"] for a in dom.within(f"f-{f['id']}", "a")}
        for s in pack["sources"]:
            if s["id"] in rule["cite"]:
                assert s["title"] in text
                assert (s["url"] in hrefs) == web_url(s["url"])
        marks = [a for a in dom.within(f"f-{f['id']}", "span") if "mark-" in str(a.get("class"))]
        assert len(marks) == len(rule["cite"])
        # the principals.toml entry that gave the category, and it says so
        entry = ev["principal_entry"]
        assert entry and entry in text
        block = _principal_entry_block(principals, int(entry.rsplit(":", 1)[1]))
        assert f'category = "{ev["category"]}"' in block
        assert ev["organisation"] in block or "on_behalf_of" in block
    # matched fields first and highlighted; the whole record in a closed <details>
    marks = re.findall(r"<mark>([^<]*)</mark>", page.read_text(encoding="utf-8"))
    assert {f["events"][0]["operation"] for f in report["findings"]} <= set(marks)
    records = [a for t, a, _ in dom.tags if t == "details" and a.get("class") == "record"]
    assert records and all("open" not in a for a in records)


def test_charts_plot_every_listed_operation(all_packs: tuple[dict[str, Any], str, Path]) -> None:
    report, html, _ = all_packs
    tree = _Tree()
    tree.feed(html)
    for pack in report["packs"]:
        mine = [f for f in report["findings"] if f["pack"] == pack["id"]]
        sample = [e for u in report["undecided"] if u["pack"] == pack["id"] for e in u["sample"]]
        chart = f"pack-{re.sub(r'[^A-Za-z0-9_-]+', '-', pack['id'])}"
        if not mine and not sample:
            assert chart not in tree.text
            continue
        dots = tree.within(chart, "circle")
        squares = [a for a in tree.within(chart, "rect") if "undecided" in str(a.get("class"))]
        assert len(dots) == len(mine) and len(squares) == len(sample)
        for sev in {f["severity"] for f in mine}:
            assert sum(1 for a in dots if a["class"] == f"pt {sev}") == sum(
                1 for f in mine if f["severity"] == sev
            )
        window = [a for a in tree.within(chart, "rect") if a.get("class") == "window"]
        assert len(window) == 1 and float(str(window[0]["width"])) > 0
    bars = tree.within("org-chart", "rect")
    orgs = {f["events"][0]["organisation"] for f in report["findings"]}
    pairs = {(f["events"][0]["organisation"], f["severity"]) for f in report["findings"]}
    assert len({b["y"] for b in bars}) == len(orgs) and len(bars) == len(pairs)


# ---- the page as a person sees it: screenshots and print -------------------------------------

#: Appended to a test-only copy of the page (the report itself never runs a script): lays the
#: body out at the given width and reports the right edge of the widest element that is not
#: inside a scroll box of its own. Headless Chromium's window is at least 500 px wide, so the
#: 420 px case narrows the body rather than the window (the narrow CSS applies below 640 px).
_MEASURE = """<script>
document.body.style.width = '%dpx'; document.body.style.maxWidth = 'none';
document.body.style.margin = '0';
let edge = 0;
for (const el of document.querySelectorAll('body *')) {
  let p = el.parentElement, boxed = false;
  while (p) { const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll')
    { boxed = true; break; } p = p.parentElement; }
  if (!boxed && el.getClientRects().length) edge = Math.max(edge, el.getBoundingClientRect().right);
}
document.title = 'W' + Math.ceil(edge) + 'x' + window.innerWidth;
</script></body>"""


@pytest.mark.parametrize("width", [1400, 420])
def test_screenshot_and_no_sideways_scroll(
    width: int, all_packs: tuple[dict[str, Any], str, Path], chromium: Chromium, tmp_path: Path
) -> None:
    _, html, page = all_packs
    shot = tmp_path / f"report-{width}.png"
    proc = chromium.run(page, f"--screenshot={shot}", f"--window-size={width},2400")
    assert proc.returncode == 0, proc.stderr[-2000:]
    with Image.open(shot) as img:
        assert img.size == (width, 2400)
        assert ImageStat.Stat(img.convert("L")).stddev[0] > 20  # text and tables, not blank
    # layout check: a test-only copy measures itself (the report itself never runs a script)
    probe = tmp_path / "measure.html"
    csp = re.compile(r'<meta http-equiv="Content-Security-Policy"[^>]*>')
    probe.write_text(
        csp.sub("", html, count=1).replace("</body>", _MEASURE % width), encoding="utf-8"
    )
    proc = chromium.run(probe, "--dump-dom", f"--window-size={width},2400")
    found = re.search(r"<title>W(\d+)x(\d+)</title>", proc.stdout)
    assert found, proc.stderr[-2000:]
    edge, inner = int(found.group(1)), int(found.group(2))
    assert inner == max(width, 500)
    assert 0.8 * width < edge <= width, f"content {edge} px wide in a {width} px page"


def test_printed_pdf_has_footer_and_sign_off(
    all_packs: tuple[dict[str, Any], str, Path], chromium: Chromium, tmp_path: Path
) -> None:
    pypdf = pytest.importorskip("pypdf", reason="pypdf is a dev dependency (make install)")
    report, html, page = all_packs
    pdf = tmp_path / "report.pdf"
    proc = chromium.run(page, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert proc.returncode == 0, proc.stderr[-2000:]
    reader = pypdf.PdfReader(str(pdf))
    pages = [unicodedata.normalize("NFKC", p.extract_text()) for p in reader.pages]
    total = len(pages)
    assert total > 3
    for n, text in enumerate(pages, start=1):
        assert f"page {n} of {total}" in text
        assert f"auditor run {report['run']['id']}" in text
    whole = "\n".join(pages)
    for label in ("Reviewed by", "Date", "Signature"):
        assert label in whole
    assert report["_sha256"] in whole.replace("\n", "")
    # no event card is split from its thumbnails: the card's head (the event's location) and
    # its frames are printed on the same page
    flat = [t.replace("\n", "") for t in pages]
    for f in report["findings"]:
        head = location_text(EventRef.model_validate(f["events"][0]))
        first = min(n for n, t in enumerate(flat) if head in t)
        for fr in f["frames"]:
            if fr["sha256"]:
                assert fr["path"] in flat[first], (head, fr["path"], first)
    assert "break-inside: avoid" in html


def test_thumbnail_boxes_carry_person_ids_and_the_probe_match(
    demo_report: dict[str, Any],
) -> None:
    """The frame a probe person was found in: the matched box is drawn in the probe colour with
    a tag, the others in the box colour; labels are pixels, never page markup."""
    frame = next(fr for f in demo_report["findings"] for fr in f["frames"] if fr.get("probe_boxes"))
    matched = frame["probe_boxes"][0]["box"]
    assert len(frame["box_persons"]) == len(frame["boxes"]) and frame["box_persons"][matched]
    probes = {p["box"]: p["name"] for p in frame["probe_boxes"]}
    labelled = thumbnail_jpeg(
        str(DEMO),
        frame["path"],
        frame["sha256"],
        frame["boxes"],
        False,
        tuple(frame["box_persons"]),
        probes,
    )
    plain = thumbnail_jpeg(str(DEMO), frame["path"], frame["sha256"], frame["boxes"], False)
    assert isinstance(labelled, tuple) and isinstance(plain, tuple)
    with Image.open(DEMO / frame["path"]) as src:
        scale = min(1.0, MAX_SIDE / max(src.size))
    img = Image.open(io.BytesIO(labelled[0])).convert("RGB")
    top, right, bottom, left = frame["boxes"][matched]
    # the left edge of the matched box, half-way down: the probe colour (JPEG is lossy)
    x, y = round(left * scale) + 1, round((top + bottom) / 2 * scale)
    r, g, b = img.getpixel((x, y))  # type: ignore[misc]
    assert b > 180 and r < 90, (r, g, b)
    # the tag above the box is filled (a solid block, not the photo)
    tag = img.crop((x, max(0, round(top * scale) - 10), x + 20, max(1, round(top * scale) - 3)))
    assert ImageStat.Stat(tag).mean[2] > 150
    plain_img = Image.open(io.BytesIO(plain[0])).convert("RGB")
    r2, g2, b2 = plain_img.getpixel((x, y))  # type: ignore[misc]
    assert r2 > 150 and b2 < 120, (r2, g2, b2)  # unlabelled: the ordinary red box


def test_html_golden_signs_the_json_golden() -> None:
    """The sign-off digest is the SHA-256 of the JSON report's bytes: the HTML golden names
    the JSON golden's (both render the same canonical report)."""
    from report_helpers import GOLDEN

    digest = hashlib.sha256((GOLDEN / "json" / "demo.json").read_bytes()).hexdigest()
    html = (GOLDEN / "html" / "demo.html").read_text(encoding="utf-8")
    assert f'data-volatile="json-sha256">{digest}<' in html
