"""Cost on more than one machine, simulated on this one: throughput with 1, 2 and 4 workers,
the per-task overhead, and a model of wall time for a 1 TB CloudTrail archive and 1,000,000
frames on N workers, built from the measured per-record, per-frame and per-task costs.

Usage (from the repository root)::

    .venv/bin/python bench/cost_model.py [--size-gb 1] [--frames 100] [--workers 1,2,4]

For each worker count, `bench/scale_bench.py` audits the same generated corpus (CloudTrail
delivery files, `--no-frames`) and frame set with the local pool and with a `dask scheduler`
plus that many `dask worker --nthreads 1` processes on 127.0.0.1, sampling every process's CPU
time. On one 2-core machine 4 workers oversubscribe the cores, so wall time stops improving
there; the model therefore uses CPU seconds per unit of work (which do not depend on how many
machines share it) and the per-task cost, not the wall times of the oversubscribed runs:

    T(N) = start-up + max(client CPU, scheduler time, (worker CPU + tasks x task cost) / N)

* worker CPU: the external workers' CPU seconds per record (logs) or per frame, at 1 worker;
* client CPU: the auditor process's own CPU per record or frame (it judges the face events, keeps
  the people clustering, which is blocked so it stays linear, and writes the report): the part no
  number of workers removes;
* scheduler time: tasks x the measured per-task overhead, as if the scheduler handled one task at
  a time (an upper bound: Dask's scheduler overlaps them);
* tasks: one per log file (so the file size of the archive matters, see the two rows), and
  frame chunks of 8 frames (`frame_chunks`: 8 per task while at least 4 tasks per slot remain).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import scale_bench  # noqa: E402

TB = 10**12
#: Mean size of a real CloudTrail delivery file: the three real files in
#: fixtures/realdata/cloudtrail (87, 179 and 226 KB; AWS delivers about every 5 minutes per
#: account and region, so busy trails write more files, not much larger ones).
REAL_FILE_BYTES = 164_000
FRAME_CHUNK = 8
NODES = (1, 2, 4, 8, 16, 32, 64, 128)


def _run(args: argparse.Namespace, workers: int) -> dict[str, Any]:
    before = set(scale_bench.OUT.glob("scale-*.json"))
    argv = ["--size-gb", str(args.size_gb), "--frames", str(args.frames), "--workers",
            str(workers), "--modes", "local pool,dask cluster", "--keep", "--quiet-wait",
            str(args.quiet_wait)]  # fmt: skip
    if scale_bench.main(argv) != 0:
        raise SystemExit(f"scale_bench failed for {workers} worker(s)")
    (new,) = set(scale_bench.OUT.glob("scale-*.json")) - before
    return dict(json.loads(new.read_text()))


def _start_cpu() -> float:
    """The client's CPU seconds for an audit that does almost nothing (the demo bundle,
    `--no-frames`): imports, packs, the report; subtracted from the client's per-unit cost."""
    report = scale_bench.OUT / "cost-model-start.json"
    argv = [str(scale_bench.AUDITOR), "audit", str(ROOT / "fixtures/demo"), "--no-frames",
            "--no-store", "--fail-on", "never", "-f", "json", "-o", str(report)]  # fmt: skip
    return float(min(scale_bench.measure(argv, {})["cpu_by_role"]["client"] for _ in range(3)))


def _costs(one: dict[str, Any], start_cpu: float) -> dict[str, float]:
    """Per-unit costs from the 1-worker cluster runs."""
    runs = {(r["input"], r["mode"]): r for r in one["runs"]}
    logs, frames = runs[("logs", "dask cluster")], runs[("frames", "dask cluster")]
    records = one["corpus"]["records"]
    nframes = one["frames"]["count"]
    files = one["corpus"]["files"]
    data = one["corpus"]["json_bytes"]
    task = one["task_overhead_ms"]["dask cluster"] / 1000
    return {
        "bytes_per_record": data / records,
        "bytes_per_file": data / files,
        "worker_s_per_record": logs["cpu_by_role"].get("workers", 0.0) / records,
        "client_start_s": start_cpu,
        "client_s_per_record": max(0.0, logs["cpu_by_role"].get("client", 0.0) - start_cpu)
        / records,
        "worker_s_per_frame": frames["cpu_by_role"].get("workers", 0.0) / nframes,
        "client_s_per_frame": max(0.0, frames["cpu_by_role"].get("client", 0.0) - start_cpu)
        / nframes,
        "task_s": task,
    }


