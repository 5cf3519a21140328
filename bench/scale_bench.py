"""Scale-out benchmark: the local process pool against Dask (`--scheduler local`, and a
`dask scheduler` with two `dask worker` processes) on a generated log corpus and frame set.

Usage (from the repository root)::

    .venv/bin/python bench/scale_bench.py [--size-gb 10] [--frames 2000] [--keep]
    make bench-scale                  # the full run: 10 GiB of logs, 2,000 frames

How it is built:

* Logs: the corpus generator of bench/logs_bench.py (CloudTrail delivery files of 5-20 MB, 20 %
  gzipped, 0.1 % Rekognition records of which about half are police face matches), audited with
  `--no-frames`, so records/s measures log parsing alone. The report is checked: `summary.events`
  equals the records written, the Rekognition-pack findings equal the police matches.
* Frames: the frame builder of bench/faces_bench.py (640x480 JPEGs with 0-4 pasted faces from
  ../shared/faces), in a bundle with one police 1:N search per frame, audited with `--no-store`
  (no face cache: every frame is computed), so frames/s measures the frame pass.
* Each of the three executors audits both bundles in its own `auditor audit` process. The
  external cluster is started fresh for each run (`dask scheduler` + two `dask worker
  --nthreads 1 --no-nanny` on 127.0.0.1), so its workers' peak memory belongs to that run.
* Every 0.1 s a sampler reads the RSS of each process: the auditor (the client), its children
  (pool workers, or the LocalCluster's nannies and workers; the LocalCluster's scheduler runs
  inside the client process), and the external scheduler and workers. Peaks are per process.
* The JSON reports of the three executors are compared byte for byte outside the `run` block.
* The per-task overhead is measured apart: 400 trivial tasks through each executor's `map`.

The corpus lives in bench/corpus/ (git-ignored) and is deleted afterwards unless `--keep`.
Results are printed as Markdown and saved as JSON in bench/out/.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import logs_bench  # noqa: E402 - the corpus generator and machine facts

BIN = Path(sys.executable).parent
AUDITOR, DASK = BIN / "auditor", BIN / "dask"
CORPUS = ROOT / "bench" / "corpus"
OUT = ROOT / "bench" / "out"
GIB = 1 << 30
PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")


def shared_dir() -> Path:
    """../shared beside the checkout (the main repository) or beside the worktree folder."""
    for base in (ROOT.parent, ROOT.parent.parent):
        if (base / "shared" / "faces").is_dir():
            return base / "shared"
    raise SystemExit("../shared/faces not found (the frame builder needs its photos)")


# --------------------------------------------------------------------------- sampling


def _children(pid: int) -> list[int]:
    """Children of every thread of `pid` (a LocalCluster starts its workers from a thread)."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out.extend(int(x) for x in (task / "children").read_text().split())
        except OSError:
            continue
    return out


def _stat(pid: int) -> tuple[int, float] | None:
    """(RSS bytes, CPU seconds) of one process, None when it has gone."""
    try:
        rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError, ValueError):
        return None
    return rss, (int(fields[11]) + int(fields[12])) / TICK


