"""Typed reports: what reading every finding through the pydantic model costs a renderer.

Baseline `dict`: the JSON format written straight from the report dict (`jsonstream.write_json`),
as before reporters took the typed report; `typed`: the JSON format as shipped
(`TypedReport.of(...)`, every finding validated as it streams, written from the model). Also
the per-finding cost of `Finding.model_validate` against `json.dumps` of the same finding, the
numbers the choice of pydantic over hand-kept dataclasses rests on (core/reportdoc.py).
Findings are copies of the demo's (new ids). Usage: python bench/render_bench.py [FINDINGS]
"""

from __future__ import annotations

import copy
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from auditor.core.jsonstream import Lazy, write_json
from auditor.core.report import Finding
from auditor.core.reportdoc import TypedReport
from auditor.report.base import RenderOptions
from auditor.report.json_report import JsonReporter
from auditor.run.audit import run_audit
from auditor.run.options import AuditOptions

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo"


def _report(n: int) -> dict[str, Any]:
    done = run_audit(DEMO, AuditOptions(workers=1, use_cache=False, frames="none"))
    try:
        report = dict(done.report)
        real = [dict(f) for f in report["findings"]]
    finally:
        done.close()

    def findings() -> Any:
        for i in range(n):
            f = copy.copy(real[i % len(real)])
            f["id"] = f"{i:020d}"
            yield f

    report["findings"] = Lazy(findings, n)
    return report


def _best(fn: Any, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    report = _report(n)
    sample = next(iter(report["findings"]))
    k = 2_000
    validate = _best(lambda: [Finding.model_validate(sample) for _ in range(k)]) / k
    dumps = _best(lambda: [json.dumps(sample) for _ in range(k)]) / k
    as_dict = _best(lambda: write_json(report, io.StringIO()))
    typed = _best(lambda: JsonReporter().render(TypedReport.of(report), RenderOptions()))
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; {n:,} findings")
    print("| case | time | per finding | ratio to baseline |")
    print("|---|---:|---:|---:|")
    print(f"| json.dumps one finding (baseline) | | {dumps * 1e6:.1f} µs | 1.00 |")
    print(f"| Finding.model_validate | | {validate * 1e6:.1f} µs | {validate / dumps:.2f} |")
    print(
        f"| JSON report from the dict (baseline) | {as_dict:.2f} s | "
        f"{as_dict / n * 1e6:.1f} µs | 1.00 |"
    )
    print(
        f"| JSON report from TypedReport | {typed:.2f} s | {typed / n * 1e6:.1f} µs | "
        f"{typed / as_dict:.2f} |"
    )


if __name__ == "__main__":
    main()
