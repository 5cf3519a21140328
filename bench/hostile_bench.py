"""Hostile-input benchmark (issue 8, bounded memory): peak RSS and wall time of the real CLI.

Usage (from the repository root)::

    .venv/bin/python bench/hostile_bench.py [--only NAME ...] [--records 1000000]

Each hostile input is generated into a fresh temporary folder (deleted afterwards; nothing is
committed), wrapped in a one-file bundle, and audited by the installed `auditor` under
`/usr/bin/time -v`, one run at a time. "Maximum resident set size" there is the peak of the
largest single process (the CLI or one of its workers), the figure the 256 MB budget is about.
The named baseline, measured in the same sitting, is the same command on the small demo bundle
with `--no-frames`: the CLI's own floor (Python, orjson, the packs, the report writers).

Every run also checks its answer (exit code, `summary.events`, findings, the located error), so
a bounded-memory number can never come from a run that silently read nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
AUDITOR = ROOT / ".venv" / "bin" / "auditor"
AMAZON = "amazon-rekognition-police-2020"
MB = 1 << 20
BUDGET_MB = 256

PRINCIPALS = """
[[principal]]
arn = "arn:aws:iam::111122223333:role/pd-*"
organisation = "Role Police"
category = "police"

[[principal]]
name = "pd-analyst"
organisation = "Test Police"
category = "police"
"""

BACKGROUND = {
    "eventVersion": "1.08",
    "userIdentity": {
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLE:session",
        "arn": "arn:aws:sts::111122223333:assumed-role/app/session",
        "accountId": "111122223333",
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/app"},
            "attributes": {"creationDate": "2023-07-10T12:00:00Z", "mfaAuthenticated": "false"},
        },
    },
    "eventTime": "2023-07-10T12:05:00Z",
    "eventSource": "s3.amazonaws.com",
    "eventName": "GetObject",
    "awsRegion": "us-east-1",
    "sourceIPAddress": "203.0.113.10",
    "userAgent": "aws-sdk-go/1.44.0",
    "requestParameters": {"bucketName": "b", "key": "videos/cam-01/part-0001.mp4"},
    "responseElements": None,
    "requestID": "EXAMPLEREQUEST",
    "eventID": "00000000-0000-0000-0000-000000000000",
    "readOnly": True,
    "resources": [
        {"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::b/videos/cam-01"},
        {"accountId": "111122223333", "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::b"},
    ],
    "eventType": "AwsApiCall",
    "recipientAccountId": "111122223333",
}
POLICE = {
    **BACKGROUND,
    "eventSource": "rekognition.amazonaws.com",
    "eventName": "SearchFacesByImage",
    "eventID": "police-1",
    "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:iam::111122223333:role/pd-search"},
}


def police_line(**extra: object) -> str:
    rec: dict[str, object] = {
        "time": "2023-01-01T00:00:00Z",
        "principal": "pd-analyst",
        "service": "rekognition",
        "operation": "SearchFacesByImage",
    }
    rec.update(extra)
    return json.dumps(rec) + "\n"


# --- generators: each writes one bundle and says what the audit must report -------------------


@dataclass
class Case:
    name: str
    what: str
    build: Callable[[Path], dict[str, Any]]  # writes the bundle, returns the expectations
    args: tuple[str, ...] = ("--no-frames",)


def _bundle(root: Path) -> Path:
    (root / "logs").mkdir(parents=True)
    (root / "principals.toml").write_text(PRINCIPALS)
    return root


def _gzip_repeated(path: Path, head: bytes, filler: bytes, total: int, tail: bytes = b"") -> int:
    """Write head + filler * n (n * len(filler) ~ total bytes) + tail, gzipped, in 1 MiB steps."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip container
    block = filler * (MB // len(filler))
    with open(path, "wb") as out:
        out.write(comp.compress(head))
        written = 0
        while written < total:
            out.write(comp.compress(block))
            written += len(block)
        out.write(comp.compress(tail))
        out.write(comp.flush())
    return path.stat().st_size


def gzip_zeros(root: Path) -> dict[str, Any]:
    size = _gzip_repeated(
        _bundle(root) / "logs" / "zeros.jsonl.gz",
        b"",
        b"\x00",
        1 << 30,
        b"\n" + police_line().encode(),
    )
    return {"exit": 3, "findings": 1, "error": "line longer than the limit", "stored": size}


def gzip_braces(root: Path) -> dict[str, Any]:
    size = _gzip_repeated(_bundle(root) / "logs" / "braces.json.gz", b"", b"{", 1 << 30)
    return {"exit": 3, "findings": 0, "error": "line longer than the limit", "stored": size}


def gzip_records_braces(root: Path) -> dict[str, Any]:
    size = _gzip_repeated(
        _bundle(root) / "logs" / "records.json.gz", b'{"Records":[', b"{", 1 << 30
    )
    return {"exit": 3, "findings": 0, "error": "record longer than the limit", "stored": size}


def _pretty(path: Path, records: int, gz: bool) -> int:
    """`{"Records": [...]}` pretty-printed (indent 4): `records` background records + 1 police."""
    body = json.dumps(BACKGROUND, indent=4).replace("\n", "\n        ").encode()
    comp = zlib.compressobj(1, zlib.DEFLATED, 31) if gz else None
    with open(path, "wb") as out:

        def put(data: bytes) -> None:
            out.write(comp.compress(data) if comp else data)

        put(b'{\n    "Records": [\n')
        batch = (b"        " + body + b",\n") * 1000
        for _ in range(records // 1000):
            put(batch)
        for _ in range(records % 1000):
            put(b"        " + body + b",\n")
        put(b"        " + json.dumps(POLICE, indent=4).replace("\n", "\n        ").encode())
        put(b"\n    ]\n}\n")
        if comp:
            out.write(comp.flush())
    return path.stat().st_size


def pretty_plain(root: Path, records: int) -> dict[str, Any]:
    size = _pretty(_bundle(root) / "logs" / "trail.json", records, gz=False)
    return {"exit": 1, "findings": 1, "events": records + 1, "stored": size}


def pretty_gz(root: Path, records: int) -> dict[str, Any]:
    size = _pretty(_bundle(root) / "logs" / "trail.json.gz", records, gz=True)
    return {"exit": 1, "findings": 1, "events": records + 1, "stored": size}


def line_jsonl(root: Path) -> dict[str, Any]:
    path = _bundle(root) / "logs" / "line.jsonl"
    with open(path, "w") as out:
        out.write('{"time": "2023-01-01T00:00:00Z", "pad": "')
        chunk = "x" * MB
        for _ in range(200):
            out.write(chunk)
        out.write('"}\n')
        out.write(police_line())
    return {
        "exit": 3,
        "findings": 1,
        "error": "line longer than the limit",
        "stored": path.stat().st_size,
    }


def line_records(root: Path) -> dict[str, Any]:
    path = _bundle(root) / "logs" / "delivery.json"
    rec = json.dumps(BACKGROUND, separators=(",", ":")).encode()
    count = (200 * MB) // (len(rec) + 1)
    with open(path, "wb") as out:
        out.write(b'{"Records":[')
        batch = (rec + b",") * 1000
        for _ in range(count // 1000):
            out.write(batch)
        for _ in range(count % 1000):
            out.write(rec + b",")
        out.write(json.dumps(POLICE, separators=(",", ":")).encode() + b"]}")
    return {"exit": 1, "findings": 1, "events": count + 1, "stored": path.stat().st_size}


def _png(path: Path, width: int, height: int) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    comp = zlib.compressobj(9)
    row = b"\x00" * (1 + 3 * width)
    parts = [comp.compress(row) for _ in range(height)]
    parts.append(comp.flush())
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n")
        out.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        out.write(chunk(b"IDAT", b"".join(parts)))
        out.write(chunk(b"IEND", b""))


def png_6300(root: Path) -> dict[str, Any]:
    bundle = _bundle(root)
    (bundle / "frames").mkdir()
    _png(bundle / "frames" / "big.png", 6300, 6300)
    (bundle / "logs" / "p.jsonl").write_text(police_line(frame="frames/big.png"))
    return {
        "exit": 3,
        "findings": 1,
        "error": "over the limit of 16,777,216 pixels",
        "stored": (bundle / "frames" / "big.png").stat().st_size,
    }


def png_frame(root: Path, width: int, height: int) -> dict[str, Any]:
    """A black frame that is accepted (under the pixel limit), decoded and analysed."""
    bundle = _bundle(root)
    (bundle / "frames").mkdir()
    _png(bundle / "frames" / "f.png", width, height)
    (bundle / "logs" / "p.jsonl").write_text(police_line(frame="frames/f.png"))
    return {"exit": 1, "findings": 1, "stored": (bundle / "frames" / "f.png").stat().st_size}


def long_values(root: Path) -> dict[str, Any]:
    path = _bundle(root) / "logs" / "p.jsonl"
    path.write_text(police_line(event_id="e" * (10 * MB), camera="c" * (5 * MB)))
    return {"exit": 1, "findings": 1, "truncated": True, "stored": path.stat().st_size}


def regex_budget(root: Path) -> dict[str, Any]:
    bundle = _bundle(root)
    (bundle / "audit.toml").write_text(
        "[[text]]\nglob = '*.log'\npattern = '''(?P<time>)(?P<operation>(a|a)+)$'''\n"
    )
    (bundle / "logs" / "app.log").write_text(("a" * 40 + "!\n") * 1000)
    return {"exit": 3, "findings": 0, "error": "gave up after 5 lines", "stored": 42_000}


def demo_baseline(root: Path) -> dict[str, Any]:
    shutil.copytree(ROOT / "fixtures" / "demo", root)
    return {"exit": 1, "stored": 0}


# --- issue 18 item 7: every reader streams or refuses ---------------------------------------
SAMPLES = ROOT / "fixtures" / "logs-samples"


def azure_pretty(root: Path, copies: int) -> dict[str, Any]:
    """Azure Monitor's `{"records": [...]}` (PT1H.json as Azure writes it), pretty-printed,
    its records repeated `copies` times, gzipped."""
    records = json.loads((SAMPLES / "azure-monitor" / "PT1H.json").read_text())["records"]
    path = _bundle(root) / "logs" / "PT1H.json.gz"
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    bodies = [json.dumps(r, indent=2).replace("\n", "\n    ").encode() for r in records]
    with open(path, "wb") as out:
        out.write(comp.compress(b'{\n  "records": [\n'))
        for i in range(copies):
            for j, body in enumerate(bodies):
                last = i == copies - 1 and j == len(bodies) - 1
                out.write(comp.compress(b"    " + body + (b"\n" if last else b",\n")))
        out.write(comp.compress(b"  ]\n}\n"))
        out.write(comp.flush())
    return {"exit": 0, "events": copies * len(records), "stored": path.stat().st_size}


def nested_record(root: Path, items: int) -> dict[str, Any]:
    """A pretty CloudTrail document of two records, one holding `items` small objects
    (`}, {` over and over inside one record: the splitter's worst case)."""
    big = {**BACKGROUND, "requestParameters": {"items": [{"k": i} for i in range(items)]}}
    doc = {"Records": [big, POLICE]}
    path = _bundle(root) / "logs" / "nested.json"
    path.write_text(json.dumps(doc, indent=4))
    return {"exit": 1, "findings": 1, "events": 2, "stored": path.stat().st_size}


def many_face_lines(root: Path, lines: int) -> dict[str, Any]:
    """`lines` face searches by a principal principals.toml does not name (cannot decide, never
    findings), one JSON line each, gzipped: the events of one file must not be held whole."""
    line = police_line(principal="unnamed-contractor").encode()
    path = _bundle(root) / "logs" / "faces.jsonl.gz"
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(path, "wb") as out:
        for _ in range(lines // 1000):
            out.write(comp.compress(line * 1000))
        out.write(comp.compress(line * (lines % 1000)))
        out.write(comp.flush())
    return {"exit": 0, "findings": 0, "events": lines, "stored": path.stat().st_size}


def cases(records: int) -> list[Case]:
    return [
        Case(
            "baseline: demo bundle",
            "fixtures/demo, --no-frames (the CLI's floor)",
            demo_baseline,
            ("--no-frames", "--policy", AMAZON),
        ),
        Case("gzip bomb: zeros", "1 GiB of NUL bytes + 1 police line, .jsonl.gz", gzip_zeros),
        Case("gzip bomb: `{`", "1 GiB of `{`, .json.gz", gzip_braces),
        Case(
            "gzip bomb: Records of `{`",
            '`{"Records":[` + 1 GiB of `{`, .json.gz',
            gzip_records_braces,
        ),
        Case(
            "pretty Records, plain",
            f"{records:,} records + 1 police, indent 4, .json",
            lambda r: pretty_plain(r, records),
        ),
        Case(
            "pretty Records, gzipped",
            f"{records:,} records + 1 police, indent 4, .json.gz",
            lambda r: pretty_gz(r, records),
        ),
        Case("200 MB line, JSON lines", "one 200 MiB JSON line + 1 police line", line_jsonl),
        Case(
            "200 MB line, Records",
            'one-line `{"Records":[...]}` of 200 MiB + 1 police',
            line_records,
        ),
        Case("6300x6300 PNG frame", "referenced by a police operation", png_6300, ("--no-cache",)),
        Case(
            "1920x1080 PNG frame",
            "accepted: decoded and analysed (dlib, upsample 1)",
            lambda r: png_frame(r, 1920, 1080),
            ("--no-cache",),
        ),
        Case(
            "3840x2160 PNG frame",
            "accepted: decoded and analysed (dlib, upsample 1)",
            lambda r: png_frame(r, 3840, 2160),
            ("--no-cache",),
        ),
        Case(
            "4096x4096 PNG frame",
            "at the pixel limit: decoded and analysed (dlib, upsample 1)",
            lambda r: png_frame(r, 4096, 4096),
            ("--no-cache",),
        ),
        Case("long values", "10 MiB event_id + 5 MiB attribute in one JSON line", long_values),
        Case("regex budget", "`(a|a)+$` pattern, 1,000 lines of 41 chars", regex_budget),
        Case(
            "Azure Monitor, pretty",
            '`{"records": [...]}` of 200,000 records, indent 2, .json.gz',
            lambda r: azure_pretty(r, 100_000),
        ),
        Case(
            "CloudTrail, nested `}, {`",
            "2 pretty records, one with 15,000 small objects inside (1.2 MB)",
            lambda r: nested_record(r, 15_000),
        ),
        Case(
            "500,000 face lines",
            "undecided face searches, one JSON line each, .jsonl.gz",
            lambda r: many_face_lines(r, 500_000),
        ),
    ]


# --- running -------------------------------------------------------------------------------------


def run(bundle: Path, args: tuple[str, ...], out: Path) -> dict[str, Any]:
    cmd = [
        "/usr/bin/time",
        "-v",
        str(AUDITOR),
        "audit",
        str(bundle),
        "--no-store",
        "--format",
        "json",
        "--output",
        str(out),
        *args,
    ]
    if "--policy" not in args:
        cmd += ["--policy", AMAZON]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - start
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    status = re.search(r"Exit status: (\d+)", proc.stderr)
    return {
        "wall_s": round(wall, 2),
        "peak_rss_mb": int(rss.group(1)) / 1024 if rss else None,
        "exit": int(status.group(1)) if status else proc.returncode,
        "stderr": proc.stderr.split("\tCommand being timed")[0].strip()[-400:],
    }


def check(expect: dict[str, Any], got: dict[str, Any], report: dict[str, Any] | None) -> str:
    problems = []
    if got["exit"] != expect["exit"]:
        problems.append(f"exit {got['exit']} != {expect['exit']}")
    if report is None:
        return "; ".join(problems + ["no report"])
    if "findings" in expect and len(report["findings"]) != expect["findings"]:
        problems.append(f"findings {len(report['findings'])} != {expect['findings']}")
    if "events" in expect and report["summary"]["events"] != expect["events"]:
        problems.append(f"events {report['summary']['events']} != {expect['events']}")
    if "error" in expect and not any(expect["error"] in e["message"] for e in report["errors"]):
        problems.append(f"no error containing {expect['error']!r}")
    if expect.get("truncated"):
        event = report["findings"][0]["events"][0]
        if "…[truncated" not in (event["event_id"] or ""):
            problems.append("event_id not truncated")
    return "; ".join(problems) or "ok"


def machine() -> dict[str, str]:
    model = ""
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("Model name:"):
            model = line.split(":", 1)[1].strip()
    mem = next(
        f"{int(x.split()[1]) / MB:.1f} GiB"
        for x in Path("/proc/meminfo").read_text().splitlines()
        if x.startswith("MemTotal:")
    )
    return {
        "cpu": model,
        "cores": str(os.cpu_count()),
        "ram": mem,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--only", nargs="*", help="run only cases whose name contains these")
    opts = parser.parse_args()
    rows = []
    print(f"machine: {machine()}", file=sys.stderr)
    for case in cases(opts.records):
        if opts.only and not any(o in case.name for o in opts.only):
            continue
        with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
            bundle = Path(tmp) / "bundle"
            t0 = time.monotonic()
            expect = case.build(bundle)
            made = time.monotonic() - t0
            load = os.getloadavg()[0]
            got = run(bundle, case.args, Path(tmp) / "report.json")
            try:
                report = json.loads((Path(tmp) / "report.json").read_text())
            except (OSError, ValueError):
                report = None
            verdict = check(expect, got, report)
        row = {
            "case": case.name,
            "input": case.what,
            "stored_mb": expect["stored"] / MB,
            "exit": got["exit"],
            "peak_rss_mb": got["peak_rss_mb"],
            "wall_s": got["wall_s"],
            "load_before": round(load, 2),
            "check": verdict,
            "generate_s": round(made, 1),
        }
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
        if verdict != "ok":
            print(got["stderr"], file=sys.stderr)
    base = next((r["peak_rss_mb"] for r in rows if r["case"].startswith("baseline")), None)
    print(
        "| case | input | on disk | exit | peak RSS (largest process) | vs baseline | wall | "
        "1-min load before | check |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        ratio = f"{r['peak_rss_mb'] / base:.2f}x" if base and r["peak_rss_mb"] else "-"
        print(
            f"| {r['case']} | {r['input']} | {r['stored_mb']:.1f} MiB | {r['exit']} | "
            f"{r['peak_rss_mb']:.0f} MiB | {ratio} | {r['wall_s']:.1f} s | "
            f"{r['load_before']} | {r['check']} |"
        )
    over = [r["case"] for r in rows if (r["peak_rss_mb"] or 0) > BUDGET_MB]
    bad = [r["case"] for r in rows if r["check"] != "ok"]
    if over:
        print(f"\nover the {BUDGET_MB} MB budget: {', '.join(over)}")
    if bad:
        print(f"\nwrong answer: {', '.join(bad)}")
    return 1 if over or bad else 0


if __name__ == "__main__":
    sys.exit(main())