def _label(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    text = " ".join(a.decode(errors="replace") for a in argv if a)
    if "multiprocessing" in text or "spawn_main" in text or "forkserver" in text:
        return "spawned"
    return text[:80]


class Sampler(threading.Thread):
    """Peak RSS and last CPU time of every process in the trees of `roots`."""

    def __init__(self, roots: dict[str, int], interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.roots, self.interval = roots, interval
        self.peak: dict[int, int] = {}
        self.cpu: dict[int, float] = {}
        self.role: dict[int, str] = {}
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            for role, root in self.roots.items():
                todo = [(root, role)]
                while todo:
                    pid, name = todo.pop()
                    got = _stat(pid)
                    if got is None:
                        continue
                    self.peak[pid] = max(self.peak.get(pid, 0), got[0])
                    self.cpu[pid] = got[1]
                    self.role.setdefault(pid, name)
                    todo.extend((c, f"{role} child") for c in _children(pid))
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def peaks(self) -> dict[str, list[float]]:
        """role -> peak RSS in MB of each process with that role (largest first)."""
        out: dict[str, list[float]] = {}
        for pid, rss in self.peak.items():
            out.setdefault(self.role[pid], []).append(round(rss / 2**20, 1))
        return {k: sorted(v, reverse=True) for k, v in sorted(out.items())}


# --------------------------------------------------------------------------- clusters


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """`dask scheduler` + `dask worker --nthreads 1 --no-nanny` processes on loopback."""

    def __init__(self, workers: int, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.address = f"tcp://127.0.0.1:{free_port()}"
        port = self.address.rsplit(":", 1)[1]
        log = (folder / "cluster.log").open("ab")
        self.scheduler = subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard",
             "--idle-timeout", "3600"], stdout=log, stderr=log)  # fmt: skip
        self.workers = [
            subprocess.Popen(
                [
                    str(DASK),
                    "worker",
                    self.address,
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--host",
                    "127.0.0.1",
                    "--no-dashboard",
                    "--death-timeout",
                    "60",
                    "--local-directory",
                    str(folder / "work"),
                ],
                stdout=log,
                stderr=log,
            )  # fmt: skip
            for _ in range(workers)
        ]
        from distributed import Client

        with Client(self.address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=120)

    def roots(self) -> dict[str, int]:
        out = {"scheduler": self.scheduler.pid}
        out.update({f"worker {i + 1}": w.pid for i, w in enumerate(self.workers)})
        return out

    def stop(self) -> None:
        procs = [*self.workers, self.scheduler]
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --------------------------------------------------------------------------- runs


def _busy_seconds() -> float:
    idle, total = logs_bench._cpu_ticks()
    return (total - idle) / TICK


def measure(argv: list[str], extra: dict[str, int]) -> dict[str, Any]:
    """Run one `auditor audit` and sample it (and the external cluster's processes)."""
    busy0, start = _busy_seconds(), time.perf_counter()
    cpu0 = {pid: (_stat(pid) or (0, 0.0))[1] for pid in extra.values()}
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = Sampler({"client": proc.pid, **extra})
    sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    sampler.stop()
    ours = sum(sampler.cpu.values()) - sum(cpu0.values())
    by_role: dict[str, float] = {}
    for pid, cpu in sampler.cpu.items():
        role = sampler.role[pid]
        role = "workers" if role.startswith("worker") else role  # "worker 1", "worker 2", ...
        by_role[role] = by_role.get(role, 0.0) + cpu - cpu0.get(pid, 0.0)
    others = max(0.0, _busy_seconds() - busy0 - ours)
    if proc.returncode not in (0, 1, 3):
        sys.stderr.write(err.decode(errors="replace")[-3000:])
    return {
        "wall_s": round(wall, 1),
        "exit": proc.returncode,
        "cpu_s": round(ours, 1),
        # the client process, its children (pool workers), the external scheduler and workers
        "cpu_by_role": {k: round(v, 2) for k, v in sorted(by_role.items())},
        "others_cores": round(others / wall, 2),
        "rss_mb": sampler.peaks(),
    }


def strip_run(text: str) -> str:
    return re.sub(r'(?ms)^  "run": \{\n.*?^  \},\n', "", text)


def audit_argv(
    bundle: Path, report: Path, mode: str, workers: int, address: str, frames: bool
) -> list[str]:
    argv = [
        str(AUDITOR),
        "audit",
        str(bundle),
        "--no-store",
        "--fail-on",
        "never",
        "--format",
        "json",
        "--output",
        str(report),
        "--workers",
        str(workers),
    ]
    if not frames:
        argv.append("--no-frames")
    else:
        argv.append("--no-cache")  # every frame computed: the face cache outlives --no-store
    if mode == "dask local":
        argv += ["--scheduler", "local"]
    elif mode == "dask cluster":
        argv += ["--scheduler", address]
    return argv


def frames_bundle(dest: Path, frames_src: Path) -> tuple[Path, int]:
    """A bundle over the generated frames: one police 1:N search per frame (hard links)."""
    frames = sorted(frames_src.glob("*.jpg"))
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "frames").mkdir(parents=True)
    (dest / "logs").mkdir()
    lines = []
    for i, frame in enumerate(frames):
        os.link(frame, dest / "frames" / frame.name)
        lines.append(json.dumps({
            "time": f"2023-01-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
            "principal": "bench-police", "service": "rekognition",
            "operation": "SearchFacesByImage", "frame": f"frames/{frame.name}",
            "event_id": f"bench-{i:05d}"}))  # fmt: skip
    (dest / "logs" / "pipeline.jsonl").write_text("\n".join(lines) + "\n")
    (dest / "principals.toml").write_text(
        '[[principal]]\nname = "bench-police"\norganisation = "Bench Police"\ncategory = "police"\n'
    )
    return dest, len(frames)


