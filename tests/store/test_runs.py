"""Runs in the store, on SQLite and on a real PostgreSQL server: the streaming writer, reading
back in report order, failed runs, and byte-identical re-rendering through the real CLI."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from auditor.core.errors import StoreError
from auditor.core.report import Finding, ReportHead
from auditor.core.reportdoc import TypedReport
from auditor.run.audit import run_audit
from auditor.run.options import AuditOptions
from auditor.store import BATCH, Store

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo"
FORMATS = ("json", "sarif", "junit", "csv", "html", "table")


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The report of a real audit of the demo bundle, frames included (not stored)."""
    bundle = tmp_path_factory.mktemp("demo") / "demo"
    shutil.copytree(DEMO, bundle)
    result = run_audit(bundle, AuditOptions(workers=1, use_cache=False))
    assert result.report["findings"] and result.report["run"]["status"] == "complete"
    return {**result.report, "findings": list(result.report["findings"])}  # streamed: a list


def head_of(report: dict[str, Any]) -> ReportHead:
    """The typed head the writer's `finish` takes."""
    return TypedReport.of(report).head


def typed(findings: Iterable[dict[str, Any]]) -> Iterator[Finding]:
    """Finding dicts as the typed findings the writer takes."""
    return (Finding.model_validate(f) for f in findings)


def many_findings(report: dict[str, Any], n: int) -> Iterator[dict[str, Any]]:
    """`n` distinct findings made from the real ones (new ids, same shape)."""
    real = report["findings"]
    for i in range(n):
        f = copy.deepcopy(real[i % len(real)])
        f["id"] = f"{i:020d}"
        f["message"] = f"{f['message']} #{i} ü"
        yield f


def new_run(report: dict[str, Any], run_id: str) -> dict[str, Any]:
    out = copy.deepcopy(report)
    out["run"]["id"] = run_id
    return out


def test_save_run_round_trips_the_report(store_url: str, demo_report: dict[str, Any]) -> None:
    with Store(store_url) as store:
        store.save_run(demo_report, "/bundles/demo", 1)
        run_id = demo_report["run"]["id"]
        assert store.load_report(run_id).document() == demo_report
        assert list(store.iter_findings(run_id)) == demo_report["findings"]
        (row,) = store.runs()
        assert (row.id, row.status, row.exit_code, row.bundle) == (
            run_id,
            "complete",
            1,
            "/bundles/demo",
        )
        assert row.findings == len(demo_report["findings"]) and row.errors == 0
        assert row.started == datetime.fromisoformat(demo_report["run"]["started"])
        found = store.report(run_id[:6])
        assert found is not None and found.document() == demo_report
        assert store.find_run(run_id[:6]) is not None and store.find_run("zz") is None


def test_writer_streams_findings_in_batches(store_url: str, demo_report: dict[str, Any]) -> None:
    """Findings reach the database a batch at a time, before `finish`, and come back in order."""
    run_id = "stream-0001"
    total = 2 * BATCH + 345
    seen_while_writing: list[tuple[int, str]] = []
    with Store(store_url) as store, Store(store_url) as other:

        def findings() -> Iterator[dict[str, Any]]:
            for i, f in enumerate(many_findings(demo_report, total)):
                if i in (BATCH + 10, 2 * BATCH + 10):
                    row = other.find_run(run_id)
                    assert row is not None
                    seen_while_writing.append(
                        (sum(1 for _ in other.iter_findings(run_id)), row.status)
                    )
                yield f

        started = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        with store.open_run(run_id, "/b", started, "9.9.9") as w:
            w.add_inputs(head_of(demo_report).inputs)
            w.add_findings(typed(findings()))
            w.add_findings([])  # may be called many times, even with nothing
            head = head_of(new_run(demo_report, run_id))
            w.finish(head, 3)
        assert seen_while_writing == [(BATCH, "running"), (2 * BATCH, "running")]
        back = list(other.iter_findings(run_id))
        assert back == list(many_findings(demo_report, total))
        report = other.load_report(run_id)
        assert report.findings.dumped() == back and report.head == head
        row = other.find_run(run_id)
        assert row is not None and row.findings == total and row.exit_code == 3
        assert row.tool_version == "9.9.9" and row.started == started


