"""The same bundle audited on the local pool, a LocalCluster and a real scheduler + two workers
gives byte-identical JSON reports outside the `run` block (issue 10, item 2)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from scale_helpers import SCALE_FRAMES, Cluster, audit_cli, strip_run


def test_local_report_is_a_real_audit(local_report: str) -> None:
    """The reference itself did the work the comparisons rely on."""
    report = json.loads(local_report)
    summary = report["summary"]
    assert summary["frames_analysed"] == SCALE_FRAMES + 8  # and the demo's 8
    assert summary["faces_detected"] > SCALE_FRAMES
    assert len(report["findings"]) > SCALE_FRAMES  # every police search is a finding (+ demo)
    messages = [(e["file"], e["message"]) for e in report["errors"]]
    assert any(f == "frames/scale/broken.jpg" for f, _ in messages)
    assert not any(f == "frames/scale/missing.jpg" for f, _ in messages)  # a sample: no error
    assert any(e["file"] == "logs/scale/part-03.jsonl" and e["line"] for e in report["errors"])
    assert "executor" not in report["run"] and report["run"]["workers"] == 2


def test_local_cluster_gives_the_same_report(
    scale_bundle: Path, local_report: str, tmp_path: Path
) -> None:
    out = tmp_path / "report.json"
    done = audit_cli(scale_bundle, out, "--scheduler", "local", "--workers", "2")
    assert done.returncode == 3, done.stderr
    text = out.read_text()
    run = json.loads(text)["run"]
    assert run["executor"] == "dask" and run["scheduler"] == "local"
    assert run["dask_workers"] == 2 and run["dask_threads"] == 2
    assert strip_run(text) == strip_run(local_report)


def test_scheduler_and_two_workers_give_the_same_report(
    scale_bundle: Path, local_report: str, cluster: Cluster, tmp_path: Path
) -> None:
    out = tmp_path / "report.json"
    done = audit_cli(scale_bundle, out, "--scheduler", cluster.address)
    assert done.returncode == 3, done.stderr + cluster.log_text()
    text = out.read_text()
    run = json.loads(text)["run"]
    assert run["executor"] == "dask" and run["scheduler"] == cluster.address
    assert run["dask_workers"] == 2
    assert strip_run(text) == strip_run(local_report)


def test_scheduler_from_the_environment(
    scale_bundle: Path, local_report: str, cluster: Cluster, tmp_path: Path
) -> None:
    """AUDITOR_SCHEDULER stands for --scheduler; frames are skipped to keep this one short."""
    out = tmp_path / "report.json"
    done = audit_cli(scale_bundle, out, "--no-frames", env={"AUDITOR_SCHEDULER": cluster.address})
    assert done.returncode == 3, done.stderr
    report = json.loads(out.read_text())
    assert report["run"]["executor"] == "dask"
    reference = json.loads(local_report)
    assert report["summary"]["events"] == reference["summary"]["events"]
    assert [i for i in report["inputs"] if i["kind"] == "log"] == [
        i for i in reference["inputs"] if i["kind"] == "log"
    ]


def test_faces_command_on_the_cluster(cluster: Cluster, tmp_path: Path) -> None:
    """`auditor faces` with relative paths: the workers run elsewhere (their own working
    directory), so the paths sent to them must be absolute; the rows equal the local run's."""
    import subprocess

    from scale_helpers import AUDITOR, FIXTURES

    def faces(*extra: str) -> list[dict[str, object]]:
        done = subprocess.run(
            [str(AUDITOR), "faces", "faces", "--json", "--no-cache", *extra],
            capture_output=True,
            text=True,
            cwd=FIXTURES,
            timeout=600,
            env={**os.environ},
        )
        assert done.returncode == 0, done.stderr
        rows = json.loads(done.stdout)
        for row in rows:
            row.pop("timings")
        return rows

    local = faces("--workers", "1")
    remote = faces("--scheduler", cluster.address)
    assert remote == local and len(local) > 50
    assert all(not str(r["path"]).startswith("/") for r in remote)
