"""HTML: self-contained, rendered by a real headless Chromium, log content inert, faces blurred."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from PIL import Image, ImageFilter, ImageStat
from report_helpers import DEMO, Chromium

from auditor.core.reportdoc import TypedReport
from auditor.report import REPORTERS, RenderOptions
from auditor.report.thumbs import thumbnail

_CSP = re.compile(r'<meta http-equiv="Content-Security-Policy"[^>]*>\n')


def render(report: dict[str, Any], **options: Any) -> str:
    return REPORTERS["html"].render(TypedReport.of(report), RenderOptions(**options))


def test_demo_page_renders_without_console_messages(
    tmp_path: Path, demo_report: dict[str, Any], chromium: Chromium
) -> None:
    page = tmp_path / "report.html"
    page.write_text(render(demo_report, bundle_root=str(DEMO)), encoding="utf-8")
    shot = tmp_path / "shot.png"
    proc = chromium.run(page, f"--screenshot={shot}", "--window-size=1280,2400")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert chromium.console_lines(proc.stderr) == []
    assert shot.stat().st_size > 20_000
    with Image.open(shot) as img:
        assert img.format == "PNG" and img.size == (1280, 2400)
        # not a blank page: the screenshot has real contrast (text, tables, chart)
        assert ImageStat.Stat(img.convert("L")).stddev[0] > 20
    dom = chromium.run(page, "--dump-dom")
    assert dom.returncode == 0
    assert chromium.console_lines(dom.stderr) == []
    assert "Timeline per pack" in dom.stdout and "Findings by organisation" in dom.stdout
    assert dom.stdout.count('src="data:image/jpeg;base64,') == sum(
        1 for f in demo_report["findings"] for fr in f["frames"] if fr["sha256"]
    )


def test_page_is_self_contained(demo_report: dict[str, Any]) -> None:
    html = render(demo_report, bundle_root=str(DEMO))
    assert "<script" not in html.lower()
    for url in re.findall(r'\ssrc="([^"]*)"', html):
        assert url.startswith("data:image/jpeg;base64,"), url
    for tag, url in re.findall(r"<(\w+)[^>]*\shref=\"([^\"]*)\"", html):
        assert (tag == "a" and url.startswith(("#", "https://", "http://"))) or (
            tag == "link" and url == "data:,"
        ), (tag, url)
    assert "url(" not in html and "@import" not in html
    assert "default-src 'none'" in html
    # sections the issue asks for
    for heading in (
        "Contents",
        "Verdict",
        "Overview by pack",
        "Charts",
        "Evidence",
        "Cannot decide",
        "Input errors",
        "Inputs and packs (SHA-256)",
        "Sign-off",
    ):
        assert f">{heading}</h2>" in html
    for item in demo_report["inputs"]:
        assert item["sha256"] in html
    for pack in demo_report["packs"]:
        assert pack["sha256"] in html
    assert "<svg" in html and "<rect" in html


def test_without_bundle_folder_the_page_says_so(demo_report: dict[str, Any]) -> None:
    html = render(demo_report)
    assert "data:image/jpeg" not in html
    assert "thumbnail not available: no bundle folder given" in html


def _face_region(uri: str, box: list[int], scale: float) -> Image.Image:
    data = base64.b64decode(uri.split(",", 1)[1])
    img = Image.open(io.BytesIO(data)).convert("L")
    top, right, bottom, left = box
    inset = 3  # stay inside the drawn box outline
    return img.crop(
        (
            round(left * scale) + inset,
            round(top * scale) + inset,
            round(right * scale) - inset,
            round(bottom * scale) - inset,
        )
    )


def test_faces_blurred_unless_show_faces(demo_report: dict[str, Any]) -> None:
    frame = next(
        fr
        for f in demo_report["findings"]
        for fr in f["frames"]
        if fr["faces"] and max(b[2] - b[0] for b in fr["boxes"]) > 60
    )
    box = max(frame["boxes"], key=lambda b: b[2] - b[0])
    with Image.open(DEMO / frame["path"]) as src:
        scale = min(1.0, 320 / max(src.size))
    labels = tuple(frame["box_persons"])
    probes = {p["box"]: p["name"] for p in frame["probe_boxes"]}
    blurred = thumbnail(
        str(DEMO), frame["path"], frame["sha256"], frame["boxes"], False, labels, probes
    )
    shown = thumbnail(
        str(DEMO), frame["path"], frame["sha256"], frame["boxes"], True, labels, probes
    )
    assert blurred.uri and shown.uri and blurred.uri != shown.uri

    def detail(uri: str) -> float:
        region = _face_region(uri, box, scale).filter(ImageFilter.FIND_EDGES)
        return float(ImageStat.Stat(region).mean[0])

    assert detail(blurred.uri) < 0.35 * detail(shown.uri)
    html = render(demo_report, bundle_root=str(DEMO))
    assert blurred.uri in html and shown.uri not in html
    assert "Faces are shown unblurred" not in html
    shown_page = render(demo_report, bundle_root=str(DEMO), show_faces=True)
    assert shown.uri in shown_page and "Faces are shown unblurred" in shown_page


def test_thumbnail_refuses_changed_or_escaping_frames(
    tmp_path: Path, demo_report: dict[str, Any]
) -> None:
    frame = next(fr for f in demo_report["findings"] for fr in f["frames"] if fr["sha256"])
    bundle = tmp_path / "b"
    shutil.copytree(DEMO, bundle)
    (bundle / frame["path"]).write_bytes(b"not the analysed frame")
    changed = thumbnail(str(bundle), frame["path"], frame["sha256"], [], False)
    assert changed.uri is None and "changed since the audit" in (changed.note or "")
    escape = thumbnail(str(bundle), "../../etc/passwd", None, [], False)
    assert escape.uri is None and (escape.note or "").startswith("not shown")


# ---- hostile log content -------------------------------------------------------------------
# Payloads compute their marker at run time, so the marker text itself never appears unless
# a payload actually ran.
SCRIPT = "<script>document.title='XSS'+'-RAN'</script>"
IMG = "<img src=x onerror=\"document.body.setAttribute('data-x'+'ss','ran')\">"
BREAKOUT = "\"'><svg onload=\"document.title='XSS'+'-RAN'\">"
FILE_SAFE = "<img src=x onerror=document.title='XSS'+'-RAN'>"  # no slash: usable in file names


def _hostile_bundle(root: Path) -> Path:
    frame_rel = f"frames/{FILE_SAFE}.jpg"
    log_rel = f"logs/{FILE_SAFE}.jsonl"
    (root / "logs").mkdir(parents=True)
    (root / "frames").mkdir()
    probe_dir = root / "probes" / FILE_SAFE
    probe_dir.mkdir(parents=True)
    shutil.copy(DEMO / "frames" / "east" / "cam-07" / "f0006.jpg", root / frame_rel)
    shutil.copy(DEMO / "probes" / "alex-lacamoire" / "img1.jpg", probe_dir / "img1.jpg")
    (root / "audit.toml").write_text(f"name = '''{SCRIPT}'''\n", encoding="utf-8")
    (root / "principals.toml").write_text(
        f"[[principal]]\nname = '''{IMG}'''\norganisation = '''{SCRIPT}'''\n"
        'category = "police"\n',
        encoding="utf-8",
    )
    records = [
        {
            "time": "2023-05-02T08:00:00Z",
            "principal": IMG,
            "service": "rekognition",
            "operation": "SearchFacesByImage",
            "frame": frame_rel,
            "purpose": BREAKOUT,
            "case_ref": SCRIPT,
            "event_id": BREAKOUT,
            "camera": IMG,
            "reviewers": SCRIPT,
        },
        {
            "time": "2023-05-03T08:00:00Z",
            "principal": SCRIPT,
            "service": "vendorx",
            "operation": "MatchFace" + SCRIPT,
            "event_id": IMG,
        },
    ]
    lines = [json.dumps(r) for r in records] + ["{not json " + SCRIPT + IMG]
    (root / log_rel).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


class _Elements(HTMLParser):
    """Every element and attribute name of a serialised DOM (values are not markup)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(name for name, _ in attrs)