def test_error_inside_the_block_marks_the_run_failed(
    store_url: str, demo_report: dict[str, Any]
) -> None:
    with Store(store_url) as store:
        with (
            pytest.raises(RuntimeError, match="boom"),
            store.open_run("fail-1", "/b", datetime.now(UTC), "0") as w,
        ):
            w.add_findings(typed(many_findings(demo_report, BATCH + 1)))
            raise RuntimeError("boom")
        row = store.find_run("fail-1")
        assert row is not None and row.status == "failed" and row.exit_code == -1
        with pytest.raises(StoreError, match="did not finish .status failed"):
            store.load_report("fail-1")


def test_leaving_without_finish_marks_failed(store_url: str) -> None:
    with Store(store_url) as store:
        with (
            pytest.raises(StoreError, match="without finish"),
            store.open_run("open-1", "/b", datetime.now(UTC), "0"),
        ):
            pass
        row = store.find_run("open-1")
        assert row is not None and row.status == "failed"


def test_finish_checks_what_it_is_given(store_url: str, demo_report: dict[str, Any]) -> None:
    with Store(store_url) as store, store.open_run("chk-1", "/b", datetime.now(UTC), "0") as w:
        with pytest.raises(StoreError, match="is run"):
            w.finish(head_of(demo_report), 0)
        w.add_findings(typed(demo_report["findings"][:2]))
        w.finish(head_of(new_run(demo_report, "chk-1")), 0)
        with pytest.raises(StoreError, match="already finished"):
            w.add_findings([])
    with Store(store_url) as store:
        assert store.load_report("chk-1").findings.dumped() == demo_report["findings"][:2]
        row = store.find_run("chk-1")
        assert row is not None and "findings" not in json.loads(row.report)


def test_save_report_takes_any_iterable_of_findings(
    store_url: str, demo_report: dict[str, Any]
) -> None:
    with Store(store_url) as store:
        store.save_run({**demo_report, "findings": iter(demo_report["findings"])}, "/b", 1)
        assert store.load_report(demo_report["run"]["id"]).document() == demo_report


def test_duplicate_run_id_is_a_store_error(store_url: str, demo_report: dict[str, Any]) -> None:
    with Store(store_url) as store:
        store.save_run(demo_report, "/b", 1)
        with pytest.raises(StoreError, match="cannot start run"):
            store.save_run(demo_report, "/b", 1)
        assert store.load_report(demo_report["run"]["id"]).document() == demo_report


def test_cli_report_re_renders_byte_for_byte(
    store_url: str, demo_bundle: Path, cli: Callable[..., Any], tmp_path: Path
) -> None:
    """Every format rendered by `auditor audit` equals `auditor report RUN` from the store."""
    fmt_args = [a for f in FORMATS if f != "table" for a in ("-f", f)]
    first, again = tmp_path / "first", tmp_path / "again"
    done = cli(
        "audit", demo_bundle, "--db", store_url, "--workers", "1", *fmt_args, "--output-dir", first
    )
    assert done.exit_code == 1, done.output
    run_id = json.loads((first / "report.json").read_text())["run"]["id"]
    listed = cli("runs", "--db", store_url, "--json")
    assert [json.loads(x)["id"] for x in listed.stdout.splitlines()] == [run_id]
    shown = cli("report", run_id[:10], "--db", store_url, *fmt_args, "--output-dir", again)
    assert shown.exit_code == 0, shown.output
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in again.iterdir()) and len(names) == len(FORMATS) - 1
    for name in names:
        assert (first / name).read_bytes() == (again / name).read_bytes(), name


def test_cli_report_refuses_a_failed_run(store_url: str, cli: Callable[..., Any]) -> None:
    with (
        Store(store_url) as store,
        pytest.raises(KeyError),
        store.open_run("abcdef-failed", "/b", datetime.now(UTC), "0"),
    ):
        raise KeyError("x")
    listed = cli("runs", "--db", store_url)
    assert "failed" in listed.stdout and "exit -" in listed.stdout
    shown = cli("report", "abcdef", "--db", store_url)
    assert shown.exit_code == 2
    assert "did not finish (status failed)" in shown.stderr
    assert "Traceback" not in shown.output
