"""Log-parsing benchmark: `auditor audit --no-frames` against `jq` on >= 1 GB of CloudTrail.

Usage (from the repository root)::

    .venv/bin/python bench/logs_bench.py [--size-gb 1.0] [--scale 2.0] [--keep]

Why it is built this way:

* No public CloudTrail archive of this size may be redistributed, so the corpus is generated
  from the three real invictus-ir `{"Records": [...]}` files in ../shared/realdata/cloudtrail:
  their records are copied with a fresh `eventID`, `requestID` and `eventTime` per copy (no two
  records are identical, so nothing downstream can profit from repetition), written as
  S3-delivery files of 5-20 MB (one JSON line each, as CloudTrail delivers them), about 20 %
  of them gzipped as `.json.gz`.
* About 0.1 % of the records are Amazon Rekognition calls in the documented record shape (the
  same shape as fixtures/tools/build_demo.py), half by police principals, so the policy pack
  has real work and the benchmark can check its answer: `summary.events` must equal the number
  of records written and the number of findings the number of police face-matching records.
* Every command runs in its own subprocess, one at a time, under `/usr/bin/time -v` (peak RSS
  of the largest single process) while a sampler sums the RSS of the whole process tree (the
  parent plus its worker processes) every 50 ms. The sum counts pages shared after `fork` once
  per process, so it is the pessimistic "memory this run costs" figure.
* jq (single-threaded, no gzip) reads the plain files only; its throughput is compared with the
  auditor's over the whole corpus in records/s and in MB/s of *uncompressed* JSON, which is
  conservative for the auditor (it also inflates the gzipped files). A second jq run,
  `zcat -f ALL | jq`, covers every file for completeness.
* A second corpus `--scale` times the size is audited as well, to show that peak memory does
  not grow with the corpus.

The corpus lives in bench/corpus/ (git-ignored) and is deleted afterwards unless `--keep` is
given; a kept corpus with the same parameters is reused. Results are printed as Markdown and
saved as JSON in bench/out/.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
CORPUS = BENCH / "corpus"
OUT = BENCH / "out"
SHARED = ROOT.parent / "shared"
REALDATA = SHARED / "realdata" / "cloudtrail"
TEMPLATES = (
    "218007301253_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json",
    "218007301253_CloudTrail_us-east-1_20230710T1215Z_YMDRJwtmC82bUwAo.json",
    "218007301253_CloudTrail_us-east-1_20230710T1235Z_YbVFCP9AYzJDhHV9.json",
)
DEMO_PRINCIPALS = ROOT / "fixtures" / "demo" / "principals.toml"
AUDITOR = Path(os.environ.get("AUDITOR_BIN", ROOT / ".venv" / "bin" / "auditor"))
REKOGNITION_PACK = "amazon-rekognition-police-2020"
JQ_FILTER = '.Records[] | select(.eventSource=="rekognition.amazonaws.com")'
ACCOUNT = "218007301253"
MB = 1_000_000
GIB = 1 << 30
CORPUS_VERSION = 1  # bump when the generator changes, so a kept corpus is rebuilt

REKOGNITION_RATE = 0.001
GZIP_SHARE = 0.2
FILE_MB = (5.0, 20.0)


# --------------------------------------------------------------------------- corpus


def identity(kind: str, account: str, name: str) -> dict[str, Any]:
    """A CloudTrail `userIdentity`, shaped as in fixtures/tools/build_demo.py."""
    if kind == "role":
        role, session = name.split("/")
        return {
            "type": "AssumedRole",
            "principalId": f"AROA{account}EXAMPLE:{session}",
            "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
            "accountId": account,
            "accessKeyId": "ASIAEXAMPLEKEY000001",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": f"AROA{account}EXAMPLE",
                    "arn": f"arn:aws:iam::{account}:role/{role}",
                    "accountId": account,
                    "userName": role,
                },
                "attributes": {"creationDate": "2023-07-10T00:00:00Z", "mfaAuthenticated": "false"},
            },
        }
    return {
        "type": "IAMUser",
        "principalId": f"AIDA{account}EXAMPLE",
        "arn": f"arn:aws:iam::{account}:user/{name}",
        "accountId": account,
        "accessKeyId": "AKIAEXAMPLEKEY000001",
        "userName": name,
    }


def rekognition_record(
    who: dict[str, Any], name: str, params: dict[str, Any], error: str | None
) -> dict[str, Any]:
    """A Rekognition record in the documented shape (eventTime/IDs are filled in per copy)."""
    rec: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": who,
        "eventTime": "",
        "eventSource": "rekognition.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.23",
        "userAgent": "aws-sdk-python/1.34.0",
        "requestParameters": params,
        "responseElements": None,
        "requestID": "",
        "eventID": "",
        "readOnly": name.startswith(("Search", "Detect", "Compare")),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": str(who.get("accountId")),
        "eventCategory": "Management",
    }
    if error:
        rec["errorCode"] = error
        rec["errorMessage"] = "User is not authorized to perform: rekognition:" + name
    return rec


def _s3(bucket: str, key: str) -> dict[str, Any]:
    return {"s3Object": {"bucket": bucket, "name": key}}


def rekognition_templates() -> list[tuple[bool, dict[str, Any]]]:
    """(is a police face match, record) pairs; principals as in fixtures/demo/principals.toml.

    Police records are all 1:N or 1:1 matches after 2020-06-10 (each is one finding, failed
    attempts included); the others are excused (Thorn), not police (ShopCo, an unlisted
    account) or detection only, so they must not become findings.
    """
    metro = identity("role", "111122223333", "metro-pd-search/j.doe")
    sheriff = identity("user", "444455556666", "records-clerk")
    thorn = identity("role", "777788889999", "thorn-safer/analyst")
    shop = identity("user", "222233334444", "retail-analytics")
    stranger = identity("user", "999900001111", "ops")
    img = _s3("metro-pd-evidence", "metro-pd/cam-01/f0001.jpg")
    police = [
        rekognition_record(
            metro,
            "SearchFacesByImage",
            {"collectionId": "metro-watchlist", "image": img, "maxFaces": 5},
            None,
        ),
        rekognition_record(
            metro,
            "CompareFaces",
            {
                "sourceImage": img,
                "targetImage": _s3("metro-pd-evidence", "metro-pd/cam-01/f0003.jpg"),
                "similarityThreshold": 80.0,
            },
            None,
        ),
        rekognition_record(
            metro,
            "SearchFacesByImage",
            {"collectionId": "metro-watchlist", "image": img},
            "AccessDeniedException",
        ),
        rekognition_record(
            sheriff,
            "SearchFaces",
            {"collectionId": "county-bookings", "faceId": "11111111-2222-3333-4444-555555555555"},
            None,
        ),
    ]
    others = [
        rekognition_record(
            thorn,
            "SearchFacesByImage",
            {"collectionId": "safer-victims", "image": _s3("thorn-intake", "thorn/f0007.jpg")},
            None,
        ),
        rekognition_record(
            shop,
            "SearchFacesByImage",
            {"collectionId": "shoplifters", "image": _s3("shopco-cams", "shopco/f0008.jpg")},
            None,
        ),
        rekognition_record(
            stranger,
            "CompareFaces",
            {"sourceImage": _s3("ops-bucket", "a.jpg"), "targetImage": _s3("ops-bucket", "b.jpg")},
            None,
        ),
        rekognition_record(
            shop,
            "DetectFaces",
            {"image": _s3("shopco-cams", "shopco/f0008.jpg"), "attributes": ["DEFAULT"]},
            None,
        ),
    ]
    return [(True, r) for r in police] + [(False, r) for r in others]


@dataclass
class CorpusStats:
    """What the generator wrote: the numbers the audit's answer is checked against."""

    version: int
    size_gb: float
    seed: int
    files: int = 0
    gz_files: int = 0
    records: int = 0
    rekognition: int = 0
    police_matches: int = 0
    disk_bytes: int = 0
    json_bytes: int = 0  # uncompressed
    plain_files: int = 0
    plain_records: int = 0
    plain_rekognition: int = 0
    plain_bytes: int = 0
    seconds: float = 0.0


