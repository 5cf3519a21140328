"""`--format sarif`: SARIF 2.1.0 for code-scanning dashboards and CI gates.

One run. `tool.driver.rules` lists every rule of every pack used (not only those that fired),
with the pack's citation as help text and a cited source as `helpUri`. Each finding is a result:
level from severity, the log file (bundle-relative, under the `BUNDLEROOT` base) and the line its
record starts on as location, frames as related locations, the finding id as a partial
fingerprint (stable across runs), and baselined findings as accepted external suppressions.
Input errors are tool execution notifications; the invocation carries the gate's exit code.

GitHub code scanning reads `artifactLocation.uri` relative to the repository root and does not
resolve `originalUriBaseIds`, so with a SARIF root (`--sarif-root`, the bundle folder's path in
the repository) every uri is written repository-relative under `SRCROOT`, and `BUNDLEROOT` is
declared as that folder. GitHub rejects a run of more than 25,000 results and a file of more
than 10 MB gzipped: at most `MAX_RESULTS` results are written (most severe first, the rest
counted in a notification), and a file over `MAX_GZIP_BYTES` gzipped is reported through
`RenderOptions.warn`. The mapping is documented in docs/reports.md; tests validate the output
against the official schema shipped in `auditor/report/schemas/` and with Microsoft's SARIF
Multitool.
"""

from __future__ import annotations

import io
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any, TextIO, cast
from urllib.parse import quote

from auditor.core.jsonstream import Lazy, write_json
from auditor.core.report import ErrorEntry, EventRef, Finding, NoticeEntry, PackEntry, PackRule
from auditor.core.reportdoc import TypedReport
from auditor.report.base import RenderOptions
from auditor.report.common import (
    Located,
    finding_faces,
    finding_persons,
    first_event,
    rules_of,
    verdict,
)
from auditor.report.sarif_github import (
    MAX_GZIP_BYTES,
    MAX_RESULTS,
    GzipCounter,
    cap_message,
    information_uri,
    priority,
    results_cap,
)
from auditor.report.sarif_rules import LEVELS, sarif_rule

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
BASE_ID = "BUNDLEROOT"
#: The repository root, the base GitHub code scanning resolves every relative uri against.
ROOT_ID = "SRCROOT"
FINGERPRINT_KEY = "auditorFinding/v1"
#: Bundle inputs listed as artifacts (packs live outside the bundle: see driver properties).
_ROLES = {
    "log": "analysisTarget",
    "frame": "analysisTarget",
    "probe": "analysisTarget",
    "config": "userSpecifiedConfiguration",
}


def _uri(path: str) -> str:
    """A bundle-relative path as a relative URI reference (spaces, `#`, `%` ... escaped)."""
    return quote(path, safe="/")


def _artifact(path: str, root: str | None = None) -> dict[str, Any]:
    if root is None:
        return {"uri": _uri(path), "uriBaseId": BASE_ID}
    return {"uri": _uri(f"{root}/{path}" if root else path), "uriBaseId": ROOT_ID}


def _start_line(item: Located) -> int | None:
    """The line the record starts on: `start_line` (records of a multi-line document), else
    the line a line-located record is on."""
    line = getattr(item, "start_line", None)
    return item.line if line is None else int(line)


def _location(event: EventRef, root: str | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _artifact(event.file, root)}
    line = _start_line(event)
    if line is not None:
        physical["region"] = {"startLine": line}
    loc: dict[str, Any] = {"physicalLocation": physical}
    if event.record is not None:
        loc["logicalLocations"] = [
            {
                "name": f"record {event.record}",
                "fullyQualifiedName": f"{event.file}#{event.record}",
                "kind": "element",
            }
        ]
    return loc


def _properties(finding: Finding) -> dict[str, Any]:
    """What a code-scanning view filters results on (the first event's who, what and when)."""
    first = first_event(finding)
    return {
        "findingId": finding.id,
        "pack": finding.pack,
        "packVersion": finding.pack_version,
        "severity": finding.severity,
        "confidence": finding.confidence,
        "attempt": finding.attempt,
        "baselined": finding.baselined,
        "time": first.time,
        "eventId": first.event_id,
        "principal": first.principal,
        "organisation": first.organisation,
        "category": first.category,
        "service": first.service,
        "operation": first.operation,
        "operationKind": first.kind,
        "outcome": first.outcome,
        "faces": finding_faces(finding),
        "persons": len(finding_persons(finding)),
        "probes": [p.name for p in finding.probes],
    }


