"""Helpers for the scale-out tests: a bundle with many logs and frames, real Dask clusters.

The clusters are real processes started with the virtual environment's own `dask` command on
loopback (127.0.0.1, free ports): one `dask scheduler` and `dask worker --nthreads 1 --no-nanny`
processes (no nanny, so the worker process is the one a test kills). `Cluster.stop` ends what
was started, and the processes also stop on their own if the test run dies: the scheduler after
`--idle-timeout`, the workers after `--death-timeout` without a scheduler.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
BIN = Path(sys.executable).parent
AUDITOR = BIN / "auditor"
DASK = BIN / "dask"

#: Frames in the scale bundle: enough that the frame pass takes several seconds on two workers,
#: so a worker can be killed while it is analysing a chunk.
SCALE_FRAMES = 64
#: JSON-lines log files in the scale bundle (one task each), besides the demo's and real ones.
SCALE_LOGS = 24
BACKGROUND_LINES = 400


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def strip_run(text: str) -> str:
    """A JSON report's text without its `run` block (the only part allowed to differ)."""
    stripped, count = re.subn(r'(?ms)^  "run": \{\n.*?^  \},\n', "", text)
    assert count == 1, "no run block found"
    return stripped


# ---------------------------------------------------------------------------------------------
# The bundle


def _frame(rng: random.Random, chips: list[Path], backgrounds: list[Image.Image]) -> Image.Image:
    """640x480: a crop of a background photo with one to three face chips pasted on it."""
    back = rng.choice(backgrounds)
    scale = max(640 / back.width, 480 / back.height) * rng.uniform(1.0, 1.4)
    big = back.resize((int(back.width * scale) + 1, int(back.height * scale) + 1))
    left, top = rng.randrange(big.width - 640 + 1), rng.randrange(big.height - 480 + 1)
    frame = big.crop((left, top, left + 640, top + 480))
    for slot in rng.sample(range(3), rng.randint(1, 3)):
        chip = Image.open(rng.choice(chips)).convert("RGB")
        side = rng.randint(120, 180)
        chip = chip.resize((side, side))
        if rng.random() < 0.5:
            chip = chip.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        frame.paste(chip, (slot * 213 + rng.randrange(0, 213 - side + 30), rng.randrange(0, 300)))
    return frame


def build_scale_bundle(dest: Path, frames: int = SCALE_FRAMES, logs: int = SCALE_LOGS) -> Path:
    """The demo bundle plus real CloudTrail files, `logs` JSON-lines files of background lines
    and police 1:N searches, and `frames` generated frames; with a corrupt frame, a missing
    frame and a bad log line, so errors are part of what must come out identical."""
    shutil.copytree(FIXTURES / "demo", dest)
    shutil.copytree(FIXTURES / "realdata" / "cloudtrail", dest / "logs" / "real",
                    ignore=shutil.ignore_patterns("*.md"))
    with (dest / "principals.toml").open("a") as fh:
        fh.write('\n[[principal]]\nname = "scale-police"\norganisation = "Scale Police"\n'
                 'category = "police"\n')
    rng = random.Random(20261201)
    chips = sorted((FIXTURES / "faces" / "johns").glob("*/*.jpg"))
    backgrounds = [Image.open(FIXTURES / "faces" / name).convert("RGB")
                   for name in ("mmod_cars_test_image.jpg", "2008_002470.jpg")]
    folder = dest / "frames" / "scale"
    folder.mkdir(parents=True)
    names = []
    for i in range(frames):
        name = f"frames/scale/f{i:04d}.jpg"
        _frame(rng, chips, backgrounds).save(dest / name, quality=90)
        names.append(name)
    good = (dest / names[0]).read_bytes()
    (folder / "broken.jpg").write_bytes(good[: len(good) // 3])  # truncated: an input error
    names += ["frames/scale/broken.jpg", "frames/scale/missing.jpg"]
    logdir = dest / "logs" / "scale"
    logdir.mkdir()
    for part in range(logs):
        lines = [{"time": f"2023-06-{1 + part % 28:02d}T10:{n % 60:02d}:00Z",
                  "principal": "ingest", "service": "s3", "operation": "GetObject",
                  "event_id": f"bg-{part}-{n}"} for n in range(BACKGROUND_LINES)]
        lines.extend({"time": f"2023-06-{1 + part % 28:02d}T11:{i % 60:02d}:00Z",
                      "principal": "scale-police", "service": "rekognition",
                      "operation": "SearchFacesByImage", "frame": names[i],
                      "event_id": f"scale-{i:04d}"} for i in range(part, len(names), logs))
        text = "".join(json.dumps(line) + "\n" for line in lines)
        if part == 3:
            text += "{not json\n"
        (logdir / f"part-{part:02d}.jsonl").write_text(text)
    return dest


def audit_cli(bundle: Path, out: Path, *extra: str, env: dict[str, str] | None = None,
              timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """The installed `auditor audit` command, JSON report to `out`, no store."""
    argv = [str(AUDITOR), "audit", str(bundle), "--format", "json", "--output", str(out),
            "--no-store", "--fail-on", "never", *extra]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


# ---------------------------------------------------------------------------------------------
# Clusters


@dataclass
class Cluster:
    """A `dask scheduler` and its `dask worker` processes on loopback."""

    folder: Path
    address: str = ""
    scheduler: subprocess.Popen[bytes] | None = None
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: list[Path] = field(default_factory=list)

    def _spawn(self, argv: list[str], name: str,
               env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = self.folder / f"{name}.log"
        self.logs.append(log)
        with log.open("wb") as fh:
            return subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, cwd=self.folder,
                                    env={**os.environ, **(env or {})})

    def start_scheduler(self) -> None:
        port = free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        self.scheduler = self._spawn(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port),
             "--no-dashboard", "--idle-timeout", "600"], "scheduler")

    def start_worker(self, env: dict[str, str] | None = None) -> str:
        """Start one single-threaded worker; returns its address."""
        port = free_port()
        address = f"tcp://127.0.0.1:{port}"
        self.workers[address] = self._spawn(
            [str(DASK), "worker", self.address, "--nthreads", "1", "--no-nanny",
             "--host", "127.0.0.1", "--worker-port", str(port), "--no-dashboard",
             "--death-timeout", "60", "--local-directory", str(self.folder / "work")],
            f"worker-{port}", env)
        return address

    def wait(self, workers: int, timeout: float = 120) -> None:
        """Until the scheduler has `workers` workers (fails with the processes' logs)."""
        from distributed import Client

        deadline = time.monotonic() + timeout
        while True:
            try:
                with Client(self.address, timeout=10, set_as_default=False) as client:
                    client.wait_for_workers(workers, timeout=max(1.0, deadline - time.monotonic()))
                    return
            except (OSError, TimeoutError) as exc:
                if time.monotonic() > deadline:
                    raise AssertionError(f"cluster did not start: {exc}\n{self.log_text()}") \
                        from exc
                time.sleep(0.5)

    def log_text(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                         for p in self.logs if p.exists())

    def stop(self) -> None:
        procs = [*self.workers.values(), *([self.scheduler] if self.scheduler else [])]
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def start_cluster(folder: Path, workers: int = 2,
                  env: dict[str, str] | None = None) -> Cluster:
    folder.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(folder)
    try:
        cluster.start_scheduler()
        for _ in range(workers):
            cluster.start_worker(env)
        cluster.wait(workers)
    except BaseException:
        cluster.stop()
        raise
    return cluster