#: Seconds before the first task runs: connecting, checking the workers, listing (measured
#: under a minute in every run of the scale benchmark).
START_S = 30.0


def _row(
    label: str, units: float, tasks: float, worker_s: float, client_s: float, task_s: float
) -> dict[str, Any]:
    work = units * worker_s + tasks * task_s
    client, sched = units * client_s, tasks * task_s
    hours = {n: (START_S + max(client, sched, work / n)) / 3600 for n in NODES}
    return {"workload": label, "tasks": tasks, "client_h": client / 3600, "sched_h": sched / 3600,
            "hours": hours}  # fmt: skip


def files_per_task(file_bytes: float) -> int:
    """Log files one task reads (`run.logpass.log_tasks`: up to GROUP_FILES files or
    GROUP_BYTES bytes; a larger file alone)."""
    from auditor.run.logpass import GROUP_BYTES, GROUP_FILES

    return max(1, min(GROUP_FILES, int(GROUP_BYTES // file_bytes)))


def model(c: dict[str, float]) -> list[dict[str, Any]]:
    """Modelled wall hours for the three workloads at each node count (1 worker per node)."""
    records = TB / c["bytes_per_record"]
    real_tasks = TB / REAL_FILE_BYTES / files_per_task(REAL_FILE_BYTES)
    per_record = (c["worker_s_per_record"], c["client_s_per_record"], c["task_s"])
    frames = 1_000_000
    return [
        _row("1 TB CloudTrail, files as in the benchmark", records,
             TB / c["bytes_per_file"] / files_per_task(c["bytes_per_file"]), *per_record),
        _row("1 TB CloudTrail, real delivery files", records, real_tasks, *per_record),
        _row("1,000,000 frames (640x480, HOG, onnx)", frames, frames / FRAME_CHUNK,
             c["worker_s_per_frame"], c["client_s_per_frame"], c["task_s"]),
    ]  # fmt: skip


def markdown(results: dict[int, dict[str, Any]], c: dict[str, float]) -> str:
    lines = ["| input | executor | workers | wall s | records/s | frames/s | CPU s: client "
             "| its children | scheduler | workers | other load (cores) | check |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    for n, res in sorted(results.items()):
        for r in res["runs"]:
            cpu = r["cpu_by_role"]
            lines.append(
                f"| {r['input']} | {r['mode']} | {n} | {r['wall_s']:.1f} "
                f"| {r.get('records_per_s', 0):,.0f} | {r.get('frames_per_s', 0):.2f} "
                f"| {cpu.get('client', 0):.1f} | {cpu.get('client child', 0):.1f} "
                f"| {cpu.get('scheduler', 0):.1f} | {cpu.get('workers', 0):.1f} "
                f"| {r['others_cores']:.2f} | {r['check']} |"
            )
    lines += ["", "Per-task overhead (400 trivial tasks through `map`), ms: " + ", ".join(
        f"{n} worker(s): pool {res['task_overhead_ms'].get('local pool')}, "
        f"cluster {res['task_overhead_ms'].get('dask cluster')}"
        for n, res in sorted(results.items()))]  # fmt: skip
    lines += ["", "Costs (1-worker cluster runs): " + ", ".join(
        f"{k} {v:.3g}" for k, v in c.items())]  # fmt: skip
    lines += ["", "| workload | tasks | client h | scheduler h (bound) | "
              + " | ".join(f"{n} node(s)" for n in NODES) + " |",
              "|---|---:|---:|---:|" + "---:|" * len(NODES)]  # fmt: skip
    for row in model(c):
        lines.append(
            f"| {row['workload']} | {row['tasks']:,.0f} | {row['client_h']:.2f} "
            f"| {row['sched_h']:.2f} | "
            + " | ".join(f"{row['hours'][n]:.2f} h" for n in NODES)
            + " |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-gb", type=float, default=1.0)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--quiet-wait", type=float, default=10.0)
    ap.add_argument(
        "--model-from",
        type=Path,
        help="only recompute the model, from an earlier run's costs (cost-model.json)",
    )
    args = ap.parse_args(argv)
    if args.model_from:
        saved = json.loads(args.model_from.read_text())
        print(markdown({}, saved.get("costs", saved)))
        return 0
    results = {int(n): _run(args, int(n)) for n in args.workers.split(",")}
    costs = _costs(results[min(results)], _start_cpu())
    text = markdown(results, costs)
    print(text)
    out = scale_bench.OUT / "cost-model.json"
    out.write_text(json.dumps({"costs": costs, "runs": results}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