def _result(finding: Finding, index: int, rule_id: str, root: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": rule_id,
        "ruleIndex": index,
        "kind": "fail",
        "level": LEVELS.get(finding.severity, "warning"),
        "message": {"text": finding.message},
        "locations": [_location(first_event(finding), root)],
        "partialFingerprints": {FINGERPRINT_KEY: finding.id},
        "properties": _properties(finding),
    }
    related = []
    for i, fr in enumerate(finding.frames, start=1):
        faces = "not analysed" if fr.faces is None else f"{fr.faces} face(s)"
        related.append(
            {
                "id": i,
                "physicalLocation": {"artifactLocation": _artifact(fr.path, root)},
                "message": {"text": f"frame: {faces}" + (f" ({fr.error})" if fr.error else "")},
            }
        )
    if related:
        result["relatedLocations"] = related
    if finding.baselined:
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": "accepted in the baseline file (see its reason, who and expiry)",
            }
        ]
    return result


def _notification(item: NoticeEntry | ErrorEntry, level: str, root: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"level": level, "message": {"text": item.message}}
    if item.file:
        physical: dict[str, Any] = {"artifactLocation": _artifact(item.file, root)}
        line = _start_line(item)
        if line is not None:
            physical["region"] = {"startLine": line}
        out["locations"] = [{"physicalLocation": physical}]
    return out


def _run_guid(run_id: str) -> str | None:
    try:
        return str(uuid.UUID(hex=run_id))
    except ValueError:
        return None


def _bases(root: str | None) -> dict[str, Any]:
    """`originalUriBaseIds`: the bundle folder, and with a SARIF root the repository root it
    sits in (left without a uri: only the consumer knows where the checkout is)."""
    bundle = {"description": {"text": "The audit bundle folder; every path is relative to it."}}
    if root is None:
        return {BASE_ID: bundle}
    return {
        ROOT_ID: {"description": {"text": "The repository root; every uri is relative to it."}},
        BASE_ID: {
            **({"uri": f"{_uri(root)}/"} if root else {}),
            "uriBaseId": ROOT_ID,
            "description": {"text": "The audit bundle folder, inside the repository."},
        },
    }


class _Results:
    """The results, made one by one while the document is written (the findings may be
    streamed), and the rules they point into. A stored finding of a rule its pack no longer
    lists gets a rule of its own, appended while the results are written: keys are written
    sorted, so `tool` (and its rules) comes after `results`, when those rules are known."""

    def __init__(self, report: TypedReport, root: str | None, limit: int) -> None:
        self.report = report
        self.root = root
        self.cap = results_cap(report, limit)
        self.pairs = rules_of(report)
        self.index = {(p.id, r.id): i for i, (p, r) in enumerate(self.pairs)}
        counts = Counter(r.id for _, r in self.pairs)
        # rule ids are meant to be unique across packs; if two packs share one, qualify both
        self.qualify = {rid for rid, n in counts.items() if n > 1}

    def _kept(self) -> Iterator[Finding]:
        """The findings the results cap keeps (all of them when there is no cap)."""
        cap = self.cap
        room = cap[1] if cap is not None else 0
        for f in self.report.findings:
            if cap is not None:
                key = priority(f)
                if key > cap[0] or (key == cap[0] and room == 0):
                    continue
                if key == cap[0]:
                    room -= 1
            yield f

    def _rule_index(self, f: Finding) -> int:
        i = self.index.get((f.pack, f.rule))
        if i is None:  # a finding of a rule the pack no longer lists (stored run)
            pack = PackEntry(
                id=f.pack,
                version=f.pack_version,
                sha256="",
                path="",
                status="",
                title=f.pack,
                citation="",
                sources=(),
                rules=(),
            )
            rule = PackRule(
                id=f.rule,
                title=f.title,
                severity=f.severity,
                confidence=f.confidence,
                kind="prohibit",
                cite=(),
            )
            self.pairs.append((pack, rule))
            i = self.index[(f.pack, f.rule)] = len(self.pairs) - 1
        return i

    def results(self) -> Iterator[dict[str, Any]]:
        for f in self._kept():
            i = self._rule_index(f)
            yield _result(f, i, self._rule_id(f.pack, f.rule), self.root)

    def rules(self) -> list[dict[str, Any]]:
        return [sarif_rule(p, r, self._rule_id(p.id, r.id)) for p, r in self.pairs]

    def _rule_id(self, pack: str, rule: str) -> str:
        """Rule ids are meant to be unique across packs; if two packs share one, both are
        qualified with their pack."""
        return f"{pack}/{rule}" if rule in self.qualify else rule


