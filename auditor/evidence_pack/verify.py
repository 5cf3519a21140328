"""`auditor verify`: reproduce a report from the material it was made from.

Two modes:
- **full**: a report and the bundle (a folder, or an fsspec URL such as `s3://bucket/prefix/`
  read through `config.bundlefs` with the audit's own rules). Every input's SHA-256 is checked
  again, the packs' versions and hashes are compared with the packs available here, the audit
  is run again with
  the report's settings (same packs, frame mode, probe tolerance, upsample, descriptor
  kernel), and the new report is compared with the old one point by point, outside the `run`
  block.
- **log-only**: a report and an evidence archive (`auditor export`). The archive's manifest is
  checked, its packs and config must hash as the report says, the published records are put
  back at their places in a sparse bundle (sparse.py) and audited again without frames; every
  published finding must come back with the same id and log evidence.

This module never prints; the command line renders the `Verification` it returns.
"""

from __future__ import annotations

import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.config.bundlefs import BundleFS
from auditor.core.defaults import PROBE_TOLERANCE, UPSAMPLE
from auditor.core.errors import ConfigError
from auditor.evidence_pack import archive as archive_mod
from auditor.evidence_pack.compare import (
    Point,
    compare_block,
    compare_findings,
    engine_point,
)
from auditor.evidence_pack.points import (
    check_inputs,
    config_point,
    manifest_point,
    pack_point,
    records_point,
    resolve_packs,
    shipped_point,
)
from auditor.evidence_pack.shape import MAX_REPORT_BYTES, parse_report
from auditor.evidence_pack.sparse import (
    overrides_toml,
    pin_years,
    syslog_years,
    write_sparse,
)
from auditor.run.options import AuditResult

#: The report blocks compared in full mode besides findings (the `run` block never is).
BLOCKS = (
    "bundle",
    "settings",
    "inputs",
    "packs",
    "summary",
    "undecided",
    "notices",
    "probes",
    "errors",
)


@dataclass
class Verification:
    """Every checked point, and whether the re-run itself was complete."""

    mode: str
    points: list[Point] = field(default_factory=list)
    rerun_incomplete: bool = False
    rerun_errors: list[str] = field(default_factory=list)

    @property
    def reproduced(self) -> bool:
        return all(p.ok for p in self.points)

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "reproduced": self.reproduced,
            "rerun_incomplete": self.rerun_incomplete,
            "rerun_errors": self.rerun_errors,
            "points": [p.as_dict() for p in self.points],
        }