def _time_strings(start: datetime, seconds: int) -> list[str]:
    return [(start + timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%SZ") for s in range(seconds)]


def build_corpus(
    dest: Path, size_gb: float, seed: int, file_mb: tuple[float, float] = FILE_MB
) -> CorpusStats:
    """Write a bundle of CloudTrail delivery files until `size_gb` GiB are on disk, each of
    `file_mb` MB before compression (uniform; bench/log_groups.py asks for real-sized ones)."""
    started = time.perf_counter()
    if dest.exists():
        shutil.rmtree(dest)
    logs = dest / "logs"
    logs.mkdir(parents=True)
    shutil.copyfile(DEMO_PRINCIPALS, dest / "principals.toml")
    templates: list[dict[str, Any]] = []
    for name in TEMPLATES:
        templates.extend(orjson.loads((REALDATA / name).read_bytes())["Records"])
    avg = sum(len(orjson.dumps(r)) for r in templates) / len(templates) + 1
    rek = rekognition_templates()
    rng = random.Random(seed)
    stats = CorpusStats(CORPUS_VERSION, size_gb, seed)
    window = datetime(2023, 7, 10, 12, 0, tzinfo=UTC)
    target = int(size_gb * GIB)
    serial = 0
    while stats.disk_bytes < target:
        n = max(1, int(rng.uniform(*file_mb) * MB / avg))
        k = max(1, round(n * REKOGNITION_RATE))
        slots = set(rng.sample(range(n), k))
        stamps = _time_strings(window, 300)
        eid = f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4{rng.getrandbits(12):03x}"
        rid = f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4{rng.getrandbits(12):03x}"
        offset = rng.randrange(len(templates))
        records: list[dict[str, Any]] = []
        police = 0
        for i in range(n):
            if i in slots:
                is_police, tpl = rek[rng.randrange(len(rek))]
                police += is_police
            else:
                tpl = templates[(offset + i) % len(templates)]
            rec = dict(tpl)
            serial += 1
            rec["eventID"] = f"{eid}-a{serial % 4096:03x}-{serial:012x}"
            rec["requestID"] = f"{rid}-b{serial % 4096:03x}-{serial:012x}"
            rec["eventTime"] = stamps[i * 300 // n]
            records.append(rec)
        data = orjson.dumps({"Records": records}) + b"\n"
        stamp = window.strftime("%Y%m%dT%H%MZ")
        tag = "".join(
            rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", k=16)
        )
        folder = (
            logs / "AWSLogs" / ACCOUNT / "CloudTrail" / "us-east-1" / window.strftime("%Y/%m/%d")
        )
        folder.mkdir(parents=True, exist_ok=True)
        gz = rng.random() < GZIP_SHARE
        path = folder / f"{ACCOUNT}_CloudTrail_us-east-1_{stamp}_{tag}.json{'.gz' if gz else ''}"
        blob = gzip.compress(data, compresslevel=6, mtime=0) if gz else data
        path.write_bytes(blob)
        stats.files += 1
        stats.records += n
        stats.rekognition += k
        stats.police_matches += police
        stats.disk_bytes += len(blob)
        stats.json_bytes += len(data)
        if gz:
            stats.gz_files += 1
        else:
            stats.plain_files += 1
            stats.plain_records += n
            stats.plain_rekognition += k
            stats.plain_bytes += len(data)
        window += timedelta(minutes=5)
    stats.seconds = round(time.perf_counter() - started, 1)
    (dest.parent / f"{dest.name}.manifest.json").write_text(json.dumps(asdict(stats), indent=1))
    return stats


def corpus(dest: Path, size_gb: float, seed: int, reuse: bool) -> CorpusStats:
    """A kept corpus with the same parameters is reused; anything else is (re)built."""
    manifest = dest.parent / f"{dest.name}.manifest.json"
    if reuse and manifest.is_file() and (dest / "logs").is_dir():
        old = CorpusStats(**json.loads(manifest.read_text()))
        if (old.version, old.size_gb, old.seed) == (CORPUS_VERSION, size_gb, seed):
            return old
    return build_corpus(dest, size_gb, seed)


def log_files(bundle: Path) -> list[Path]:
    """The corpus's log files in a stable order."""
    return sorted(p for p in (bundle / "logs").rglob("*") if p.is_file())


def _cpu_ticks() -> tuple[int, int]:
    """(idle, total) jiffies of all CPUs since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return fields[3] + fields[4], sum(fields)


def wait_quiet(max_wait: float, idle_needed: float = 0.9) -> float:
    """Wait (up to `max_wait` s) until the machine is idle, and return the idle share seen.

    Timings on a shared box are only comparable when nothing else runs: a second busy process
    on a 2-core machine halves what a 2-worker audit gets. The idle share before each run is
    recorded with the result so a disturbed figure can be recognised.
    """
    deadline = time.monotonic() + max_wait
    while True:
        idle0, total0 = _cpu_ticks()
        time.sleep(1.0)
        idle1, total1 = _cpu_ticks()
        share = (idle1 - idle0) / max(1, total1 - total0)
        if share >= idle_needed or time.monotonic() >= deadline:
            return round(share, 2)


def warm_cache(files: list[Path]) -> None:
    """Read every file once so each timed command starts from the same (warm) page cache."""
    for path in files:
        with path.open("rb") as fh:
            while fh.read(1 << 22):
                pass


# --------------------------------------------------------------------------- measuring


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(_children(p))
    return out


def _rss_kb(pid: int) -> int:
    """Resident set size of one process in kB (0 when it has already gone).

    Read from /proc/PID/statm, a counter: /proc/PID/smaps_rollup (for PSS) walks the page
    tables under the process's mmap lock and, sampled often, slowed the measured run by 60 %.
    """
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and all its descendants.

    The sum counts pages that forked workers still share with their parent once per process,
    so it over-states the memory a run really costs: it is the pessimistic figure.
    """

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_rss_kb = self.peak_procs = 0
        self.main_rss_kb = 0  # the measured command itself (the child of /usr/bin/time)
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            pids = _tree(self.pid)
            mem = [_rss_kb(p) for p in pids]
            self.peak_rss_kb = max(self.peak_rss_kb, sum(mem))
            self.peak_procs = max(self.peak_procs, sum(1 for m in mem if m))
            main = _children(self.pid)
            if main:
                self.main_rss_kb = max(self.main_rss_kb, _rss_kb(main[0]))
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()


@dataclass
class Run:
    """One timed command."""

    label: str
    command: str
    wall_s: float = 0.0
    cpu_s: float = 0.0
    max_rss_mb: float = 0.0  # largest single process (/usr/bin/time -v)
    tree_rss_mb: float = 0.0  # sampled sum over the process tree
    main_rss_mb: float = 0.0  # sampled: the command's own process (the auditor's parent)
    procs: int = 0
    exit_code: int = 0
    records: int = 0
    json_bytes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def records_per_s(self) -> float:
        return self.records / self.wall_s if self.wall_s else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.json_bytes / MB / self.wall_s if self.wall_s else 0.0


def measure(label: str, argv: list[str], stdout: Path | None = None) -> Run:
    """Run `argv` once under /usr/bin/time -v (when present) and the tree sampler."""
    timefile = Path(tempfile.mkstemp(prefix="logs-bench-time-")[1])
    use_time = Path("/usr/bin/time").exists()
    full = (["/usr/bin/time", "-v", "-o", str(timefile)] if use_time else []) + argv
    out = stdout.open("wb") if stdout else subprocess.DEVNULL
    before = os.times()
    ticks = _cpu_ticks()
    start = time.perf_counter()
    proc = subprocess.Popen(full, stdout=out, stderr=subprocess.PIPE)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    sampler.stop()
    after = os.times()
    idle1, total1 = _cpu_ticks()
    busy = ((total1 - idle1) - (ticks[1] - ticks[0])) / os.sysconf("SC_CLK_TCK")
    if stdout:
        out.close()  # type: ignore[union-attr]
    run = Run(
        label,
        " ".join(argv),
        wall_s=round(wall, 2),
        exit_code=proc.returncode,
        tree_rss_mb=round(sampler.peak_rss_kb / 1024, 1),
        procs=sampler.peak_procs,
        main_rss_mb=round(sampler.main_rss_kb / 1024, 1),
    )
    run.cpu_s = round(
        (after.children_user - before.children_user)
        + (after.children_system - before.children_system),
        1,
    )
    # CPU that the rest of the machine used meanwhile: other work disturbs the timing.
    run.extra["others_cpu_s"] = round(max(0.0, busy - run.cpu_s), 1)
    text = timefile.read_text() if use_time else ""
    timefile.unlink()
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if found:
        run.max_rss_mb = round(int(found.group(1)) / 1024, 1)
        code = re.search(r"Exit status: (\d+)", text)
        run.exit_code = int(code.group(1)) if code else run.exit_code
    if run.exit_code not in (0, 1):
        sys.stderr.write(err.decode(errors="replace")[-2000:])
    return run


def audit(
    label: str, bundle: Path, stats: CorpusStats, report: Path, workers: int | None = None
) -> Run:
    """Time `auditor audit --no-frames` and check its answer against what was generated."""
    argv = [
        str(AUDITOR),
        "audit",
        str(bundle),
        "--no-frames",
        "--no-store",
        "--format",
        "json",
        "--output",
        str(report),
    ]
    if workers is not None:
        argv += ["--workers", str(workers)]
    report.unlink(missing_ok=True)
    run = measure(label, argv)
    run.records, run.json_bytes = stats.records, stats.json_bytes
    if not report.is_file():
        run.extra["check"] = f"FAILED (exit {run.exit_code}, no report)"
        return run
    doc = json.loads(report.read_text())
    events = doc["summary"]["events"]
    findings = sum(1 for f in doc["findings"] if f["pack"] == REKOGNITION_PACK)
    run.extra |= {
        "summary_events": events,
        "expected_events": stats.records,
        "findings": findings,
        "expected_findings": stats.police_matches,
        "findings_all_packs": len(doc["findings"]),
        "packs": len(doc["packs"]),
        "errors": len(doc["errors"]),
        "workers": doc["run"].get("workers"),
        "check": "ok"
        if (
            events == stats.records
            and findings == stats.police_matches
            and not doc["errors"]
            and run.exit_code == 1
        )
        else "FAILED",
    }
    return run


def jq_runs(bundle: Path, stats: CorpusStats, scratch: Path) -> list[Run]:
    """jq over the plain files (its natural input), then `zcat -f | jq` over every file."""
    files = log_files(bundle)
    plain = [str(p) for p in files if not p.name.endswith(".gz")]
    out = scratch / "jq-plain.out"
    run = measure("jq, plain files only", ["jq", "-c", JQ_FILTER, *plain], stdout=out)
    run.records, run.json_bytes = stats.plain_records, stats.plain_bytes
    run.command = f"jq -c '{JQ_FILTER}' <{len(plain)} plain .json files>"
    hits = sum(1 for _ in out.open("rb"))
    run.extra |= {
        "output_records": hits,
        "expected": stats.plain_rekognition,
        "check": "ok" if hits == stats.plain_rekognition else "FAILED",
    }
    out2 = scratch / "jq-all.out"
    listing = scratch / "files.txt"
    listing.write_text("".join(f"{p}\n" for p in files))
    script = f"xargs -d '\\n' zcat -f < {listing} | jq -c '{JQ_FILTER}'"
    run2 = measure("zcat -f | jq, all files", ["sh", "-c", script], stdout=out2)
    run2.records, run2.json_bytes = stats.records, stats.json_bytes
    run2.command = f"zcat -f <all {len(files)} files> | jq -c '{JQ_FILTER}'"
    hits = sum(1 for _ in out2.open("rb"))
    run2.extra |= {
        "output_records": hits,
        "expected": stats.rekognition,
        "check": "ok" if hits == stats.rekognition else "FAILED",
    }
    return [run, run2]


# --------------------------------------------------------------------------- report


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    model = ""
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    mem = ""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    jq = subprocess.run(["jq", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "cpu": model,
        "cores": str(os.cpu_count()),
        "ram": mem,
        "python": platform.python_version(),
        "orjson": orjson.__version__,
        "jq": jq,
        "kernel": platform.release(),
    }


def markdown(runs: list[Run], corpora: dict[str, CorpusStats]) -> str:
    """The result table and ratios, ready for bench/RESULTS.md."""
    lines = [
        "| corpus | command | records | JSON MB | wall s | CPU s | records/s | MB/s "
        "| peak RSS MB: largest process | main process | process tree "
        "| idle before | others' CPU s during | check |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    lines.extend(
        f"| {run.extra.get('corpus', '')} | {run.label} | {run.records:,} "
        f"| {run.json_bytes / MB:,.0f} | {run.wall_s:.1f} | {run.cpu_s:.1f} "
        f"| {run.records_per_s:,.0f} | {run.mb_per_s:,.1f} | {run.max_rss_mb:.0f} "
        f"| {run.main_rss_mb:.0f} | {run.tree_rss_mb:.0f} | {run.extra.get('idle_before', 0):.0%} "
        f"| {run.extra.get('others_cpu_s', 0):.1f} | {run.extra.get('check', '')} |"
        for run in runs
    )
    lines.append("")
    for name, st in corpora.items():
        lines.append(
            f"- corpus {name}: {st.files} files ({st.gz_files} gzipped), "
            f"{st.records:,} records, {st.json_bytes / MB:,.0f} MB of JSON, "
            f"{st.disk_bytes / MB:,.0f} MB on disk, {st.rekognition} Rekognition "
            f"records of which {st.police_matches} police face matches; plain files: "
            f"{st.plain_files}, {st.plain_records:,} records, "
            f"{st.plain_bytes / MB:,.0f} MB (generated in {st.seconds:.0f} s)"
        )
    by = {(r.extra.get("corpus"), r.label): r for r in runs}
    jq = by.get(("1x", "jq, plain files only"))
    for label in ("auditor, default workers", "auditor, --workers 1"):
        a = by.get(("1x", label))
        if a and jq:
            lines.append(
                f"- {label} / jq (plain files): {a.records_per_s / jq.records_per_s:.2f}x "
                f"records/s, {a.mb_per_s / jq.mb_per_s:.2f}x MB/s"
            )
    small = by.get(("1x", "auditor, default workers"))
    for name in list(corpora)[1:]:
        big = by.get((name, "auditor, default workers"))
        if small and big and small.max_rss_mb and small.tree_rss_mb:
            lines.append(
                f"- peak RSS, corpus {name} / corpus 1x: largest process "
                f"{big.max_rss_mb / small.max_rss_mb:.2f}x, process tree "
                f"{big.tree_rss_mb / small.tree_rss_mb:.2f}x"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Build the corpora, time every command once, print and save the results."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--size-gb", type=float, default=1.0, help="GiB of log files on disk (default 1.0)"
    )
    ap.add_argument(
        "--scale",
        type=float,
        default=2.0,
        help="size of the second corpus, as a multiple (0: skip it)",
    )
    ap.add_argument("--seed", type=int, default=20260610)
    ap.add_argument("--keep", action="store_true", help="keep (and reuse) the corpus")
    ap.add_argument("--no-jq", action="store_true", help="skip the jq runs")
    ap.add_argument(
        "--quiet-wait",
        type=float,
        default=300.0,
        help="seconds to wait for an idle machine before each run (default 300)",
    )
    args = ap.parse_args(argv)
    if not AUDITOR.exists():
        ap.error(f"{AUDITOR} not found: run `make install` first")
    CORPUS.mkdir(parents=True, exist_ok=True)
    OUT.mkdir(parents=True, exist_ok=True)
    scratch = CORPUS / "scratch"
    scratch.mkdir(exist_ok=True)

    sizes = {"1x": args.size_gb}
    if args.scale:
        sizes[f"{args.scale:g}x"] = round(args.size_gb * args.scale, 3)
    corpora: dict[str, CorpusStats] = {}
    for name, size in sizes.items():
        print(f"corpus {name}: {size} GiB ...", file=sys.stderr, flush=True)
        corpora[name] = corpus(CORPUS / f"bundle-{name}", size, args.seed + len(corpora), args.keep)
    runs: list[Run] = []
    main_bundle = CORPUS / "bundle-1x"
    steps: list[tuple[str, Any]] = [
        (
            "1x",
            lambda: audit(
                "auditor, default workers", main_bundle, corpora["1x"], scratch / "report-1x.json"
            ),
        ),
        (
            "1x",
            lambda: audit(
                "auditor, --workers 1",
                main_bundle,
                corpora["1x"],
                scratch / "report-1x-w1.json",
                workers=1,
            ),
        ),
    ]
    if not args.no_jq:
        steps.append(("1x", lambda: jq_runs(main_bundle, corpora["1x"], scratch)))
    steps.extend(
        (
            name,
            lambda n=name: audit(
                "auditor, default workers",
                CORPUS / f"bundle-{n}",
                corpora[n],
                scratch / f"report-{n}.json",
            ),
        )
        for name in list(corpora)[1:]
    )
    for name, step in steps:
        warm_cache(log_files(CORPUS / f"bundle-{name}"))
        idle = wait_quiet(args.quiet_wait)
        got = step()
        for run in got if isinstance(got, list) else [got]:
            run.extra["corpus"] = name
            run.extra["idle_before"] = idle
            runs.append(run)
            print(
                f"{name} {run.label}: {run.wall_s:.1f} s, {run.records_per_s:,.0f} rec/s, "
                f"{run.mb_per_s:,.1f} MB/s, max RSS {run.max_rss_mb:.0f} MB, tree RSS "
                f"{run.tree_rss_mb:.0f} MB, idle before {idle:.0%}, {run.extra.get('check')}",
                file=sys.stderr,
                flush=True,
            )

    text = markdown(runs, corpora)
    print(text)
    result = {
        "machine": machine(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "corpora": {k: asdict(v) for k, v in corpora.items()},
        "runs": [
            asdict(r) | {"records_per_s": round(r.records_per_s), "mb_per_s": round(r.mb_per_s, 1)}
            for r in runs
        ],
    }
    saved = OUT / f"logs-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    saved.write_text(json.dumps(result, indent=1))
    print(f"machine: {result['machine']}\nsaved: {saved.relative_to(ROOT)}", file=sys.stderr)
    if not args.keep:
        shutil.rmtree(CORPUS)
    return 0 if all(r.extra.get("check") == "ok" for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
