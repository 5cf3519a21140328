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
SCALE_FRAMES = 48
FRAME = (320, 240)
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
    """320x240 (small, to keep the suite quick): a crop of a face-less photo with one or two face
    chips of 64-96 px pasted on it (HOG at upsample 1 finds faces down to about 40 px); each
    face costs about 0.1 s of descriptor time, which dominates the frame pass."""
    width, height = FRAME
    back = rng.choice(backgrounds)
    scale = max(width / back.width, height / back.height) * rng.uniform(1.0, 1.4)
    big = back.resize((int(back.width * scale) + 1, int(back.height * scale) + 1))
    left, top = rng.randrange(big.width - width + 1), rng.randrange(big.height - height + 1)
    frame = big.crop((left, top, left + width, top + height))
    third = width // 3
    for slot in rng.sample(range(3), rng.randint(1, 2)):
        chip = Image.open(rng.choice(chips)).convert("RGB")
        side = rng.randint(64, 96)
        chip = chip.resize((side, side))
        if rng.random() < 0.5:
            chip = chip.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        frame.paste(
            chip,
            (slot * third + rng.randrange(0, third - side + 10), rng.randrange(0, height - side)),
        )
    return frame


def build_scale_bundle(dest: Path, frames: int = SCALE_FRAMES, logs: int = SCALE_LOGS) -> Path:
    """The demo bundle plus real CloudTrail files, `logs` JSON-lines files of background lines
    and police 1:N searches, and `frames` generated frames; with a corrupt frame, a missing
    frame and a bad log line, so errors and missing evidence are part of what must come out
    identical."""
    shutil.copytree(FIXTURES / "demo", dest)
    shutil.copytree(
        FIXTURES / "realdata" / "cloudtrail",
        dest / "logs" / "real",
        ignore=shutil.ignore_patterns("*.md"),
    )
    with (dest / "principals.toml").open("a") as fh:
        fh.write(
            '\n[[principal]]\nname = "scale-police"\norganisation = "Scale Police"\n'
            'category = "police"\n'
        )
    rng = random.Random(20261201)
    chips = sorted((FIXTURES / "faces" / "johns").glob("*/*.jpg"))
    backgrounds = [Image.open(FIXTURES / "faces" / "mmod_cars_test_image.jpg").convert("RGB")]
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
        lines = [
            {
                "time": f"2023-06-{1 + part % 28:02d}T10:{n % 60:02d}:00Z",
                "principal": "ingest",
                "service": "s3",
                "operation": "GetObject",
                "event_id": f"bg-{part}-{n}",
            }
            for n in range(BACKGROUND_LINES)
        ]
        lines.extend(
            {
                "time": f"2023-06-{1 + part % 28:02d}T11:{i % 60:02d}:00Z",
                "principal": "scale-police",
                "service": "rekognition",
                "operation": "SearchFacesByImage",
                "frame": names[i],
                "event_id": f"scale-{i:04d}",
            }
            for i in range(part, len(names), logs)
        )
        text = "".join(json.dumps(line) + "\n" for line in lines)
        if part == 3:
            text += "{not json\n"
        (logdir / f"part-{part:02d}.jsonl").write_text(text)
    return dest


def audit_cli(
    bundle: Path, out: Path, *extra: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """The installed `auditor audit` command, JSON report to `out`, no store."""
    argv = [
        str(AUDITOR),
        "audit",
        str(bundle),
        "--format",
        "json",
        "--output",
        str(out),
        "--no-store",
        "--fail-on",
        "never",
        *extra,
    ]
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


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

    def spawn(
        self, argv: list[str], name: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        log = self.folder / f"{name}.log"
        self.logs.append(log)
        with log.open("wb") as fh:
            return subprocess.Popen(
                argv,
                stdout=fh,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                env={**os.environ, **(env or {})},
            )

    def start_scheduler(self, *extra: str, scheme: str = "tcp") -> None:
        """`extra`: more `dask scheduler` options (TLS files, --scheduler-file)."""
        port = free_port()
        self.address = f"{scheme}://127.0.0.1:{port}"
        self.scheduler = self.spawn(
            [
                str(DASK),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-dashboard",
                "--idle-timeout",
                "600",
                *extra,
            ],
            "scheduler",
        )

    def start_worker(
        self,
        env: dict[str, str] | None = None,
        *extra: str,
        prefix: tuple[str, ...] = (),
        scheme: str = "tcp",
    ) -> str:
        """Start one single-threaded worker; returns its address. `extra`: more `dask worker`
        options; `prefix`: a command that execs the worker (`unshare -m sh -c ...`)."""
        port = free_port()
        address = f"{scheme}://127.0.0.1:{port}"
        self.workers[address] = self.spawn(
            [
                *prefix,
                str(DASK),
                "worker",
                self.address,
                "--nthreads",
                "1",
                "--no-nanny",
                "--host",
                "127.0.0.1",
                "--worker-port",
                str(port),
                "--no-dashboard",
                "--death-timeout",
                "60",
                "--local-directory",
                str(self.folder / "work"),
                *extra,
            ],
            f"worker-{port}",
            env,
        )
        return address

    def stop_worker(self, address: str) -> None:
        proc = self.workers.pop(address)
        proc.terminate()
        proc.wait(timeout=30)

    def wait(self, workers: int, timeout: float = 120, security: object = None) -> None:
        """Until the scheduler has exactly `workers` workers, all started here (fails with the
        processes' logs)."""
        from distributed import Client

        deadline = time.monotonic() + timeout
        problem = ""
        while time.monotonic() < deadline:
            try:
                with Client(
                    self.address, timeout=10, set_as_default=False, security=security
                ) as client:
                    while time.monotonic() < deadline:
                        seen = set(client.nthreads())
                        if len(seen) == workers and seen <= set(self.workers):
                            return
                        time.sleep(0.2)
            except (OSError, TimeoutError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
                time.sleep(0.5)
        raise AssertionError(
            f"cluster did not get {workers} worker(s): {problem}\n{self.log_text()}"
        )

    def log_text(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in self.logs
            if p.exists()
        )

    def stop(self) -> None:
        procs = [*self.workers.values(), *([self.scheduler] if self.scheduler else [])]
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)  # a test may have frozen it (SIGSTOP)
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def start_cluster(folder: Path, workers: int = 2, env: dict[str, str] | None = None) -> Cluster:
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