def load_report(path: Path) -> dict[str, Any]:
    """A JSON report from disk; anything that is not one is a ConfigError (exit 2).

    The file is checked before it is opened (a FIFO would block, /dev/zero never ends) and
    read and parsed under the bounds of `shape.parse_report`.
    """
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{path}: not a regular file")
        if info.st_size > MAX_REPORT_BYTES:
            raise ConfigError(f"{path}: larger than {MAX_REPORT_BYTES:,} bytes")
        with path.open("rb") as fh:
            data = fh.read(MAX_REPORT_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the report: {exc.strerror or exc}") from None
    return parse_report(data, str(path))


# -- full mode ---------------------------------------------------------------------------------


def rerun_options(report: dict[str, Any], workers: int, baseline: Path | None) -> Any:
    """AuditOptions from the report's settings (and its face engine's parameters).

    The values are the report's own, not coerced: `AuditOptions` checks them against the very
    ranges the command line offers (a report asking for upsample 4 is refused, exit 2, instead
    of costing minutes and gigabytes per frame).
    """
    from auditor.run.options import AuditOptions

    settings = report.get("settings") or {}
    engine = report.get("face_engine") or {}
    params = engine.get("params") or {}
    try:
        return AuditOptions(
            workers=workers,
            frames=settings.get("frames", "referenced"),
            fail_on=settings.get("fail_on", "low"),
            fail_on_undecided=settings.get("fail_on_undecided", False),
            face_upsample=params.get("upsample", UPSAMPLE),
            # reports from before descriptor kernels existed were made with dlib's
            face_kernel=params.get("kernel", "dlib"),
            face_detector=params.get("detector", "hog"),
            probe_tolerance=settings.get("probe_tolerance", PROBE_TOLERANCE),
            use_cache=False,
            store_url=None,
            baseline=str(baseline) if baseline is not None else None,
        )
    except ConfigError as exc:
        raise ConfigError(f"the report's settings cannot be re-run: {exc}") from None


def verify_bundle(
    report: dict[str, Any],
    bundle: BundleFS,
    *,
    policy_files: list[Path],
    workers: int = 0,
    baseline: Path | None = None,
    archive_packs: dict[str, bytes] | None = None,
) -> Verification:
    """Full mode: hashes, packs, and a complete re-run compared point by point."""
    from auditor.run.audit import run_audit

    result = Verification("full")
    options = rerun_options(report, workers, baseline)
    result.points.append(check_inputs(report, bundle))
    with tempfile.TemporaryDirectory(prefix="auditor-verify-") as tmp:
        files = list(policy_files) or _write_packs(Path(tmp), archive_packs or {})
        packs = resolve_packs(report, files)
        result.points.append(pack_point(report, packs))
        if not policy_files and archive_packs:
            result.points.append(shipped_point(packs))
        if report.get("settings", {}).get("baseline") and baseline is None:
            result.points.append(
                Point(
                    "baseline",
                    True,
                    "the report used a baseline file; "
                    "without --baseline the `baselined` marks are not "
                    "compared",
                    note=True,
                )
            )
        done = run_audit(bundle.root, options, packs=packs)
    try:  # the re-run's findings stream from its spill files until it is closed
        new = done.report
        _compare_full(
            report,
            new,
            result,
            compare_baselined=baseline is not None
            or not report.get("settings", {}).get("baseline"),
        )
        result.rerun_errors = [_error_line(e) for e in new.get("errors", [])]
        result.rerun_incomplete = bool(new.get("errors"))
    finally:
        done.close()
    return result


def _write_packs(tmp: Path, packs: dict[str, bytes]) -> list[Path]:
    out = []
    for name, data in sorted(packs.items()):
        target = tmp / "packs" / Path(name).name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        out.append(target)
    return out


def _compare_full(
    old: dict[str, Any], new: dict[str, Any], result: Verification, compare_baselined: bool
) -> None:
    engine = engine_point(old.get("face_engine"), new.get("face_engine"))
    if old.get("tool") != new.get("tool"):
        result.points.append(
            Point(
                "tool",
                True,
                f"the report was made by auditor "
                f"{(old.get('tool') or {}).get('version')}, this is "
                f"{(new.get('tool') or {}).get('version')}",
                note=True,
            )
        )
    old_f, new_f = old.get("findings", []), new.get("findings", [])
    if not compare_baselined:
        old_f = [{k: v for k, v in f.items() if k != "baselined"} for f in old_f]
        new_f = [{k: v for k, v in f.items() if k != "baselined"} for f in new_f]
    result.points.extend(
        compare_findings(old_f, new_f, log_only=False, engine_differs=engine is not None)
    )
    for block in BLOCKS:
        old_block, new_block = old.get(block), new.get(block)
        if block == "summary" and not compare_baselined:
            old_block = {k: v for k, v in (old_block or {}).items() if k != "baselined"}
            new_block = {k: v for k, v in (new_block or {}).items() if k != "baselined"}
        if block == "settings" and not compare_baselined:
            old_block = {k: v for k, v in (old_block or {}).items() if k != "baseline"}
            new_block = {k: v for k, v in (new_block or {}).items() if k != "baseline"}
        result.points.append(compare_block(block, old_block, new_block))
    if engine is not None:
        result.points.append(engine)


def _error_line(err: dict[str, Any]) -> str:
    where = err.get("file", "")
    if err.get("line") is not None:
        where += f":{err['line']}"
    elif err.get("record") is not None:
        where += f" record {err['record']}"
    return f"{where}: {err.get('message', '')}"


# -- log-only mode -----------------------------------------------------------------------------


def verify_archive(
    report: dict[str, Any] | None,
    archive: Path,
    *,
    policy_files: list[Path],
    bundle: BundleFS | None = None,
    workers: int = 0,
    baseline: Path | None = None,
) -> Verification:
    """Log-only mode (or full mode with the archive's exact packs when `bundle` is given)."""
    contents = archive_mod.read(archive)
    points = [manifest_point(contents.manifest_problems)]
    if report is not None:
        points.append(_given_report_point(report, contents.report))
    if bundle is not None:
        result = verify_bundle(
            contents.report,
            bundle,
            policy_files=policy_files,
            workers=workers,
            baseline=baseline,
            archive_packs=contents.packs,
        )
        result.points[:0] = points
        return result
    result = Verification("log-only", points)
    _log_only(contents, policy_files, workers, result)
    return result


def _given_report_point(given: dict[str, Any], archived: dict[str, Any]) -> Point:
    """The report named on the command line against the archive's own report.json."""
    diffs = compare_block("report", _outside_run(given), _outside_run(archived))
    return Point(
        "report",
        diffs.ok,
        "the given report is the archive's report.json"
        if diffs.ok
        else "the given report differs from the archive's report.json",
        diffs.details,
    )


def _log_only(
    contents: archive_mod.Contents, policy_files: list[Path], workers: int, result: Verification
) -> None:
    """Config and records against the report, then the published records audited again and
    every published finding looked for in the re-run."""
    report = contents.report
    result.points.append(config_point(report, contents.config))
    result.points.append(records_point(report, contents.records))
    done = _rerun_sparse(report, contents, policy_files, workers, result)
    try:  # the re-run's findings stream from its spill files until it is closed
        new = done.report if done is not None else {"findings": [], "errors": []}
        result.points.extend(
            compare_findings(
                report.get("findings", []),
                new.get("findings", []),
                log_only=True,
                engine_differs=False,
            )
        )
    finally:
        if done is not None:
            done.close()
    result.points.append(
        Point(
            "frames",
            True,
            "frame evidence is not checked from an archive "
            "(frames are not published; thumbnails are blurred)",
            note=True,
        )
    )
    result.rerun_errors = [_error_line(e) for e in new.get("errors", [])]
    result.rerun_incomplete = bool(new.get("errors"))


def _rerun_sparse(
    report: dict[str, Any],
    contents: archive_mod.Contents,
    policy_files: list[Path],
    workers: int,
    result: Verification,
) -> AuditResult | None:
    """Audit the published records at their places in a sparse bundle: the re-run (the
    caller closes it), or None when no record was published."""
    from dataclasses import replace

    from auditor.run.audit import run_audit

    options = replace(rerun_options(report, workers, None), frames="none")
    tmp = Path(tempfile.mkdtemp(prefix="auditor-verify-"))
    try:
        files = list(policy_files) or _write_packs(tmp, contents.packs)
        packs = resolve_packs(report, files)
        result.points.append(pack_point(report, packs))
        if not policy_files and contents.packs:
            result.points.append(shipped_point(packs))
        if not contents.records:
            # a run without findings publishes no record: there is nothing to re-run, and an
            # empty bundle would only say "nothing to audit"
            result.points.append(
                Point("re-run", True, "no published record: nothing to re-run", note=True)
            )
            return None
        root = tmp / "bundle"
        root.mkdir()
        sources = write_sparse(root, contents.records)
        for name, data in contents.config.items():
            (root / name).write_bytes(data)
        with (root / "audit.toml").open("a", encoding="utf-8") as fh:
            fh.write(overrides_toml(sources))
        pin_years(root, syslog_years(report))
        return run_audit(root, options, packs=packs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _outside_run(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "run"}