def task_overhead(address: str, workers: int, tasks: int = 400) -> dict[str, float]:
    """Milliseconds per trivial task through each executor's `map` (window included)."""
    from auditor.run.executors import open_executor

    out = {}
    for name, scheduler in (("local pool", None), ("dask cluster", address)):
        executor = open_executor(scheduler, workers)
        try:
            executor.slots()
            start = time.perf_counter()
            assert sum(executor.map(abs, list(range(-tasks, 0)))) > 0
            out[name] = round((time.perf_counter() - start) / tasks * 1000, 2)
        finally:
            executor.close()
    return out


# --------------------------------------------------------------------------- main


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| input | executor | wall s | records/s | frames/s | CPU s | peak RSS MB: client "
        "| client's children | scheduler | workers | other load (cores) | check |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in result["runs"]:
        rss = run["rss_mb"]
        children = rss.get("client child", [])
        workers = [v for k, v in rss.items() if k.startswith("worker")]
        lines.append(
            f"| {run['input']} | {run['mode']} | {run['wall_s']:.1f} "
            f"| {run.get('records_per_s', 0):,.0f} | {run.get('frames_per_s', 0):.2f} "
            f"| {run['cpu_s']:.0f} | {rss['client'][0]:.0f} "
            f"| {', '.join(f'{v:.0f}' for v in children[:4]) or '-'}"
            f"{' ...' if len(children) > 4 else ''} "
            f"| {rss.get('scheduler', ['-'])[0]} "
            f"| {', '.join(f'{w[0]:.0f}' for w in workers) or '-'} "
            f"| {run['others_cores']:.2f} | {run['check']} |"
        )
    lines.append("")
    lines.append(
        f"- per-task overhead (400 trivial tasks through `map`): {result['task_overhead_ms']}"
    )
    lines.append(f"- corpus: {json.dumps(result['corpus'])}")
    lines.append(f"- frames: {result['frames']}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-gb", type=float, default=10.0, help="GiB of logs (default 10)")
    ap.add_argument("--frames", type=int, default=2000, help="frames (default 2000)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--keep", action="store_true", help="keep (and reuse) the corpus")
    ap.add_argument(
        "--quiet-wait",
        type=float,
        default=120.0,
        help="seconds to wait for an idle machine before each run",
    )
    ap.add_argument("--modes", default="local pool,dask local,dask cluster")
    args = ap.parse_args(argv)
    shared = shared_dir()
    if not (logs_bench.REALDATA / logs_bench.TEMPLATES[0]).is_file():
        logs_bench.REALDATA = ROOT / "fixtures" / "realdata" / "cloudtrail"
    CORPUS.mkdir(parents=True, exist_ok=True)
    OUT.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(CORPUS).free
    if free < (args.size_gb * 1.15 + 2) * GIB:
        raise SystemExit(
            f"only {free / GIB:.0f} GiB free under {CORPUS}: {args.size_gb} GiB of logs need more"
        )

    print(f"logs corpus: {args.size_gb} GiB ...", file=sys.stderr, flush=True)
    logs = CORPUS / f"scale-{args.size_gb:g}"
    stats = logs_bench.corpus(logs, args.size_gb, args.seed, args.keep)
    frames_src = CORPUS / f"scale-frames-{args.frames}"
    if (
        not (frames_src / "frames").is_dir()
        or len(list((frames_src / "frames").glob("*.jpg"))) != args.frames
    ):
        print(f"frames: {args.frames} ...", file=sys.stderr, flush=True)
        import faces_bench

        faces_bench.build_frames(shared / "faces", frames_src, args.frames)
    fbundle, nframes = frames_bundle(CORPUS / "scale-frames-bundle", frames_src / "frames")
    scratch = CORPUS / "scale-scratch"
    scratch.mkdir(exist_ok=True)

    runs: list[dict[str, Any]] = []
    reports: dict[tuple[str, str], str] = {}
    overhead: dict[str, float] = {}
    for kind, bundle in (("logs", logs), ("frames", fbundle)):
        if kind == "logs":
            logs_bench.warm_cache(logs_bench.log_files(logs))
        for mode in args.modes.split(","):
            cluster = Cluster(args.workers, scratch / "cluster") if mode == "dask cluster" else None
            try:
                idle = logs_bench.wait_quiet(args.quiet_wait)
                report = scratch / f"report-{kind}-{mode.replace(' ', '-')}.json"
                report.unlink(missing_ok=True)
                argv_ = audit_argv(
                    bundle,
                    report,
                    mode,
                    args.workers,
                    cluster.address if cluster else "",
                    kind == "frames",
                )
                run = measure(argv_, cluster.roots() if cluster else {})
                if cluster and not overhead:
                    overhead = task_overhead(cluster.address, args.workers)
            finally:
                if cluster:
                    cluster.stop()
            run |= {
                "input": kind,
                "mode": mode,
                "idle_before": idle,
                "command": " ".join(argv_).replace(str(ROOT) + "/", ""),
            }
            doc = json.loads(report.read_text()) if report.is_file() else None
            if doc is None:
                run["check"] = f"FAILED (exit {run['exit']}, no report)"
            elif kind == "logs":
                found = sum(1 for f in doc["findings"] if f["pack"] == logs_bench.REKOGNITION_PACK)
                ok = (
                    doc["summary"]["events"] == stats.records
                    and found == stats.police_matches
                    and not doc["errors"]
                )
                run["records_per_s"] = round(stats.records / run["wall_s"])
                run["check"] = "ok" if ok else "FAILED"
            else:
                ok = doc["summary"]["frames_analysed"] == nframes and not doc["errors"]
                run["frames_per_s"] = round(nframes / run["wall_s"], 2)
                run["faces"] = doc["summary"]["faces_detected"]
                run["check"] = "ok" if ok else "FAILED"
            if doc is not None:
                reports[(kind, mode)] = strip_run(report.read_text())
                first = reports.get((kind, args.modes.split(",")[0]))
                run["same_as_local_pool"] = first == reports[(kind, mode)]
                if not run["same_as_local_pool"]:
                    run["check"] += ", REPORT DIFFERS"
            runs.append(run)
            print(
                f"{kind} / {mode}: {run['wall_s']} s, check {run['check']}, "
                f"RSS {run['rss_mb']}, others {run['others_cores']} cores",
                file=sys.stderr,
                flush=True,
            )

    result = {
        "machine": logs_bench.machine(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "args": vars(args),
        "corpus": asdict(stats),
        "frames": {"count": nframes, "size": "640x480"},
        "task_overhead_ms": overhead,
        "runs": runs,
    }
    text = markdown(result)
    print(text)
    saved = OUT / f"scale-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    saved.write_text(json.dumps(result, indent=1))
    print(f"saved: {saved.relative_to(ROOT)}", file=sys.stderr)
    if not args.keep:
        for path in (logs, frames_src, fbundle, scratch):
            shutil.rmtree(path, ignore_errors=True)
        (logs.parent / f"{logs.name}.manifest.json").unlink(missing_ok=True)
    return 0 if all(r["check"] == "ok" for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