def _assert_inert(dom: str) -> None:
    assert "XSS-RAN" not in dom
    elements = _Elements()
    elements.feed(dom)
    assert "script" not in elements.tags
    assert "data-xss" not in elements.attributes
    assert not [a for a in elements.attributes if a.startswith("on")]
    assert elements.tags.count("img") == dom.count('<img src="data:image/jpeg;base64,')


def test_hostile_log_content_is_text_and_runs_nothing(
    tmp_path: Path, session_db: str, run_cli: Callable[..., Any], chromium: Chromium
) -> None:
    bundle = _hostile_bundle(tmp_path / "bundle")
    page = tmp_path / "page.html"
    result = run_cli(
        "audit",
        bundle,
        "--db",
        session_db,
        "--policy",
        "amazon-rekognition-police-2020",
        "-f",
        "html",
        "-o",
        page,
    )
    assert result.exit_code == 3, result.stderr  # the malformed line makes it incomplete
    html = page.read_text(encoding="utf-8")
    assert SCRIPT not in html and IMG not in html and FILE_SAFE not in html
    assert "&lt;script&gt;" in html
    assert "data:image/jpeg;base64," in html  # the payload-named frame was analysed and shown

    proc = chromium.run(page, "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert chromium.console_lines(proc.stderr) == []  # no CSP violation: nothing tried to run
    dom = proc.stdout
    _assert_inert(dom)
    # every payload shows as text (DOM serialisation escapes only & < > in text)
    assert "document.title='XSS'+'-RAN'&lt;/script&gt;" in dom
    assert "&lt;img src=x onerror=" in dom
    assert re.search(r"<title>Facial-recognition audit: &lt;script&gt;", dom)
    assert "Input errors" in dom and "malformed JSON" in dom

    # the escaping alone is enough: without the Content-Security-Policy nothing runs either
    bare = tmp_path / "bare.html"
    bare.write_text(_CSP.sub("", html, count=1), encoding="utf-8")
    assert "Content-Security-Policy" not in bare.read_text(encoding="utf-8")
    proc = chromium.run(bare, "--dump-dom")
    assert proc.returncode == 0
    _assert_inert(proc.stdout)
    assert chromium.console_lines(proc.stderr) == []


def test_the_browser_check_would_catch_a_script(tmp_path: Path, chromium: Chromium) -> None:
    """Guard for the guard: an unescaped payload does run and is seen by the same checks."""
    page = tmp_path / "unsafe.html"
    page.write_text(
        f"<!DOCTYPE html><html><head><title>t</title></head><body>{SCRIPT}{IMG}</body></html>",
        encoding="utf-8",
    )
    proc = chromium.run(page, "--dump-dom")
    assert "XSS-RAN" in proc.stdout or "data-xss" in proc.stdout