def _invocation(report: TypedReport, root: str | None, cap_note: str | None) -> dict[str, Any]:
    """The one invocation: the gate's exit code and why, input errors and notices."""
    head = report.head
    decided = verdict(report)
    invocation: dict[str, Any] = {
        "executionSuccessful": head.run.status == "complete",
        "exitCode": decided.exit_code,
        "exitCodeDescription": decided.short(),
        "startTimeUtc": head.run.started,
        "endTimeUtc": head.run.finished,
        "toolExecutionNotifications": [_notification(e, "error", root) for e in head.errors],
        "toolConfigurationNotifications": [_notification(n, "warning", root) for n in head.notices],
    }
    if cap_note is not None:
        invocation["toolExecutionNotifications"].append(
            {"level": "warning", "message": {"text": cap_note}}
        )
    return invocation


def _driver(report: TypedReport, made: _Results) -> dict[str, Any]:
    tool = report.head.tool
    return {
        "name": tool.name,
        "version": tool.version,
        "semanticVersion": tool.version,
        "rules": Lazy(made.rules, len(made.pairs)),
        "properties": {
            "packs": [
                {"id": p.id, "version": p.version, "sha256": p.sha256, "path": p.path}
                for p in report.head.packs
            ]
        },
    }


def to_sarif(
    report: TypedReport,
    root: str | None = None,
    info_uri: str | None = None,
    limit: int = MAX_RESULTS,
) -> dict[str, Any]:
    """The SARIF log as a dict whose results (and rules) are `Lazy`: write it with `write_json`.

    `root` is the bundle's path in the repository (`check_root`), `info_uri` the tool's web
    page, `limit` the most results written."""
    head = report.head
    made = _Results(report, root, limit)
    written = limit if made.cap is not None else len(report.findings)
    cap_note = cap_message(report, limit) if made.cap is not None else None
    sarif_run: dict[str, Any] = {
        "tool": {"driver": _driver(report, made)},
        "automationDetails": {"id": f"auditor/{head.run.id}"},
        "originalUriBaseIds": _bases(root),
        "artifacts": [
            {
                "location": _artifact(i.path, root),
                "hashes": {"sha-256": i.sha256},
                "roles": [_ROLES[i.kind]],
            }
            for i in head.inputs
            if i.kind in _ROLES and i.sha256
        ],
        "invocations": [_invocation(report, root, cap_note)],
        "results": Lazy(made.results, written),
        "columnKind": "unicodeCodePoints",
        "properties": {
            "bundle": head.bundle.name,
            "summary": head.summary.model_dump(exclude_unset=True),
        },
    }
    if info_uri:
        sarif_run["tool"]["driver"]["informationUri"] = info_uri
    guid = _run_guid(head.run.id)
    if guid:
        sarif_run["automationDetails"]["guid"] = guid
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [sarif_run]}


class SarifReporter:
    """See `Reporter.render`."""

    name = "sarif"
    extension = "sarif"

    def write(self, report: TypedReport, options: RenderOptions, out: TextIO) -> None:
        """See `StreamingReporter.write`: results are written one by one; the results cap and
        a file over GitHub's gzipped size limit are said through `options.warn`."""
        doc = to_sarif(report, options.sarif_root, information_uri())
        if options.warn is not None and len(report.findings) > MAX_RESULTS:
            options.warn(cap_message(report))
        sink = GzipCounter(out)
        # keys sorted: a stored run (keys sorted by the store) renders byte for byte the same
        write_json(doc, cast(TextIO, sink))
        size = sink.close()
        if options.warn is not None and size > MAX_GZIP_BYTES:
            options.warn(
                f"SARIF is {size / 1048576:.1f} MB gzipped: GitHub code scanning rejects a "
                f"file over {MAX_GZIP_BYTES // 1048576} MB gzipped (audit fewer packs with "
                "--policy, or the bundle's logs in parts, for the upload)"
            )

    def render(self, report: TypedReport, options: RenderOptions) -> str:
        """See `Reporter.render`."""
        buf = io.StringIO()
        self.write(report, options, buf)
        return buf.getvalue()
